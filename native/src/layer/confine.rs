//! Filesystem operations confined to the apply target: paths are cleaned lexically and then
//! resolved one component at a time with `openat(O_NOFOLLOW)`, so no symlink is ever followed
//! and nothing outside the target can be reached.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::error::Fault;

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

fn cstr(name: &[u8]) -> io::Result<CString> {
    CString::new(name).map_err(|_| io::Error::other("name contains a NUL byte"))
}

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
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

/// The apply target, held open so every path is resolved from it.
pub struct Root {
    fd: OwnedFd,
}

impl Root {
    /// Opens the target directory.
    pub fn open(path: &Path) -> io::Result<Root> {
        let c = cstr(path.as_os_str().as_bytes())?;
        // SAFETY: `c` is NUL-terminated; the fd is owned below.
        let fd = check(unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC) })?;
        // SAFETY: a fresh fd from open.
        Ok(Root { fd: unsafe { OwnedFd::from_raw_fd(fd) } })
    }

    /// Opens the directory at `comps` inside the target, creating missing ones (mode 0755, as
    /// Docker does for parents a layer does not list) when `create` is set; `None` if missing
    /// and not created. A symlink or non-directory on the way is an error: we never follow it.
    pub fn dir(&self, comps: &[Vec<u8>], create: bool) -> Result<Option<OwnedFd>, Fault> {
        let mut cur = self.dup()?;
        for (i, comp) in comps.iter().enumerate() {
            let shown = || String::from_utf8_lossy(&comps[..=i].join(&b'/')).into_owned();
            match open_dir_at(cur.as_raw_fd(), comp) {
                Ok(fd) => cur = fd,
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                    if !create {
                        return Ok(None);
                    }
                    let c = cstr(comp)?;
                    // SAFETY: `c` is NUL-terminated.
                    check(unsafe { libc::mkdirat(cur.as_raw_fd(), c.as_ptr(), 0o755) })
                        .map_err(|e| Fault::io(format!("creating parent {:?}", shown()), &e))?;
                    cur = open_dir_at(cur.as_raw_fd(), comp).map_err(|e| Fault::io(format!("opening {:?}", shown()), &e))?;
                }
                Err(e) => {
                    return Err(match stat_at(cur.as_raw_fd(), comp) {
                        Ok(Some(st)) if file_type(&st) == libc::S_IFLNK => {
                            format!("parent {:?} is a symlink; layers may not write through symlinks", shown()).into()
                        }
                        Ok(Some(st)) if file_type(&st) != libc::S_IFDIR => format!("parent {:?} is not a directory", shown()).into(),
                        _ => Fault::io(format!("parent {:?}", shown()), &e),
                    });
                }
            }
        }
        Ok(Some(cur))
    }

    fn dup(&self) -> io::Result<OwnedFd> {
        self.fd.try_clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(p: &str) -> Result<Vec<String>, String> {
        clean(p.as_bytes()).map(|v| v.into_iter().map(|x| String::from_utf8(x).unwrap()).collect())
    }

    #[test]
    fn cleans_like_docker() {
        assert_eq!(c("/etc/passwd").unwrap(), ["etc", "passwd"]);
        assert_eq!(c("./a//b/./c/").unwrap(), ["a", "b", "c"]);
        assert_eq!(c("a/../b").unwrap(), ["b"]);
        assert_eq!(c("./").unwrap(), Vec::<String>::new());
        assert!(c("../x").is_err());
        assert!(c("a/../../x").is_err());
        assert!(c("/../x").is_err());
    }

    #[test]
    fn refuses_symlinked_parents_and_creates_missing_ones() {
        let dir = std::env::temp_dir().join(format!("kiln-confine-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("real")).unwrap();
        std::os::unix::fs::symlink("real", dir.join("link")).unwrap();
        std::fs::write(dir.join("file"), b"x").unwrap();
        let root = Root::open(&dir).unwrap();
        let comps = |p: &str| clean(p.as_bytes()).unwrap();
        assert!(root.dir(&comps("link"), true).unwrap_err().message.contains("is a symlink"));
        assert!(root.dir(&comps("file/x"), true).unwrap_err().message.contains("is not a directory"));
        assert!(root.dir(&comps("new/deep"), false).unwrap().is_none());
        assert!(root.dir(&comps("new/deep"), true).unwrap().is_some());
        assert!(dir.join("new/deep").is_dir());
        let fd = root.dir(&comps("new"), false).unwrap().unwrap();
        remove_at(fd.as_raw_fd(), b"deep").unwrap();
        assert!(!dir.join("new/deep").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
