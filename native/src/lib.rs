//! kiln's native toolbox: byte-level work (hashing, later layers and snapshots) exposed to
//! Node as async functions that run on libuv's thread pool, never on the event loop.
#![deny(missing_docs)]

mod clone_tree;
mod hash;
mod layer;
mod mount;

pub use clone_tree::{clone_tree, clone_tree_js, CloneStats};
pub use hash::sha256_file;
pub use layer::{apply_layer, compress_layer, diff_layer, layer_entries};
pub use mount::{mount_overlay, mount_overlay_js, unmount, unmount_detach_sync, unmount_js, Overlay, Strategy};
