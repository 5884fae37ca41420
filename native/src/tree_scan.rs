//! One pass over a directory tree (the build context, a COPY source): every entry's path and
//! lstat fields, without following symlinks, so TypeScript can select and plan in memory instead
//! of awaiting one stat at a time.

use crate::file_data::ctx;
use crate::parallel::map_indexed;
use napi::bindgen_prelude::{AsyncTask, Buffer, Float64Array};
use crate::error::{Coded, Job, NativeError};
use napi::Env;
use napi_derive::napi;
use sha2::{Digest, Sha256};
use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// A named pipe.
    Fifo,
    /// A Unix socket.
    Socket,
    /// A character device.
    Char,
    /// A block device.
    Block,
}

/// One entry below the scanned root.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeEntry {
    /// `/`-separated path relative to the root.
    pub rel: String,
    /// The last component of `rel`.
    pub name: String,
    /// What it is.
    pub kind: Kind,
    /// Permission bits with set-id and sticky bits.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Bytes, for regular files; 0 otherwise.
    pub size: u64,
    /// Modification time in milliseconds (fractional, as Node's `mtimeMs`).
    pub mtime_ms: f64,
    /// Access time in milliseconds.
    pub atime_ms: f64,
    /// Inode number.
    pub ino: u64,
    /// Link count.
    pub nlink: u64,
    /// The device number of a character or block device; 0 otherwise.
    pub rdev: u64,
    /// A symlink's target, as stored.
    pub link_target: Option<String>,
}

fn millis(sec: i64, nsec: i64) -> f64 {
    sec as f64 * 1000.0 + nsec as f64 / 1e6
}

fn utf8(name: &std::ffi::OsStr, dir: &Path) -> io::Result<String> {
    name.to_str().map(str::to_owned).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: a file name is not UTF-8 ({:?}); rename it or exclude it", dir.display(), name),
        )
    })
}

/// One directory's own entries, and the indexes (into `entries`) of those that are directories.
struct Listing {
    entries: Vec<TreeEntry>,
    subdirs: Vec<usize>,
}

/// Every entry below `root`, sorted by name within each directory, parents before children.
/// Directories are read level by level, each level's directories on all cores.
pub fn scan_tree(root: &Path) -> io::Result<Vec<TreeEntry>> {
    // listings[i] belongs to dirs[i]; children[i] are the listing indexes of its subdirectories.
    let mut dirs: Vec<(std::path::PathBuf, String)> = vec![(root.to_path_buf(), String::new())];
    let mut listings: Vec<Listing> = Vec::new();
    let mut children: Vec<Vec<usize>> = Vec::new();
    let mut level = 0..1;
    while !level.is_empty() {
        let batch = map_indexed(level.len(), |i| {
            let (dir, rel) = &dirs[level.start + i];
            list_dir(dir, rel)
        })?;
        let next_start = dirs.len();
        for (i, listing) in batch.into_iter().enumerate() {
            let parent = level.start + i;
            let mut kids = Vec::with_capacity(listing.subdirs.len());
            for &j in &listing.subdirs {
                let e = &listing.entries[j];
                kids.push(dirs.len());
                dirs.push((dirs[parent].0.join(&e.name), e.rel.clone()));
            }
            children.push(kids);
            listings.push(listing);
        }
        level = next_start..dirs.len();
    }
    let mut out = Vec::with_capacity(listings.iter().map(|l| l.entries.len()).sum());
    let mut slots: Vec<Option<Listing>> = listings.into_iter().map(Some).collect();
    flatten(0, &mut slots, &children, &mut out);
    Ok(out)
}

/// Pre-order: each entry, then (for a directory) its own listing.
fn flatten(at: usize, slots: &mut [Option<Listing>], children: &[Vec<usize>], out: &mut Vec<TreeEntry>) {
    let listing = slots[at].take().expect("each listing is placed once");
    let mut kids = children[at].iter();
    let mut subdirs = listing.subdirs.iter().peekable();
    for (j, e) in listing.entries.into_iter().enumerate() {
        out.push(e);
        if subdirs.peek() == Some(&&j) {
            subdirs.next();
            let k = *kids.next().expect("a listing per subdirectory");
            flatten(k, slots, children, out);
        }
    }
}

