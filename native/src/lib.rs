//! kiln's native toolbox: the byte-level work (overlay mounts, layer diff and apply, tree scans,
//! copies and clones, hashing, file locks) exposed to Node as async functions that run on libuv's
//! thread pool, never on the event loop.
#![deny(missing_docs)]

mod blob_ingest;
mod clone_tree;
mod confine;
mod error;
mod copy_plan;
mod file_data;
mod file_lock;
mod hash;
mod layer;
mod mount;
mod parallel;
mod tree_scan;

pub use blob_ingest::BlobIngest;
pub use clone_tree::{clone_tree, clone_tree_js, CloneStats};
pub use confine::{resolve_in_layers_js, resolve_in_root_js};
pub use copy_plan::{apply_copy_plan, apply_copy_plan_js, CopyPlan, CopyPlanOp};
pub use file_lock::{try_lock_exclusive, try_lock_file_js};
pub use hash::{sha256_file, sha256_files};
pub use tree_scan::{scan_tree, scan_tree_js, TreeEntry};
pub use layer::{apply_layer, archive_compression, compress_layer, diff_layer, extract_archive, layer_entries};
pub use mount::{mount_overlay, mount_overlay_js, unmount, unmount_detach_sync, unmount_js, Overlay, Strategy};
