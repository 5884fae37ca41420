//! Reading what a layer keeps of a file from the filesystem: type, mode, owner, mtime, device
//! numbers, link target and xattrs (never following symlinks).

use super::entries::{Entry, Kind};
use super::whiteout::is_overlay_xattr;
use std::ffi::CString;
use std::fs::{self, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

/// SELinux labels belong to the host that wrote the file, not to the image.
const HOST_XATTRS: &[&[u8]] = &[b"security.selinux"];

fn cpath(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| io::Error::other("path contains a NUL byte"))
}

/// Calls a size-probing xattr syscall until the buffer is big enough.
fn sized_call(mut call: impl FnMut(*mut libc::c_void, usize) -> isize) -> io::Result<Vec<u8>> {
    loop {
        let want = call(std::ptr::null_mut(), 0);
        if want < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut buf = vec![0u8; want as usize];
        let got = call(buf.as_mut_ptr().cast(), buf.len());
        if got >= 0 {
            buf.truncate(got as usize);
            return Ok(buf);
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::ERANGE) {
            return Err(err);
        }
    }
}

/// Extended attributes as (name, value) pairs, sorted by name.
pub type Xattrs = Vec<(Vec<u8>, Vec<u8>)>;

/// All xattrs of a path (not following a final symlink), sorted by name.
pub fn read_xattrs(path: &Path) -> io::Result<Xattrs> {
    let c = cpath(path)?;
    // SAFETY: `c` is a valid NUL-terminated path and the buffer pointer/len pair comes from
    // `sized_call`, which passes either (null, 0) or a live buffer of that length.
    let names = match sized_call(|buf, len| unsafe { libc::llistxattr(c.as_ptr(), buf.cast(), len) }) {
        Ok(n) => n,
        Err(e) if e.raw_os_error() == Some(libc::ENOTSUP) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for name in names.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let cname = CString::new(name).map_err(|_| io::Error::other("xattr name with NUL"))?;
        // SAFETY: as above; both strings are NUL-terminated and outlive the call.
        let value = sized_call(|buf, len| unsafe { libc::lgetxattr(c.as_ptr(), cname.as_ptr(), buf, len) });
        match value {
            Ok(v) => out.push((name.to_vec(), v)),
            // Removed between list and get: it is simply not there any more.
            Err(e) if e.raw_os_error() == Some(libc::ENODATA) => {}
            Err(e) => return Err(e),
        }
    }
    out.sort();
    Ok(out)
}

/// The xattrs a layer carries: all but overlayfs' own and host-specific labels.
pub fn layer_xattrs(all: &[(Vec<u8>, Vec<u8>)]) -> Vec<(Vec<u8>, Vec<u8>)> {
    all.iter().filter(|(k, _)| !is_overlay_xattr(k) && !HOST_XATTRS.contains(&k.as_slice())).cloned().collect()
}

/// Whether a file is an overlayfs whiteout (a char device 0/0).
pub fn is_whiteout(md: &Metadata) -> bool {
    md.file_type().is_char_device() && md.rdev() == 0
}

/// The entry a file becomes, or `None` for sockets (which no layer format carries).
/// `raw_xattrs` are the file's xattrs as read; `mtime` is clamped to `epoch` when given, so
/// rebuilt trees give identical layers.
pub fn entry_for(
    path: &Path,
    rel: Vec<u8>,
    md: &Metadata,
    raw_xattrs: &[(Vec<u8>, Vec<u8>)],
    epoch: Option<i64>,
) -> io::Result<Option<Entry>> {
    let ft = md.file_type();
    let kind = if ft.is_file() {
        Kind::File
    } else if ft.is_dir() {
        Kind::Dir
    } else if ft.is_symlink() {
        Kind::Symlink
    } else if ft.is_char_device() {
        Kind::Char
    } else if ft.is_block_device() {
        Kind::Block
    } else if ft.is_fifo() {
        Kind::Fifo
    } else {
        return Ok(None);
    };
    let link = if kind == Kind::Symlink { fs::read_link(path)?.as_os_str().as_bytes().to_vec() } else { Vec::new() };
    let (dev_major, dev_minor) = if matches!(kind, Kind::Char | Kind::Block) {
        (libc::major(md.rdev()), libc::minor(md.rdev()))
    } else {
        (0, 0)
    };
    let mtime = match epoch {
        Some(e) => md.mtime().min(e),
        None => md.mtime(),
    };
    Ok(Some(Entry {
        path: rel,
        kind,
        mode: md.mode() & 0o7777,
        uid: u64::from(md.uid()),
        gid: u64::from(md.gid()),
        mtime,
        size: if kind == Kind::File { md.size() } else { 0 },
        link,
        dev_major,
        dev_minor,
        xattrs: layer_xattrs(raw_xattrs),
    }))
}