fn list_dir(dir: &Path, rel: &str) -> io::Result<Listing> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| ctx(e, "read", dir))? {
        found.push(entry.map_err(|e| ctx(e, "read", dir))?);
    }
    found.sort_by_key(|e| e.file_name());
    let mut entries = Vec::with_capacity(found.len());
    let mut subdirs = Vec::new();
    for entry in found {
        let name = utf8(&entry.file_name(), dir)?;
        // DirEntry::metadata is an fstatat relative to the open directory that does not follow symlinks.
        let meta = entry.metadata().map_err(|e| ctx(e, "stat", &entry.path()))?;
        let ft = meta.file_type();
        let kind = if ft.is_dir() {
            Kind::Dir
        } else if ft.is_file() {
            Kind::File
        } else if ft.is_symlink() {
            Kind::Symlink
        } else if ft.is_fifo() {
            Kind::Fifo
        } else if ft.is_socket() {
            Kind::Socket
        } else if ft.is_char_device() {
            Kind::Char
        } else {
            Kind::Block
        };
        let link_target = if ft.is_symlink() {
            let path = entry.path();
            let target = fs::read_link(&path).map_err(|e| ctx(e, "read link", &path))?;
            Some(utf8(target.as_os_str(), &path)?)
        } else {
            None
        };
        if ft.is_dir() {
            subdirs.push(entries.len());
        }
        entries.push(TreeEntry {
            rel: if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") },
            name,
            kind,
            mode: meta.mode() & 0o7777,
            uid: meta.uid(),
            gid: meta.gid(),
            size: if ft.is_file() { meta.len() } else { 0 },
            mtime_ms: millis(meta.mtime(), meta.mtime_nsec()),
            atime_ms: millis(meta.atime(), meta.atime_nsec()),
            ino: meta.ino(),
            nlink: meta.nlink(),
            rdev: if matches!(kind, Kind::Char | Kind::Block) { meta.rdev() } else { 0 },
            link_target,
        });
    }
    Ok(Listing { entries, subdirs })
}

/// A scan as JavaScript receives it: columns rather than one object per entry, because creating
/// 20 000 objects through napi costs more than the walk itself; JavaScript zips them back.
#[napi(object, js_name = "RawTreeScan")]
pub struct JsTreeScan {
    /// The entries' relative paths joined by NUL (a byte no file name holds).
    pub rels: String,
    /// Per entry: 0 file, 1 dir, 2 symlink, 3 fifo, 4 socket, 5 char device, 6 block device.
    pub kinds: Buffer,
    /// Per entry, FIELDS numbers: mode, uid, gid, size, mtimeMs, atimeMs, ino, nlink, rdev.
    pub numbers: Float64Array,
    /// The symlinks' targets, in entry order.
    pub links: Vec<String>,
    /// See `fingerprint`.
    pub fingerprint: String,
}

