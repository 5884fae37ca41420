//! kiln's native toolbox: byte-level work (hashing, later layers and snapshots) exposed to
//! Node as async functions that run on libuv's thread pool, never on the event loop.
#![deny(missing_docs)]

mod hash;

pub use hash::sha256_file;
