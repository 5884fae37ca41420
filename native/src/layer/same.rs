//! When an object on the new side of a diff is the one below it: BuildKit's rule (its overlay
//! differ and containerd's walking differ share it), so unchanged copy-ups, rewritten identical
//! files and directories whose only change is their times stay out of the layer.

use super::lower::Found;
use super::meta::{layer_xattrs, read_xattrs};
use std::fs::{self, File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Whether `new` (metadata `a`, xattrs as read `xa`) is unchanged from `old`.
///
/// Type and permission bits, owner, device number and the xattrs a layer carries must match (a
/// directory's times and size never count: creating and deleting a child, or a mount point, moves
/// them). Anything else must also have the same size and mtime seconds; when both mtimes have no
/// nanoseconds (a tar extract, a copy that kept whole seconds) that proves nothing, so the content
/// (or symlink target) is compared, else the nanoseconds must match.
///
/// BuildKit compares only `security.capability` among xattrs because its layers carry no other;
/// kiln's carry them all, so a change to any of them is a change.
pub fn unchanged(new: &Path, a: &Metadata, xa: &[(Vec<u8>, Vec<u8>)], old: &Found) -> io::Result<bool> {
    let b = &old.md;
    if a.dev() == b.dev() && a.ino() == b.ino() {
        return Ok(true);
    }
    if a.mode() != b.mode() || a.uid() != b.uid() || a.gid() != b.gid() || a.rdev() != b.rdev() {
        return Ok(false);
    }
    if layer_xattrs(xa) != layer_xattrs(&read_xattrs(&old.path)?) {
        return Ok(false);
    }
    if a.is_dir() {
        return Ok(true);
    }
    if a.size() != b.size() || a.mtime() != b.mtime() {
        return Ok(false);
    }
    if a.mtime_nsec() != 0 || b.mtime_nsec() != 0 {
        return Ok(a.mtime_nsec() == b.mtime_nsec());
    }
    if a.file_type().is_symlink() {
        return Ok(fs::read_link(new)? == fs::read_link(&old.path)?);
    }
    if a.size() == 0 {
        return Ok(true);
    }
    same_bytes(new, &old.path)
}

fn same_bytes(a: &Path, b: &Path) -> io::Result<bool> {
    let (mut fa, mut fb) = (File::open(a)?, File::open(b)?);
    let (mut ba, mut bb) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    loop {
        let n = read_full(&mut fa, &mut ba)?;
        let m = read_full(&mut fb, &mut bb)?;
        if n != m || ba[..n] != bb[..m] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

fn read_full(f: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
