//! The copy driver's diff (containerd's "naive diff"): a full new tree walked against its full
//! parent; added and changed objects are written, vanished ones become whiteouts.

use super::emit::Emitter;
use super::error::{AtEntry, LayerError};
use super::meta::{layer_xattrs, read_xattrs};
use super::whiteout::{join, whiteout_name};
use std::ffi::OsStr;
use std::fs::{self, File, Metadata};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

/// Writes the changes that turn `old` (absent = empty) into `new`.
pub fn diff_trees<W: Write>(new: &Path, old: Option<&Path>, em: &mut Emitter<W>) -> Result<(), LayerError> {
    walk(new, old, b"", em)
}

enum Step {
    Added(Vec<u8>, Metadata),
    Both(Vec<u8>, Metadata, Metadata),
    Deleted(Vec<u8>),
}

fn list(dir: &Path, rel: &[u8]) -> Result<Vec<(Vec<u8>, Metadata)>, LayerError> {
    let mut out = Vec::new();
    for item in fs::read_dir(dir).at(rel)? {
        let item = item.at(rel)?;
        let name = item.file_name().as_bytes().to_vec();
        let md = fs::symlink_metadata(item.path()).at(&join(rel, &name))?;
        out.push((name, md));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Merges both listings into steps ordered by the name each takes in the layer.
fn steps(new: Vec<(Vec<u8>, Metadata)>, old: Vec<(Vec<u8>, Metadata)>) -> Vec<(Vec<u8>, Step)> {
    let mut out = Vec::with_capacity(new.len());
    let mut old = old.into_iter().peekable();
    for (name, md) in new {
        while old.peek().is_some_and(|(o, _)| *o < name) {
            let (o, _) = old.next().expect("peeked");
            out.push((whiteout_name(&o), Step::Deleted(o)));
        }
        match old.next_if(|(o, _)| *o == name) {
            Some((_, omd)) => out.push((name.clone(), Step::Both(name, md, omd))),
            None => out.push((name.clone(), Step::Added(name, md))),
        }
    }
    for (o, _) in old {
        out.push((whiteout_name(&o), Step::Deleted(o)));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn walk<W: Write>(new: &Path, old: Option<&Path>, rel: &[u8], em: &mut Emitter<W>) -> Result<(), LayerError> {
    let new_kids = list(new, rel)?;
    let old_kids = match old {
        Some(o) => list(o, rel)?,
        None => Vec::new(),
    };
    for (_, step) in steps(new_kids, old_kids) {
        match step {
            Step::Deleted(name) => em.whiteout(rel, &name)?,
            Step::Added(name, md) => {
                let child_rel = join(rel, &name);
                let child = new.join(OsStr::from_bytes(&name));
                let xattrs = read_xattrs(&child).at(&child_rel)?;
                em.object(&child, &child_rel, &md, &xattrs)?;
                if md.is_dir() {
                    em.enter(&child, &child_rel, true);
                    walk(&child, None, &child_rel, em)?;
                    em.leave();
                }
            }
            Step::Both(name, md, omd) => {
                let child_rel = join(rel, &name);
                let child = new.join(OsStr::from_bytes(&name));
                let old_child = old.expect("a name in both trees has an old side").join(OsStr::from_bytes(&name));
                let xattrs = read_xattrs(&child).at(&child_rel)?;
                let old_xattrs = read_xattrs(&old_child).at(&child_rel)?;
                let same = unchanged(&child, &old_child, &md, &omd, &xattrs, &old_xattrs).at(&child_rel)?;
                if !same {
                    em.object(&child, &child_rel, &md, &xattrs)?;
                }
                if md.is_dir() {
                    em.enter(&child, &child_rel, !same);
                    // A dir that replaced a non-dir is all new below; otherwise compare below it.
                    let old_side = if omd.is_dir() { Some(old_child.as_path()) } else { None };
                    walk(&child, old_side, &child_rel, em)?;
                    em.leave();
                }
            }
        }
    }
    Ok(())
}

/// containerd's rule: same type, mode, owner, xattrs, device, link target, size and mtime means
/// unchanged; only when one mtime lost its nanoseconds (a copy that kept whole seconds) are the
/// bytes compared.
fn unchanged(
    new: &Path,
    old: &Path,
    a: &Metadata,
    b: &Metadata,
    xa: &[(Vec<u8>, Vec<u8>)],
    xb: &[(Vec<u8>, Vec<u8>)],
) -> io::Result<bool> {
    let ft = a.file_type();
    if a.mode() != b.mode() || a.uid() != b.uid() || a.gid() != b.gid() || layer_xattrs(xa) != layer_xattrs(xb) {
        return Ok(false);
    }
    if (ft.is_char_device() || ft.is_block_device()) && a.rdev() != b.rdev() {
        return Ok(false);
    }
    if ft.is_symlink() && fs::read_link(new)? != fs::read_link(old)? {
        return Ok(false);
    }
    if ft.is_file() && a.size() != b.size() {
        return Ok(false);
    }
    if a.mtime() != b.mtime() {
        return Ok(false);
    }
    if a.mtime_nsec() == b.mtime_nsec() {
        return Ok(true);
    }
    if ft.is_file() && (a.mtime_nsec() == 0 || b.mtime_nsec() == 0) {
        return same_bytes(new, old);
    }
    Ok(false)
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
