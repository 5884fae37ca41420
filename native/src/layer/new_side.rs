//! Reading the new side of a diff: an overlay upper dir (whose char 0/0 devices are deletions and
//! whose xattrs may say it is not a complete diff) or a plain full tree.

use super::error::{AtEntry, LayerError};
use super::meta::{read_xattrs, Xattrs};
use super::whiteout::join;
use std::fs::{self, Metadata};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Which kind of tree the new side is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// An overlayfs upper dir.
    Upper,
    /// A full tree (the copy driver's).
    Tree,
}

/// overlayfs features whose upper dirs do not hold full copies, so a layer cannot be cut from them.
const UNSUPPORTED_XATTRS: &[(&[u8], &str)] = &[
    (b"trusted.overlay.redirect", "redirect_dir"),
    (b"trusted.overlay.metacopy", "metacopy"),
];

/// A directory's children with their metadata, sorted by name (the order of BuildKit's walk,
/// where a deletion sits at the name it deletes).
pub fn children(dir: &Path, rel: &[u8]) -> Result<Vec<(Vec<u8>, Metadata)>, LayerError> {
    let mut kids = Vec::new();
    for item in fs::read_dir(dir).at(rel)? {
        let item = item.at(rel)?;
        let name = item.file_name().as_bytes().to_vec();
        let md = fs::symlink_metadata(item.path()).at(&join(rel, &name))?;
        kids.push((name, md));
    }
    kids.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(kids)
}

/// The xattrs of a new-side object; an upper dir written with an overlay feature that keeps
/// only part of a change is refused.
pub fn xattrs(abs: &Path, rel: &[u8], side: Side) -> Result<Xattrs, LayerError> {
    let xattrs = read_xattrs(abs).at(rel)?;
    if side == Side::Upper {
        for (key, feature) in UNSUPPORTED_XATTRS {
            if xattrs.iter().any(|(k, _)| k == key) {
                return Err(LayerError::at(
                    rel,
                    format!("the upper dir was written with overlay {feature} on; mount with {feature}=off"),
                ));
            }
        }
    }
    Ok(xattrs)
}
