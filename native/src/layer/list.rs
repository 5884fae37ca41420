//! Listing a layer's entries without applying it, for `kiln diff` and tests.

use super::decode::open_layer;
use super::error::{Fault, LayerError};
use super::progress::Progress;
use super::whiteout::{classify, join, Marker};
use std::path::Path;
use tar::EntryType;

/// What a listed entry is; whiteouts and opaque markers are told apart from plain files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListedKind {
    /// Regular file.
    File,
    /// Directory.
    Dir,
    /// Symbolic link.
    Symlink,
    /// Hard link.
    HardLink,
    /// Character device.
    Char,
    /// Block device.
    Block,
    /// Named pipe.
    Fifo,
    /// `.wh.<name>`: the listed path is the one deleted.
    Whiteout,
    /// `.wh..wh..opq`: the listed path is the opaque directory.
    Opaque,
}

impl ListedKind {
    /// The contract's name for the kind.
    pub fn name(self) -> &'static str {
        match self {
            ListedKind::File => "file",
            ListedKind::Dir => "dir",
            ListedKind::Symlink => "symlink",
            ListedKind::HardLink => "hardlink",
            ListedKind::Char => "char",
            ListedKind::Block => "block",
            ListedKind::Fifo => "fifo",
            ListedKind::Whiteout => "whiteout",
            ListedKind::Opaque => "opaque",
        }
    }
}

/// One listed entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Path without leading `./` or `/` and without trailing `/`; for markers, the path they act on.
    pub path: String,
    /// Entry kind.
    pub kind: ListedKind,
    /// Data size (files only).
    pub size: u64,
}

fn normalise(path: &[u8]) -> Vec<u8> {
    let mut p = path;
    while let Some(rest) = p.strip_prefix(b"./").or_else(|| p.strip_prefix(b"/")) {
        p = rest;
    }
    p.strip_suffix(b"/").unwrap_or(p).to_vec()
}

/// Lists the entries of a tar, tar+gzip or tar+zstd layer file in order.
pub fn list_layer(path: &Path) -> Result<Vec<Listed>, LayerError> {
    let reader = open_layer(path, Progress::new(None))?;
    let mut archive = tar::Archive::new(reader);
    let mut out = Vec::new();
    for item in archive.entries().map_err(|e| LayerError::whole(Fault::io("reading tar", &e)))? {
        let entry = item.map_err(|e| LayerError::whole(Fault::io("reading tar", &e)))?;
        let raw = normalise(&entry.path_bytes());
        if raw.is_empty() {
            continue; // the root entry (`./`) is not a change to list
        }
        let (parent, base) = match raw.iter().rposition(|&b| b == b'/') {
            Some(i) => (&raw[..i], &raw[i + 1..]),
            None => (&raw[..0], &raw[..]),
        };
        let (shown, kind) = match classify(base) {
            Marker::Opaque => (parent.to_vec(), ListedKind::Opaque),
            Marker::Whiteout(name) => (join(parent, name), ListedKind::Whiteout),
            Marker::Meta => continue,
            Marker::None => {
                let kind = match entry.header().entry_type() {
                    EntryType::Directory => ListedKind::Dir,
                    EntryType::Symlink => ListedKind::Symlink,
                    EntryType::Link => ListedKind::HardLink,
                    EntryType::Char => ListedKind::Char,
                    EntryType::Block => ListedKind::Block,
                    EntryType::Fifo => ListedKind::Fifo,
                    EntryType::XGlobalHeader => continue,
                    _ => ListedKind::File,
                };
                (raw.clone(), kind)
            }
        };
        let size = if kind == ListedKind::File { entry.size() } else { 0 };
        out.push(Listed { path: String::from_utf8_lossy(&shown).into_owned(), kind, size });
    }
    Ok(out)
}
