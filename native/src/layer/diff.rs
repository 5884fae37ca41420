//! The diff of a new tree against the layers below it, entry by entry as BuildKit's differs
//! decide it: an object unchanged from the one below is left out (a directory then appears only
//! as the parent of a change), a deletion of something no layer below has is no change, and a
//! directory deleted and made again gets a whiteout for each name it lost, never an opaque marker.
//!
//! An overlay upper dir is walked alone and each of its names looked up below, so the cost
//! follows the changed files, not the image (BuildKit's overlay differ). A full tree (the copy
//! driver) is walked side by side with its parent's (containerd's double walk), and so is an
//! upper dir under a directory overlayfs marked opaque, whose lower names it no longer lists.

use super::emit::Emitter;
use super::error::{AtEntry, LayerError};
use super::lower::{Below, LowerDir};
use super::meta::is_whiteout;
use super::new_side::{children, xattrs, Side};
use super::same::unchanged;
use super::whiteout::{join, OVERLAY_OPAQUE_XATTR};
use std::ffi::OsStr;
use std::fs::Metadata;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// How a directory's names are matched with the ones below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Walk {
    /// Only the new side's names, each looked up below (an overlay upper dir).
    Lookup,
    /// Both listings merged, so names only below become whiteouts.
    Double,
}

/// Writes the layer of an overlay upper dir over its parents' layer dirs (top-most first).
pub fn diff_overlay<W: Write>(upper: &Path, lowers: &[PathBuf], em: &mut Emitter<W>) -> Result<(), LayerError> {
    walk(upper, b"", &LowerDir::overlay(lowers), Side::Upper, Walk::Lookup, em)
}

/// Writes the changes that turn the full tree `old` (absent = empty) into `new`.
pub fn diff_trees<W: Write>(new: &Path, old: Option<&Path>, em: &mut Emitter<W>) -> Result<(), LayerError> {
    walk(new, b"", &LowerDir::tree(old), Side::Tree, Walk::Double, em)
}

fn walk<W: Write>(
    abs: &Path,
    rel: &[u8],
    below: &LowerDir,
    side: Side,
    how: Walk,
    em: &mut Emitter<W>,
) -> Result<(), LayerError> {
    let kids = children(abs, rel)?;
    if how == Walk::Lookup {
        for (name, md) in kids {
            let under = below.open(&name).at(&join(rel, &name))?;
            if is_whiteout(&md) {
                if under.found.is_some() {
                    em.whiteout(rel, &name)?;
                }
                continue;
            }
            visit(abs, rel, &name, &md, under, side, how, em)?;
        }
        return Ok(());
    }
    let mut old = below.list().at(rel)?.into_iter().peekable();
    for (name, md) in kids {
        // What an upper dir deletes under an opaque dir is already gone from the view compared.
        if side == Side::Upper && is_whiteout(&md) {
            continue;
        }
        while let Some((gone, _)) = old.next_if(|(o, _)| *o < name) {
            em.whiteout(rel, &gone)?;
        }
        let under = match old.next_if(|(o, _)| *o == name) {
            Some(_) if md.is_dir() => below.open(&name).at(&join(rel, &name))?,
            Some((_, found)) => Below { found: Some(found), dir: LowerDir::default() },
            None => Below::default(),
        };
        visit(abs, rel, &name, &md, under, side, how, em)?;
    }
    for (gone, _) in old {
        em.whiteout(rel, &gone)?;
    }
    Ok(())
}

/// Writes one new-side object unless it is unchanged from what is below, and walks into it.
#[allow(clippy::too_many_arguments)]
fn visit<W: Write>(
    dir: &Path,
    rel: &[u8],
    name: &[u8],
    md: &Metadata,
    under: Below,
    side: Side,
    how: Walk,
    em: &mut Emitter<W>,
) -> Result<(), LayerError> {
    let child_rel = join(rel, name);
    let child = dir.join(OsStr::from_bytes(name));
    let xattrs = xattrs(&child, &child_rel, side)?;
    let same = match &under.found {
        Some(found) => unchanged(&child, md, &xattrs, found).at(&child_rel)?,
        None => false,
    };
    if !same {
        em.object(&child, &child_rel, md, &xattrs)?;
    }
    if md.is_dir() {
        // overlayfs also marks new and renamed directories opaque; only a counterpart below
        // makes the mark mean that something was hidden.
        let opaque = xattrs.iter().any(|(k, v)| k == OVERLAY_OPAQUE_XATTR.as_bytes() && v == b"y");
        let how = if how == Walk::Lookup && opaque && under.found.is_some() { Walk::Double } else { how };
        em.enter(&child, &child_rel, !same);
        walk(&child, &child_rel, &under.dir, side, how, em)?;
        em.leave();
    }
    Ok(())
}

#[cfg(test)]
mod tests;
