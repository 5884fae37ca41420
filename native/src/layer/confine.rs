//! Filesystem operations confined to the apply target: directories are reached through
//! kiln-confine's no-follow root (no symlink is ever followed, nothing outside the target can be
//! reached), and removals never follow a symlink either.

use std::io;
use std::os::fd::{AsRawFd, RawFd};

use super::error::Fault;
use kiln_confine::DirError;
pub use kiln_confine::{clean, clean_clamped, file_type, open_dir_at, stat_at, NoFollowRoot as Root};

fn cstr(name: &[u8]) -> io::Result<std::ffi::CString> {
    std::ffi::CString::new(name).map_err(|_| io::Error::other("name contains a NUL byte"))
}

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

impl From<DirError> for Fault {
    fn from(e: DirError) -> Self {
        match e {
            DirError::Symlink(p) => format!("parent {p:?} is a symlink; layers may not write through symlinks").into(),
            DirError::NotDir(p) => format!("parent {p:?} is not a directory").into(),
            DirError::Io { what, error } => Fault::io(what, &error),
        }
    }
}

/// Names in an open directory (without `.` and `..`).
pub fn read_names(dir: RawFd) -> io::Result<Vec<Vec<u8>>> {
    // fdopendir takes ownership of its fd, so give it a duplicate.
    // SAFETY: plain fd duplication.
    let dup = check(unsafe { libc::fcntl(dir, libc::F_DUPFD_CLOEXEC, 0) })?;
    // SAFETY: `dup` is a valid directory fd that the DIR stream now owns.
    let stream = unsafe { libc::fdopendir(dup) };
    if stream.is_null() {
        let e = io::Error::last_os_error();
        // SAFETY: fdopendir failed, so `dup` is still ours to close.
        unsafe { libc::close(dup) };
        return Err(e);
    }
    // SAFETY: the stream is valid; rewinding makes the listing independent of the fd's offset.
    unsafe { libc::rewinddir(stream) };
    let mut names = Vec::new();
    loop {
        // SAFETY: `stream` is a valid DIR*; the returned entry is read before the next call.
        let ent = unsafe { libc::readdir(stream) };
        if ent.is_null() {
            break;
        }
        // SAFETY: d_name is a NUL-terminated array inside the live entry.
        let name = unsafe { std::ffi::CStr::from_ptr((*ent).d_name.as_ptr()) }.to_bytes();
        if name != b"." && name != b".." {
            names.push(name.to_vec());
        }
    }
    // SAFETY: closes the stream (and `dup`) exactly once.
    unsafe { libc::closedir(stream) };
    Ok(names)
}

/// Removes `name` in `dir`, recursively if it is a directory, never following symlinks.
pub fn remove_at(dir: RawFd, name: &[u8]) -> io::Result<()> {
    let Some(st) = stat_at(dir, name)? else { return Ok(()) };
    let c = cstr(name)?;
    if file_type(&st) == libc::S_IFDIR {
        let sub = open_dir_at(dir, name)?;
        empty_dir(sub.as_raw_fd(), |_| false)?;
        // SAFETY: `c` is NUL-terminated.
        check(unsafe { libc::unlinkat(dir, c.as_ptr(), libc::AT_REMOVEDIR) })?;
    } else {
        // SAFETY: `c` is NUL-terminated.
        check(unsafe { libc::unlinkat(dir, c.as_ptr(), 0) })?;
    }
    Ok(())
}

/// Removes every child of an open directory for which `keep` is false.
pub fn empty_dir(dir: RawFd, keep: impl Fn(&[u8]) -> bool) -> io::Result<()> {
    for name in read_names(dir)? {
        if !keep(&name) {
            remove_at(dir, &name)?;
        }
    }
    Ok(())
}
