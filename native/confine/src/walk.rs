//! The resolution rule, written once over any tree that can say what a path is: components are
//! taken in order, `..` drops the last one kept (never past the root), a symlink is replaced by
//! its target (an absolute one restarts at the root), and a missing component is kept as
//! written, so the result is also where a new file would be created.

use crate::MAX_SYMLINKS;
use std::collections::VecDeque;
use std::io;

/// What a path is in the tree being resolved.
pub enum Node {
    /// Nothing there (or hidden).
    Missing,
    /// A symlink, with its target.
    Link(Vec<u8>),
    /// Anything else.
    Present,
}

/// A tree the walk can look paths up in (components relative to its root, symlink-free).
pub trait Tree {
    /// What `comps` is.
    fn lookup(&self, comps: &[Vec<u8>]) -> io::Result<Node>;
}

fn split(path: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    path.split(|&b| b == b'/').filter(|p| !p.is_empty() && *p != b".").map(<[u8]>::to_vec)
}

/// The components of `path` resolved in `tree`; the last component's symlink is followed only
/// with `follow_last`. More than [`MAX_SYMLINKS`] links is ELOOP, as in the kernel.
pub fn walk(tree: &impl Tree, path: &[u8], follow_last: bool) -> io::Result<Vec<Vec<u8>>> {
    let mut todo: VecDeque<Vec<u8>> = split(path).collect();
    let mut done: Vec<Vec<u8>> = Vec::new();
    let mut links = 0;
    while let Some(part) = todo.pop_front() {
        if part == b".." {
            done.pop();
            continue;
        }
        done.push(part);
        if todo.is_empty() && !follow_last {
            break;
        }
        if let Node::Link(target) = tree.lookup(&done)? {
            links += 1;
            if links > MAX_SYMLINKS {
                return Err(io::Error::from_raw_os_error(libc::ELOOP));
            }
            done.pop();
            if target.starts_with(b"/") {
                done.clear();
            }
            for (i, p) in split(&target).enumerate() {
                todo.insert(i, p);
            }
        }
    }
    Ok(done)
}

/// Components joined with `/`.
pub fn join(comps: &[Vec<u8>]) -> Vec<u8> {
    comps.join(&b'/')
}
