//! Diff of an overlayfs upper dir: everything in it is a change, char 0/0 devices are deletions
//! and `trusted.overlay.opaque=y` dirs hide their lowers. O(changed files): lowers are never read.

use super::emit::Emitter;
use super::error::{AtEntry, LayerError};
use super::meta::{is_whiteout, read_xattrs};
use super::whiteout::{join, whiteout_name, OVERLAY_OPAQUE_XATTR};
use std::fs::{self, Metadata};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// overlayfs features whose upper dirs do not hold full copies, so a layer cannot be cut from them.
const UNSUPPORTED_XATTRS: &[(&[u8], &str)] = &[
    (b"trusted.overlay.redirect", "redirect_dir"),
    (b"trusted.overlay.metacopy", "metacopy"),
];

/// A child of an upper dir: the name it takes in the layer, its own name, its metadata.
type Child = (Vec<u8>, Vec<u8>, Metadata);

/// A directory's children sorted by the name they take in the layer (`.wh.<name>` for
/// whiteouts), with their metadata.
fn children(dir: &Path, rel: &[u8]) -> Result<Vec<Child>, LayerError> {
    let mut kids = Vec::new();
    for item in fs::read_dir(dir).at(rel)? {
        let item = item.at(rel)?;
        let name = item.file_name().as_bytes().to_vec();
        let md = fs::symlink_metadata(item.path()).at(&join(rel, &name))?;
        let key = if is_whiteout(&md) { whiteout_name(&name) } else { name.clone() };
        kids.push((key, name, md));
    }
    kids.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(kids)
}

/// Writes the layer of an upper dir.
pub fn diff_overlay<W: Write>(upper: &Path, em: &mut Emitter<W>) -> Result<(), LayerError> {
    walk(upper, b"", em)
}

fn walk<W: Write>(abs: &Path, rel: &[u8], em: &mut Emitter<W>) -> Result<(), LayerError> {
    for (_, name, md) in children(abs, rel)? {
        let child_rel = join(rel, &name);
        let child_abs = abs.join(std::ffi::OsStr::from_bytes(&name));
        if is_whiteout(&md) {
            em.whiteout(rel, &name)?;
            continue;
        }
        let xattrs = read_xattrs(&child_abs).at(&child_rel)?;
        for (key, feature) in UNSUPPORTED_XATTRS {
            if xattrs.iter().any(|(k, _)| k == key) {
                return Err(LayerError::at(
                    &child_rel,
                    format!("the upper dir was written with overlay {feature} on; mount with {feature}=off"),
                ));
            }
        }
        em.object(&child_abs, &child_rel, &md, &xattrs)?;
        if md.is_dir() {
            let opaque = xattrs.iter().any(|(k, v)| k == OVERLAY_OPAQUE_XATTR.as_bytes() && v == b"y");
            if opaque {
                em.opaque(&child_rel)?;
            }
            em.enter(&child_abs, &child_rel, true);
            walk(&child_abs, &child_rel, em)?;
            em.leave();
        }
    }
    Ok(())
}
