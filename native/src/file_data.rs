//! Copying one regular file's bytes the cheapest way the filesystem allows: a reflink (shared
//! extents), else copy_file_range (in-kernel, same filesystem type), else sendfile (in-kernel,
//! any pair: an ext4 context into an overlay snapshot), else read/write. Shared by the tree
//! copies, which may run it on several threads: what the filesystem lacks is learned once for all.

use crate::error::context;
use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// What the target filesystem was found not to support, so later files skip straight past it.
#[derive(Default)]
pub struct DataCopier {
    reflink_unsupported: AtomicBool,
    copy_range_unsupported: AtomicBool,
    sendfile_unsupported: AtomicBool,
}

/// Adds the operation and path to an error, for messages that say what failed where.
pub fn ctx(e: io::Error, what: &str, p: &Path) -> io::Error {
    let message = format!("{what} {}: {e}", p.display());
    context(e, message)
}

/// A path as a C string for the libc calls std does not wrap.
pub fn cpath(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("NUL byte in path {}", p.display())))
}

/// A libc return value as a Result.
pub fn check(ret: libc::c_int) -> io::Result<()> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// The metadata a copied entry gets.
pub struct Meta {
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Permission bits; None for a symlink, whose mode Linux fixes at 0777.
    pub mode: Option<u32>,
    /// Access and modification times.
    pub times: [libc::timespec; 2],
}

/// Sets `p`'s owner, then runs `after_chown` (xattrs: chown clears file capabilities), then the
/// mode (chown also clears set-id bits), then the times, which every other change would move.
/// Never follows a symlink; `file`, when open, is used instead of the path (no lookups).
pub fn set_meta(p: &Path, m: &Meta, file: Option<&File>, after_chown: impl FnOnce() -> io::Result<()>) -> io::Result<()> {
    let fd = file.map(AsRawFd::as_raw_fd);
    let c = cpath(p)?;
    // SAFETY: an open descriptor, or a valid NUL-terminated path.
    check(unsafe {
        match fd {
            Some(fd) => libc::fchown(fd, m.uid, m.gid),
            None => libc::fchownat(libc::AT_FDCWD, c.as_ptr(), m.uid, m.gid, libc::AT_SYMLINK_NOFOLLOW),
        }
    })
    .map_err(|e| ctx(e, "chown", p))?;
    after_chown()?;
    if let Some(mode) = m.mode {
        // SAFETY: an open descriptor, or a valid NUL-terminated path.
        check(unsafe {
            match fd {
                Some(fd) => libc::fchmod(fd, mode & 0o7777),
                None => libc::chmod(c.as_ptr(), mode & 0o7777),
            }
        })
        .map_err(|e| ctx(e, "chmod", p))?;
    }
    // SAFETY: an open descriptor or a valid path, and a two-element timespec array.
    check(unsafe {
        match fd {
            Some(fd) => libc::futimens(fd, m.times.as_ptr()),
            None => libc::utimensat(libc::AT_FDCWD, c.as_ptr(), m.times.as_ptr(), libc::AT_SYMLINK_NOFOLLOW),
        }
    })
    .map_err(|e| ctx(e, "set times on", p))
}

/// Errors that mean "this filesystem (pair) cannot do that", not "this file is broken".
fn fs_lacks_feature(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EOPNOTSUPP) | Some(libc::EXDEV) | Some(libc::EINVAL) | Some(libc::ENOTTY) | Some(libc::ENOSYS)
    )
}

/// Repeats an in-kernel copy call (given how many bytes to move) until `left` is 0; returns true
/// if the source ended first. When the pair turns out unsupported, `unsupported` is set for every
/// later file and what is left stays for the next way.
fn kernel_copy(unsupported: &AtomicBool, left: &mut u64, dst: &Path, call: impl Fn(usize) -> isize) -> io::Result<bool> {
    while !unsupported.load(Ordering::Relaxed) && *left > 0 {
        let n = call((*left).min(1 << 30) as usize);
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            if !fs_lacks_feature(&e) {
                return Err(ctx(e, "copy", dst));
            }
            unsupported.store(true, Ordering::Relaxed);
        } else if n == 0 {
            return Ok(true);
        } else {
            *left -= n as u64;
        }
    }
    Ok(false)
}

impl DataCopier {
    /// Creates `dst` (which must not exist; mode 0600 until the caller sets the real one) with
    /// `src`'s bytes. Returns the open target and whether its data was reflinked.
    pub fn copy(&self, src: &Path, dst: &Path, len: u64) -> io::Result<(File, bool)> {
        let mut from = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(src)
            .map_err(|e| ctx(e, "open", src))?;
        let mut to = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(dst)
            .map_err(|e| ctx(e, "create", dst))?;
        if !self.reflink_unsupported.load(Ordering::Relaxed) {
            // SAFETY: both descriptors are open; FICLONE takes the source fd as its argument.
            if unsafe { libc::ioctl(to.as_raw_fd(), libc::FICLONE, from.as_raw_fd()) } == 0 {
                return Ok((to, true));
            }
            let e = io::Error::last_os_error();
            if !fs_lacks_feature(&e) {
                return Err(ctx(e, "reflink", dst));
            }
            self.reflink_unsupported.store(true, Ordering::Relaxed);
        }
        let mut left = len;
        let (from_fd, to_fd) = (from.as_raw_fd(), to.as_raw_fd());
        // SAFETY (both calls): the descriptors are open; null offsets use and advance the file positions.
        let ended = kernel_copy(&self.copy_range_unsupported, &mut left, dst, |n| unsafe {
            libc::copy_file_range(from_fd, std::ptr::null_mut(), to_fd, std::ptr::null_mut(), n, 0)
        })? || kernel_copy(&self.sendfile_unsupported, &mut left, dst, |n| unsafe {
            libc::sendfile(to_fd, from_fd, std::ptr::null_mut(), n)
        })?;
        if ended {
            // The file shrank under us: keep what is there.
            return Ok((to, false));
        }
        if left > 0 {
            let mut buf = vec![0u8; (left.min(1 << 20)) as usize];
            loop {
                let n = match from.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(ctx(e, "read", src)),
                };
                to.write_all(&buf[..n]).map_err(|e| ctx(e, "write", dst))?;
            }
        }
        Ok((to, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn copies_across_filesystem_types_in_the_kernel() {
        if unsafe { libc::geteuid() } != 0 {
            return; // mounting the tmpfs needs root; kiln's tests run as root
        }
        let base = std::env::temp_dir().join(format!("kiln-data-{}", std::process::id()));
        let mnt = base.join("tmpfs");
        std::fs::create_dir_all(&mnt).unwrap();
        assert!(Command::new("mount").args(["-t", "tmpfs", "tmpfs"]).arg(&mnt).status().unwrap().success());
        let src = base.join("src");
        let bytes: Vec<u8> = (0..3 * 1024 * 1024 + 17).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        std::fs::write(&src, &bytes).unwrap();
        let copier = DataCopier::default();
        let result = copier.copy(&src, &mnt.join("dst"), bytes.len() as u64).map(|_| std::fs::read(mnt.join("dst")));
        let _ = Command::new("umount").arg(&mnt).status();
        std::fs::remove_dir_all(&base).unwrap();
        assert_eq!(result.unwrap().unwrap(), bytes);
        assert!(copier.copy_range_unsupported.load(Ordering::Relaxed), "an ext4 → tmpfs pair cannot copy_file_range");
        assert!(!copier.sendfile_unsupported.load(Ordering::Relaxed), "sendfile carried it");
    }
}
