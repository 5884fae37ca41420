//! Resolving inside one root directory: the kernel does it with `openat2(RESOLVE_IN_ROOT)` when
//! the whole path exists; a path with missing parts (where a file is about to be created), or a
//! kernel without openat2 (before 5.6, or a seccomp filter refusing it), takes the walk.

use crate::fd::{fd_path, lstat_at, open_dir, openat2, readlink_at};
use crate::walk::{join, walk, Node, Tree};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once openat2 was found missing or refused, so later calls go straight to the walk.
static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

struct RootTree(OwnedFd);

impl Tree for RootTree {
    fn lookup(&self, comps: &[Vec<u8>]) -> io::Result<Node> {
        let rel = join(comps);
        Ok(match lstat_at(self.0.as_raw_fd(), &rel)? {
            None => Node::Missing,
            Some(st) if st.st_mode & libc::S_IFMT == libc::S_IFLNK => Node::Link(readlink_at(self.0.as_raw_fd(), &rel)?),
            Some(_) => Node::Present,
        })
    }
}

/// `openat2` with RESOLVE_IN_ROOT; `Ok(None)` when the path has a missing part or the kernel
/// cannot do it (the walk answers then).
fn open_in_root(root: RawFd, path: &[u8], follow_last: bool) -> io::Result<Option<OwnedFd>> {
    if NO_OPENAT2.load(Ordering::Relaxed) {
        return Ok(None);
    }
    let flags = libc::O_PATH | libc::O_CLOEXEC | if follow_last { 0 } else { libc::O_NOFOLLOW };
    let e = match openat2(root, path, flags, libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS) {
        Ok(fd) => return Ok(Some(fd)),
        Err(e) => e,
    };
    match e.raw_os_error() {
        Some(libc::ENOENT | libc::ENOTDIR) => Ok(None),
        Some(libc::ENOSYS | libc::EPERM | libc::EINVAL | libc::E2BIG) => {
            NO_OPENAT2.store(true, Ordering::Relaxed);
            Ok(None)
        }
        _ => Err(e),
    }
}

/// The host path of `path` (read as absolute inside `root`), every symlink followed within the
/// root (the last one only with `follow_last`); missing components are kept as written. A
/// symlink loop is ELOOP.
pub fn resolve_in_root(root: &Path, path: &[u8], follow_last: bool) -> io::Result<PathBuf> {
    let dir = open_dir(root)?;
    if let Some(fd) = open_in_root(dir.as_raw_fd(), path, follow_last)? {
        // The kernel names what it opened by its real path: re-root it on `root` as given (where
        // /proc cannot say, as in a half-built container, the walk answers).
        if let (Ok(real_root), Ok(real)) = (fd_path(dir.as_raw_fd()), fd_path(fd.as_raw_fd())) {
            if let Ok(rel) = real.strip_prefix(&real_root) {
                return Ok(rooted(root, rel.as_os_str().as_bytes()));
            }
        }
    }
    walk_in(dir, root, path, follow_last)
}

/// [`resolve_in_root`] without the kernel's help, as on a kernel without openat2 (for tests that
/// hold the two to the same answers).
pub fn resolve_in_root_by_walk(root: &Path, path: &[u8], follow_last: bool) -> io::Result<PathBuf> {
    walk_in(open_dir(root)?, root, path, follow_last)
}

fn walk_in(dir: OwnedFd, root: &Path, path: &[u8], follow_last: bool) -> io::Result<PathBuf> {
    let comps = walk(&RootTree(dir), path, follow_last)?;
    Ok(rooted(root, &join(&comps)))
}

/// `root` joined with `rel` (the root itself, without a trailing `/`, for an empty one).
pub fn rooted(root: &Path, rel: &[u8]) -> PathBuf {
    if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(std::ffi::OsStr::from_bytes(rel))
    }
}
