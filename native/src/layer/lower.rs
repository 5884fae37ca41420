//! The lower side of a diff, one directory at a time: what the layers below the new one show at a
//! path, resolved as overlayfs merges them (top-most wins, whiteouts and opaque dirs hide what is
//! under them), or a plain full tree for the copy driver. A diff looks up only the names its new
//! side holds, so the cost follows the changed entries, not the size of the image.

use super::meta::is_whiteout;
use super::whiteout::OVERLAY_OPAQUE_XATTR;
use std::collections::BTreeMap;
use std::ffi::{CString, OsStr};
use std::fs::{self, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// An object the lower side shows: where it lives (in the top-most layer that has it) and its metadata.
#[derive(Debug)]
pub struct Found {
    /// Its path on disk.
    pub path: PathBuf,
    /// Its metadata (not following symlinks).
    pub md: Metadata,
}

/// One directory of the lower side: the copies of it in each layer that shows it, top-most first.
/// Empty when nothing below has the directory (everything under it is new).
#[derive(Debug, Clone, Default)]
pub struct LowerDir {
    layers: Vec<PathBuf>,
    /// Whether the layers are overlay layer dirs (char 0/0 devices and the opaque xattr are
    /// markers) rather than one plain tree.
    overlay: bool,
}

/// What the lower side has at a name: the object, and the directory to look in below it.
#[derive(Debug, Default)]
pub struct Below {
    /// The object, if the lower side shows one.
    pub found: Option<Found>,
    /// The lower side of the directory of that name (empty unless `found` is a directory).
    pub dir: LowerDir,
}

fn absent(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ENOTDIR)
}

fn is_opaque(dir: &Path) -> io::Result<bool> {
    let c = CString::new(dir.as_os_str().as_bytes()).map_err(|_| io::Error::other("path contains a NUL byte"))?;
    let key = CString::new(OVERLAY_OPAQUE_XATTR).expect("constant without NUL");
    let mut v = [0u8; 2];
    // SAFETY: both strings are NUL-terminated and outlive the call; the buffer is live for its length.
    let n = unsafe { libc::lgetxattr(c.as_ptr(), key.as_ptr(), v.as_mut_ptr().cast(), v.len()) };
    if n < 0 {
        let e = io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::ENODATA) | Some(libc::ENOTSUP) | Some(libc::ERANGE) => Ok(false),
            _ => Err(e),
        };
    }
    Ok(&v[..n as usize] == b"y")
}

impl LowerDir {
    /// The root of a stack of overlay layer dirs, top-most first (empty: nothing below).
    pub fn overlay(layers: &[PathBuf]) -> Self {
        LowerDir { layers: layers.to_vec(), overlay: true }
    }

    /// The root of one full tree (absent: nothing below).
    pub fn tree(root: Option<&Path>) -> Self {
        LowerDir { layers: root.map(Path::to_path_buf).into_iter().collect(), overlay: false }
    }

    /// What the lower side shows at `name` in this directory.
    pub fn open(&self, name: &[u8]) -> io::Result<Below> {
        let mut found = None;
        let mut layers = Vec::new();
        for layer in &self.layers {
            let path = layer.join(OsStr::from_bytes(name));
            let md = match fs::symlink_metadata(&path) {
                Ok(md) => md,
                Err(e) if absent(&e) => continue,
                Err(e) => return Err(e),
            };
            if self.overlay && is_whiteout(&md) {
                break;
            }
            let is_dir = md.is_dir();
            if found.is_none() {
                found = Some(Found { path: path.clone(), md });
            }
            // A non-directory hides everything below it, and a directory does not merge with one.
            if !is_dir {
                break;
            }
            let opaque = self.overlay && is_opaque(&path)?;
            layers.push(path);
            if opaque {
                break;
            }
        }
        Ok(Below { found, dir: LowerDir { layers, overlay: self.overlay } })
    }

    /// Every name this directory shows below, sorted, with its object.
    pub fn list(&self) -> io::Result<Vec<(Vec<u8>, Found)>> {
        // None: whited out by a higher layer, which hides the name in all layers under it.
        let mut seen: BTreeMap<Vec<u8>, Option<Found>> = BTreeMap::new();
        for layer in &self.layers {
            for item in fs::read_dir(layer)? {
                let item = item?;
                let name = item.file_name().as_bytes().to_vec();
                if seen.contains_key(&name) {
                    continue;
                }
                let path = item.path();
                let md = fs::symlink_metadata(&path)?;
                let shown = if self.overlay && is_whiteout(&md) { None } else { Some(Found { path, md }) };
                seen.insert(name, shown);
            }
        }
        Ok(seen.into_iter().filter_map(|(name, f)| f.map(|f| (name, f))).collect())
    }
}