/// A digest of everything a content-based cache key assumes unchanged when it reuses a file's
/// digest: each entry's path, kind, mode, owner, size, mtime, inode, device number and link target (not its
/// atime, which reading moves). Equal fingerprints let a rebuild reuse the previous context key
/// without selecting or checksumming 20 000 entries again.
pub fn fingerprint(entries: &[TreeEntry]) -> String {
    let mut h = Sha256::new();
    for e in entries {
        h.update(e.rel.as_bytes());
        h.update([0, e.kind as u8]);
        for n in [u64::from(e.mode), u64::from(e.uid), u64::from(e.gid), e.size, e.mtime_ms.to_bits(), e.ino, e.rdev] {
            h.update(n.to_le_bytes());
        }
        h.update(e.link_target.as_deref().unwrap_or("").as_bytes());
        h.update([0]);
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}

/// Numbers per entry in `JsTreeScan::numbers`.
const FIELDS: usize = 9;

fn to_columns(entries: Vec<TreeEntry>, fingerprint: String) -> JsTreeScan {
    let mut rels = String::with_capacity(entries.iter().map(|e| e.rel.len() + 1).sum());
    let mut kinds = Vec::with_capacity(entries.len());
    let mut numbers = Vec::with_capacity(entries.len() * FIELDS);
    let mut links = Vec::new();
    for (i, e) in entries.into_iter().enumerate() {
        if i > 0 {
            rels.push('\0');
        }
        rels.push_str(&e.rel);
        kinds.push(e.kind as u8);
        numbers.extend_from_slice(&[
            f64::from(e.mode),
            f64::from(e.uid),
            f64::from(e.gid),
            e.size as f64,
            e.mtime_ms,
            e.atime_ms,
            e.ino as f64,
            e.nlink as f64,
            e.rdev as f64,
        ]);
        links.extend(e.link_target);
    }
    JsTreeScan { rels, kinds: kinds.into(), numbers: Float64Array::new(numbers), links, fingerprint }
}

/// Background task so the walk runs on the libuv pool.
pub struct ScanTreeTask {
    root: String,
}

impl Job for ScanTreeTask {
    type Output = (Vec<TreeEntry>, String);
    type JsValue = JsTreeScan;

    fn run(&mut self) -> Result<Self::Output, NativeError> {
        let entries = scan_tree(Path::new(&self.root)).map_err(|e| NativeError::bare(&e))?;
        let print = fingerprint(&entries);
        Ok((entries, print))
    }

    fn resolve(&mut self, _env: Env, (entries, print): Self::Output) -> napi::Result<Self::JsValue> {
        Ok(to_columns(entries, print))
    }
}

/// Lists every entry below `root` (lstat fields, symlink targets), parents before children.
#[napi(js_name = "scanTree", ts_return_type = "Promise<RawTreeScan>")]
pub fn scan_tree_js(root: String) -> AsyncTask<Coded<ScanTreeTask>> {
    AsyncTask::new(Coded::new(ScanTreeTask { root }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    #[test]
    fn lists_sorted_pre_order_without_following_links() {
        let root = std::env::temp_dir().join(format!("kiln-scan-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("b/inner")).unwrap();
        fs::write(root.join("b/inner/f"), b"12345").unwrap();
        fs::write(root.join("a.txt"), b"a").unwrap();
        fs::set_permissions(root.join("a.txt"), fs::Permissions::from_mode(0o4755)).unwrap();
        symlink("/etc", root.join("c-link")).unwrap();
        let got = scan_tree(&root).unwrap();
        let names: Vec<(&str, Kind)> = got.iter().map(|e| (e.rel.as_str(), e.kind)).collect();
        assert_eq!(
            names,
            [("a.txt", Kind::File), ("b", Kind::Dir), ("b/inner", Kind::Dir), ("b/inner/f", Kind::File), ("c-link", Kind::Symlink)]
        );
        assert_eq!(got[0].mode, 0o4755);
        assert_eq!(got[3].size, 5);
        assert_eq!(got[4].link_target.as_deref(), Some("/etc"));
        assert_eq!(got[4].size, 0);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn the_fingerprint_follows_metadata_but_not_reads() {
        let root = std::env::temp_dir().join(format!("kiln-print-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("d")).unwrap();
        fs::write(root.join("d/f"), b"one").unwrap();
        let first = fingerprint(&scan_tree(&root).unwrap());
        let _ = fs::read(root.join("d/f")).unwrap();
        assert_eq!(fingerprint(&scan_tree(&root).unwrap()), first, "reading (atime) changes nothing");
        fs::set_permissions(root.join("d/f"), fs::Permissions::from_mode(0o600)).unwrap();
        let chmodded = fingerprint(&scan_tree(&root).unwrap());
        assert_ne!(chmodded, first);
        fs::write(root.join("d/f"), b"two").unwrap();
        let f = fs::File::options().write(true).open(root.join("d/f")).unwrap();
        f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000)).unwrap();
        assert_ne!(fingerprint(&scan_tree(&root).unwrap()), chmodded, "same size, new mtime");
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_missing_root_is_an_error_naming_it() {
        let err = scan_tree(Path::new("/nonexistent/kiln-scan")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/kiln-scan"), "{err}");
    }
}
