//! Resolving inside the union of overlay layers before they are mounted (the runner reads
//! /etc/passwd this way): the walk's rule, with each path looked up top layer first, a whiteout
//! (char 0/0) or an opaque directory hiding what lies below, as overlayfs would show it.

use crate::fd::{lstat_at, open_dir, readlink_at};
use crate::root::rooted;
use crate::walk::{join, walk, Node, Tree};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

const OPAQUE_XATTR: &[u8] = b"trusted.overlay.opaque\0";

struct Layers {
    dirs: Vec<(PathBuf, OwnedFd)>,
}

enum Found {
    /// In layer `i`, with its stat.
    At(usize, libc::stat),
    Hidden,
}

fn is_opaque(dir: &Path, rel: &[u8]) -> bool {
    let Ok(p) = crate::fd::cstr(rooted(dir, rel).as_os_str().as_encoded_bytes()) else { return false };
    let mut v = [0u8; 1];
    // SAFETY: NUL-terminated path and name; `v` is writable for its length.
    let n = unsafe { libc::lgetxattr(p.as_ptr(), OPAQUE_XATTR.as_ptr().cast(), v.as_mut_ptr().cast(), v.len()) };
    n == 1 && v[0] == b'y'
}

impl Layers {
    fn find(&self, comps: &[Vec<u8>]) -> io::Result<Found> {
        let rel = join(comps);
        for (i, (dir, fd)) in self.dirs.iter().enumerate() {
            if let Some(st) = lstat_at(fd.as_raw_fd(), &rel)? {
                let whiteout = st.st_mode & libc::S_IFMT == libc::S_IFCHR && st.st_rdev == 0;
                return Ok(if whiteout { Found::Hidden } else { Found::At(i, st) });
            }
            // An opaque directory on the way in this layer hides the layers below it.
            if (1..comps.len()).any(|n| is_opaque(dir, &join(&comps[..n]))) {
                return Ok(Found::Hidden);
            }
        }
        Ok(Found::Hidden)
    }
}

impl Tree for Layers {
    fn lookup(&self, comps: &[Vec<u8>]) -> io::Result<Node> {
        Ok(match self.find(comps)? {
            Found::Hidden => Node::Missing,
            Found::At(i, st) if st.st_mode & libc::S_IFMT == libc::S_IFLNK => {
                Node::Link(readlink_at(self.dirs[i].1.as_raw_fd(), &join(comps))?)
            }
            Found::At(..) => Node::Present,
        })
    }
}

/// The host path of the topmost layer's entry for `path` in the union of `layers` (topmost
/// first), symlinks followed inside the union (the last one only with `follow_last`); `None` when
/// the merged tree has nothing there.
pub fn resolve_in_layers(layers: &[PathBuf], path: &[u8], follow_last: bool) -> io::Result<Option<PathBuf>> {
    let dirs = layers.iter().map(|l| Ok((l.clone(), open_dir(l)?))).collect::<io::Result<Vec<_>>>()?;
    let tree = Layers { dirs };
    let comps = walk(&tree, path, follow_last)?;
    Ok(match tree.find(&comps)? {
        Found::At(i, _) => Some(rooted(&tree.dirs[i].0, &join(&comps))),
        Found::Hidden => None,
    })
}
