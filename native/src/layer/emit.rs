//! Turns filesystem objects into tar entries for both diffs: hard-link detection, clamped
//! mtimes, whiteouts, and parent directories written before their first changed child.

use super::entries::{Entry, Kind};
use super::error::{AtEntry, LayerError};
use super::meta::{entry_for, read_xattrs};
use super::tar_writer::TarWriter;
use super::whiteout::{join, whiteout_name};
use std::collections::HashMap;
use std::fs::{self, File, Metadata};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A directory on the current walk path; `written` says whether its entry is already in the tar.
struct Ancestor {
    abs: PathBuf,
    rel: Vec<u8>,
    written: bool,
}

/// Writes a diff's entries in walk order.
pub struct Emitter<W: Write> {
    tar: TarWriter<W>,
    /// First path written for each multiply-linked inode, keyed by (device, inode).
    links: HashMap<(u64, u64), Vec<u8>>,
    epoch: Option<i64>,
    ancestors: Vec<Ancestor>,
}

impl<W: Write> Emitter<W> {
    /// An emitter writing to `out`; mtimes are clamped to `epoch` when given.
    pub fn new(out: W, epoch: Option<i64>) -> Self {
        Emitter { tar: TarWriter::new(out), links: HashMap::new(), epoch, ancestors: Vec::new() }
    }

    /// Writes the file, dir, symlink, device or fifo at `abs` as `rel`; `xattrs` as read from it.
    pub fn object(
        &mut self,
        abs: &Path,
        rel: &[u8],
        md: &Metadata,
        xattrs: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<(), LayerError> {
        self.write_ancestors()?;
        let Some(mut entry) = entry_for(abs, rel.to_vec(), md, xattrs, self.epoch).at(rel)? else {
            return Ok(()); // sockets are not carried by layers, as in Docker
        };
        if entry.kind != Kind::Dir && md.nlink() > 1 {
            let key = (md.dev(), md.ino());
            if let Some(first) = self.links.get(&key) {
                entry.kind = Kind::HardLink;
                entry.link = first.clone();
                entry.size = 0;
                // The inode's xattrs travel with its first entry.
                entry.xattrs.clear();
            } else {
                self.links.insert(key, rel.to_vec());
            }
        }
        if entry.kind == Kind::File {
            let mut f = File::open(abs).at(rel)?;
            self.tar.append(&entry, Some(&mut f)).at(rel)
        } else {
            self.tar.append(&entry, None).at(rel)
        }
    }

    /// Writes `.wh.<name>` in `parent`.
    pub fn whiteout(&mut self, parent: &[u8], name: &[u8]) -> Result<(), LayerError> {
        self.write_ancestors()?;
        let path = join(parent, &whiteout_name(name));
        self.tar.append(&Entry::marker(path.clone()), None).at(&path)
    }

    /// Descends into a directory; if `written` is false its entry is written only when something
    /// below it is (so a layer never holds a child without its parent).
    pub fn enter(&mut self, abs: &Path, rel: &[u8], written: bool) {
        self.ancestors.push(Ancestor { abs: abs.to_path_buf(), rel: rel.to_vec(), written });
    }

    /// Leaves the directory last entered.
    pub fn leave(&mut self) {
        self.ancestors.pop();
    }

    fn write_ancestors(&mut self) -> Result<(), LayerError> {
        for i in 0..self.ancestors.len() {
            if self.ancestors[i].written {
                continue;
            }
            let (abs, rel) = (self.ancestors[i].abs.clone(), self.ancestors[i].rel.clone());
            let md = fs::symlink_metadata(&abs).at(&rel)?;
            let xattrs = read_xattrs(&abs).at(&rel)?;
            if let Some(entry) = entry_for(&abs, rel.clone(), &md, &xattrs, self.epoch).at(&rel)? {
                self.tar.append(&entry, None).at(&rel)?;
            }
            self.ancestors[i].written = true;
        }
        Ok(())
    }

    /// Closes the tar; returns the sink and the number of entries.
    pub fn finish(self) -> Result<(W, u64), LayerError> {
        let n = self.tar.entries();
        Ok((self.tar.finish()?, n))
    }
}
