//! Path confinement, the one implementation kiln has: a path joined inside a root as the kernel
//! would after a chroot (`..` stops at the root, every symlink, absolute or climbing, is read
//! relative to it), through `openat2(RESOLVE_IN_ROOT)` where the kernel has it and a walk of the
//! same rule where it does not; and directories opened without following any symlink at all.
#![deny(missing_docs)]

mod fd;
mod layers;
mod nofollow;
mod root;
mod walk;

pub use layers::resolve_in_layers;
pub use nofollow::{clean, clean_clamped, file_type, open_dir_at, stat_at, DirError, NoFollowRoot};
pub use root::{resolve_in_root, resolve_in_root_by_walk};

/// Linux's limit on symlinks followed while resolving one path (past it: ELOOP).
pub const MAX_SYMLINKS: usize = 40;

#[cfg(test)]
mod tests;
