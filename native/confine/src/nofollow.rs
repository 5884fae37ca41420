//! Directories opened inside a root without following any symlink, for writers that must never
//! write through one (layer apply): tar paths are cleaned lexically, then opened with
//! `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`, or one component at a time with
//! `openat(O_NOFOLLOW)` where a part is missing (and may be created) or the kernel lacks openat2.

use crate::fd::{check, cstr, open_dir, openat2};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

/// Splits a tar path into components inside the target, as Docker does: a leading `/` is
/// dropped (absolute names are relative to the target), `.` and empty parts are skipped, and
/// `..` pops a component; a `..` that would climb above the target is refused.
pub fn clean(path: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for part in path.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                if out.pop().is_none() {
                    return Err("path climbs out of the target with \"..\"".into());
                }
            }
            p => out.push(p.to_vec()),
        }
    }
    Ok(out)
}

/// Splits an archive path into components inside the destination as Docker's untar does: like
/// [`clean`], except that a `..` above the destination stays at it (`../x` lands as `x`).
pub fn clean_clamped(path: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for part in path.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                out.pop();
            }
            p => out.push(p.to_vec()),
        }
    }
    out
}

/// Opens `name` in `dir` as a directory without following a symlink.
pub fn open_dir_at(dir: RawFd, name: &[u8]) -> io::Result<OwnedFd> {
    let c = cstr(name)?;
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: `c` is NUL-terminated; on success the returned fd is ours alone.
    let fd = check(unsafe { libc::openat(dir, c.as_ptr(), flags) })?;
    // SAFETY: `fd` was just returned by openat and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `lstat` of `name` in `dir`; `None` if it does not exist.
pub fn stat_at(dir: RawFd, name: &[u8]) -> io::Result<Option<libc::stat>> {
    let c = cstr(name)?;
    // SAFETY: an all-zero `stat` is a valid value of this plain C struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is NUL-terminated and `st` is a valid out-pointer.
    match check(unsafe { libc::fstatat(dir, c.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) }) {
        Ok(_) => Ok(Some(st)),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The type bits of a stat.
pub fn file_type(st: &libc::stat) -> libc::mode_t {
    st.st_mode & libc::S_IFMT
}

/// Why a directory inside the root could not be opened; the strings are the `/`-joined path.
#[derive(Debug)]
pub enum DirError {
    /// A component is a symlink, which is never followed.
    Symlink(String),
    /// A component is not a directory.
    NotDir(String),
    /// A syscall failed on the component (`what` says which step).
    Io {
        /// `creating parent "a/b"`, `opening "a/b"`, `parent "a/b"`.
        what: String,
        /// The failure.
        error: io::Error,
    },
}

/// A root directory held open, so every path is resolved from it.
pub struct NoFollowRoot {
    fd: OwnedFd,
}

impl NoFollowRoot {
    /// Opens the root directory.
    pub fn open(path: &Path) -> io::Result<NoFollowRoot> {
        Ok(NoFollowRoot { fd: open_dir(path)? })
    }

    /// The kernel's answer for a path that exists: no symlink anywhere, nothing above the root.
    fn open_existing(&self, comps: &[Vec<u8>]) -> Option<OwnedFd> {
        let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;
        let resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS;
        openat2(self.fd.as_raw_fd(), &comps.join(&b'/'), flags, resolve).ok()
    }

    /// Opens the directory at `comps` inside the root, creating missing ones (mode 0755, as
    /// Docker does for parents a layer does not list) when `create` is set; `None` if missing
    /// and not created. A symlink or non-directory on the way is an error: it is never followed.
    pub fn dir(&self, comps: &[Vec<u8>], create: bool) -> Result<Option<OwnedFd>, DirError> {
        if comps.is_empty() {
            return self.fd.try_clone().map(Some).map_err(|error| DirError::Io { what: "root".into(), error });
        }
        if let Some(fd) = self.open_existing(comps) {
            return Ok(Some(fd));
        }
        let mut cur = self.fd.try_clone().map_err(|error| DirError::Io { what: "root".into(), error })?;
        for (i, comp) in comps.iter().enumerate() {
            let shown = || String::from_utf8_lossy(&comps[..=i].join(&b'/')).into_owned();
            match open_dir_at(cur.as_raw_fd(), comp) {
                Ok(fd) => cur = fd,
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                    if !create {
                        return Ok(None);
                    }
                    let c = cstr(comp).map_err(|error| DirError::Io { what: format!("parent {:?}", shown()), error })?;
                    // SAFETY: `c` is NUL-terminated.
                    check(unsafe { libc::mkdirat(cur.as_raw_fd(), c.as_ptr(), 0o755) })
                        .map_err(|error| DirError::Io { what: format!("creating parent {:?}", shown()), error })?;
                    cur = open_dir_at(cur.as_raw_fd(), comp)
                        .map_err(|error| DirError::Io { what: format!("opening {:?}", shown()), error })?;
                }
                Err(error) => {
                    return Err(match stat_at(cur.as_raw_fd(), comp) {
                        Ok(Some(st)) if file_type(&st) == libc::S_IFLNK => DirError::Symlink(shown()),
                        Ok(Some(st)) if file_type(&st) != libc::S_IFDIR => DirError::NotDir(shown()),
                        _ => DirError::Io { what: format!("parent {:?}", shown()), error },
                    });
                }
            }
        }
        Ok(Some(cur))
    }
}
