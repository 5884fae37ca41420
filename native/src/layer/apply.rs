//! Applying a layer to a directory: entries are created through `confine` (never outside the
//! target, never through a symlink); whiteouts become overlay markers or deletions per driver.
//! ADD's local archives take the same path in archive mode, as Docker's untar treats them: no
//! whiteouts (`.wh.` names are ordinary files), `..` clamped at the destination, symlinked
//! parents followed inside it as in a chroot, devices and fifos skipped.

use super::confine::{clean, clean_clamped, empty_dir, file_type, open_dir_at, remove_at, stat_at, Root};
use super::decode::{open_tar, Accept};
use super::error::{Fault, LayerError};
use super::progress::Progress;
use super::space::SpaceBudget;
use super::whiteout::{classify, is_overlay_xattr, Marker, OVERLAY_OPAQUE_XATTR};
use std::collections::HashSet;
use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use tar::EntryType;

const COPY_BUF: usize = 256 * 1024;

/// How the target represents deletions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// The target is one overlay layer dir: deletions become char 0/0 devices, opaque dirs get
    /// `trusted.overlay.opaque=y`.
    Overlay,
    /// The target is a full tree: deletions are carried out.
    Copy,
}

impl Driver {
    /// Parses `overlay` or `copy`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "overlay" => Ok(Driver::Overlay),
            "copy" => Ok(Driver::Copy),
            other => Err(format!("unknown driver {other:?}: use overlay or copy")),
        }
    }
}

/// What an archive's entries get instead of their own owner and mtime (ADD --chown, a fixed
/// timestamp).
#[derive(Debug, Clone, Copy, Default)]
pub struct Overrides {
    /// uid and gid for every entry.
    pub owner: Option<(u32, u32)>,
    /// Seconds since the epoch for every entry.
    pub mtime: Option<i64>,
}

/// How entries are read: as an image layer, or as an archive ADD extracts.
#[derive(Debug, Clone, Copy)]
enum Mode {
    Layer(Driver),
    Archive(Overrides),
}

/// Result of an apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// `sha256:` of the uncompressed tar stream.
    pub diff_id: String,
    /// Tar entries seen (PAX headers not counted).
    pub entries: u64,
}

/// Applies the layer file at `layer` into `target`.
pub fn apply_layer_file(layer: &Path, target: &Path, driver: Driver, progress: Progress) -> Result<Applied, LayerError> {
    apply_file(layer, target, Mode::Layer(driver), progress)
}

/// Extracts the tar archive at `archive` (plain, gzip, zstd, bzip2 or xz) into `target`.
pub fn extract_archive_file(archive: &Path, target: &Path, overrides: Overrides) -> Result<Applied, LayerError> {
    apply_file(archive, target, Mode::Archive(overrides), Progress::new(None))
}

fn apply_file(layer: &Path, target: &Path, mode: Mode, progress: Progress) -> Result<Applied, LayerError> {
    let accept = if matches!(mode, Mode::Layer(_)) { Accept::Layer } else { Accept::Archive };
    let (reader, _) = open_tar(layer, progress, accept)?;
    let root = Root::open(target).map_err(|e| LayerError::whole(Fault::io(format!("opening target {}", target.display()), &e)))?;
    let mut applier = Applier {
        root,
        target: target.to_path_buf(),
        mode,
        written: HashSet::new(),
        dir_times: Vec::new(),
        buf: vec![0; COPY_BUF],
    };
    let mut budget = SpaceBudget::of(target).map_err(LayerError::whole)?;
    let mut archive = tar::Archive::new(reader);
    let mut entries = 0u64;
    let mut last_path = Vec::new();
    for item in archive.entries().map_err(|e| LayerError::whole(Fault::io("reading tar", &e)))? {
        let mut entry = item.map_err(|e| match last_path.is_empty() {
            true => LayerError::whole(Fault::io("reading tar", &e)),
            false => LayerError::whole(Fault::io(format!("reading tar after entry {:?}", String::from_utf8_lossy(&last_path)), &e)),
        })?;
        let path = entry.path_bytes().into_owned();
        if entry.header().entry_type().is_file() {
            budget.take(entry.size()).map_err(|m| LayerError::at(&path, m))?;
        }
        applier.apply(&mut entry, &path).map_err(|m| LayerError::at(&path, m))?;
        entries += 1;
        last_path = path;
    }
    applier.set_dir_times()?;
    let (diff_id, _) = archive.into_inner().finish().map_err(|e| LayerError::whole(Fault::io("reading tar", &e)))?;
    Ok(Applied { diff_id, entries })
}

/// Metadata of a tar entry with PAX overrides applied.
struct Meta {
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: i64,
    xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

fn read_meta<R: Read>(entry: &mut tar::Entry<'_, R>) -> io::Result<Meta> {
    let h = entry.header();
    let mut m = Meta { mode: h.mode()? & 0o7777, uid: 0, gid: 0, mtime: h.mtime()? as i64, xattrs: Vec::new() };
    let (mut uid, mut gid) = (h.uid()?, h.gid()?);
    if let Some(exts) = entry.pax_extensions()? {
        for ext in exts {
            let ext = ext?;
            let (k, v) = (ext.key_bytes(), ext.value_bytes());
            let num = || std::str::from_utf8(v).ok().and_then(|s| s.split('.').next()?.parse::<i64>().ok());
            match k {
                b"uid" => uid = num().and_then(|n| u64::try_from(n).ok()).unwrap_or(uid),
                b"gid" => gid = num().and_then(|n| u64::try_from(n).ok()).unwrap_or(gid),
                b"mtime" => m.mtime = num().unwrap_or(m.mtime),
                _ => {
                    if let Some(name) = k.strip_prefix(b"SCHILY.xattr.") {
                        // overlayfs' own xattrs in a layer could redirect lookups: never apply them.
                        if !is_overlay_xattr(name) {
                            m.xattrs.push((name.to_vec(), v.to_vec()));
                        }
                    }
                }
            }
        }
    }
    m.uid = u32::try_from(uid).map_err(|_| io::Error::other(format!("uid {uid} is out of range")))?;
    m.gid = u32::try_from(gid).map_err(|_| io::Error::other(format!("gid {gid} is out of range")))?;
    Ok(m)
}

struct Applier {
    root: Root,
    /// The root's path, for resolving an archive's symlinked parents inside it.
    target: PathBuf,
    mode: Mode,
    /// Paths this layer created (and their ancestors): an opaque marker in the copy driver
    /// empties a dir of everything else.
    written: HashSet<Vec<u8>>,
    /// Directories' mtimes (by their symlink-free path), set last: creating their children would
    /// change them.
    dir_times: Vec<(Vec<Vec<u8>>, i64)>,
    buf: Vec<u8>,
}

fn cstr(b: &[u8]) -> Result<CString, Fault> {
    CString::new(b).map_err(|_| "name contains a NUL byte".into())
}

fn os(ret: libc::c_int, what: &str) -> Result<libc::c_int, Fault> {
    if ret < 0 {
        Err(Fault::io(what, &io::Error::last_os_error()))
    } else {
        Ok(ret)
    }
}

fn times(mtime: i64) -> [libc::timespec; 2] {
    let t = libc::timespec { tv_sec: mtime as libc::time_t, tv_nsec: 0 };
    [t, t]
}

/// Sets an xattr on `name` in `dir` without following it (works for symlinks and devices, which
/// cannot be opened for fsetxattr).
fn set_xattr_at(dir: RawFd, name: &[u8], key: &[u8], value: &[u8]) -> Result<(), Fault> {
    let path = cstr(&[format!("/proc/self/fd/{dir}/").as_bytes(), name].concat())?;
    let k = cstr(key)?;
    // SAFETY: NUL-terminated strings and a live value slice.
    let r = unsafe { libc::lsetxattr(path.as_ptr(), k.as_ptr(), value.as_ptr().cast(), value.len(), 0) };
    xattr_result(r, key)
}

fn set_xattr_fd(fd: RawFd, key: &[u8], value: &[u8]) -> Result<(), Fault> {
    let k = cstr(key)?;
    // SAFETY: a valid fd, a NUL-terminated key and a live value slice.
    let r = unsafe { libc::fsetxattr(fd, k.as_ptr(), value.as_ptr().cast(), value.len(), 0) };
    xattr_result(r, key)
}

/// A filesystem without xattr support drops them, as Docker does; any other failure is an error.
fn xattr_result(r: libc::c_int, key: &[u8]) -> Result<(), Fault> {
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::ENOTSUP) {
            return Err(Fault::io(format!("setting xattr {}", String::from_utf8_lossy(key)), &e));
        }
    }
    Ok(())
}

impl Applier {
    fn apply<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>, path: &[u8]) -> Result<(), Fault> {
        let comps = match self.mode {
            Mode::Layer(_) => clean(path)?,
            Mode::Archive(_) => clean_clamped(path),
        };
        let Some((name, parent)) = comps.split_last() else {
            return Ok(()); // the root itself: the target's own metadata is not the layer's to change
        };
        let marker = if let Mode::Layer(_) = self.mode { classify(name) } else { Marker::None };
        match marker {
            Marker::Opaque => return self.opaque(parent),
            Marker::Meta => return Ok(()),
            Marker::Whiteout(victim) => {
                if victim.is_empty() || victim == b"." || victim == b".." {
                    return Err("whiteout names no file".into());
                }
                return self.whiteout(parent, victim);
            }
            Marker::None => {}
        }
        let et = entry.header().entry_type();
        if matches!(et, EntryType::XGlobalHeader) {
            return Ok(());
        }
        let mut meta = read_meta(entry).map_err(|e| Fault::io("reading header", &e))?;
        if let Mode::Archive(o) = self.mode {
            // Devices and fifos need privileges an archive should not get from ADD; other types
            // (a GNU volume label…) carry no file.
            let kinds = [EntryType::Regular, EntryType::Continuous, EntryType::GNUSparse, EntryType::Directory, EntryType::Symlink, EntryType::Link];
            if !kinds.contains(&et) {
                return Ok(());
            }
            if let Some((uid, gid)) = o.owner {
                (meta.uid, meta.gid) = (uid, gid);
            }
            meta.mtime = o.mtime.unwrap_or(meta.mtime);
        }
        let name = name.to_vec();
        // Where the entry lands: below its parent's symlink-free path (an archive's may differ).
        let (pdir, resolved) = self.parent(parent, true)?.expect("created when missing");
        let pfd = pdir.as_raw_fd();
        let comps: Vec<Vec<u8>> = [resolved, vec![name.clone()]].concat();
        let name = &name[..];
        let is_dir = et == EntryType::Directory || (et == EntryType::Regular && path.ends_with(b"/"));
        if let Some(st) = stat_at(pfd, name)? {
            // An existing dir is merged into by a dir entry; anything else is replaced.
            if !(is_dir && file_type(&st) == libc::S_IFDIR) {
                remove_at(pfd, name).map_err(|e| Fault::io("replacing existing entry", &e))?;
            }
        }
        let cname = cstr(name)?;
        match et {
            _ if is_dir => self.make_dir(pfd, name, &comps, &meta)?,
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                self.make_file(pfd, &cname, entry, &meta)?
            }
            EntryType::Symlink => {
                let target = entry.link_name_bytes().ok_or("symlink without a target")?;
                let t = cstr(&target)?;
                // SAFETY: NUL-terminated strings and a valid dir fd.
                os(unsafe { libc::symlinkat(t.as_ptr(), pfd, cname.as_ptr()) }, "creating symlink")?;
                self.finish_node(pfd, name, &meta, false)?;
            }
            EntryType::Link => {
                let target = entry.link_name_bytes().ok_or("hard link without a target")?.into_owned();
                self.make_hard_link(pfd, &cname, &target)?;
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                let h = entry.header();
                let kind = match et {
                    EntryType::Char => libc::S_IFCHR,
                    EntryType::Block => libc::S_IFBLK,
                    _ => libc::S_IFIFO,
                };
                // A fifo's device fields may be blank (Python's tarfile writes them so): read
                // them only for devices, as Go's archive/tar does.
                let dev = match kind {
                    libc::S_IFIFO => 0,
                    _ => libc::makedev(h.device_major()?.unwrap_or(0), h.device_minor()?.unwrap_or(0)),
                };
                // SAFETY: NUL-terminated name and a valid dir fd.
                os(unsafe { libc::mknodat(pfd, cname.as_ptr(), kind | 0o600, dev) }, "creating node")?;
                self.finish_node(pfd, name, &meta, true)?;
            }
            other => return Err(format!("unsupported tar entry type {other:?}").into()),
        }
        self.mark_written(&comps);
        Ok(())
    }

    fn mark_written(&mut self, comps: &[Vec<u8>]) {
        for i in 1..=comps.len() {
            self.written.insert(comps[..i].join(&b'/'));
        }
    }

    fn make_dir(&mut self, pfd: RawFd, name: &[u8], comps: &[Vec<u8>], meta: &Meta) -> Result<(), Fault> {
        let c = cstr(name)?;
        if stat_at(pfd, name)?.is_none() {
            // SAFETY: NUL-terminated name and a valid dir fd.
            os(unsafe { libc::mkdirat(pfd, c.as_ptr(), 0o700) }, "creating directory")?;
        }
        let fd = open_dir_at(pfd, name).map_err(|e| Fault::io("opening directory", &e))?;
        self.own_fd(fd.as_raw_fd(), meta)?;
        self.dir_times.push((comps.to_vec(), meta.mtime));
        Ok(())
    }

    fn make_file<R: Read>(
        &mut self,
        pfd: RawFd,
        name: &CString,
        entry: &mut tar::Entry<'_, R>,
        meta: &Meta,
    ) -> Result<(), Fault> {
        let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        // SAFETY: NUL-terminated name and a valid dir fd; the fd is owned right below.
        let fd = os(unsafe { libc::openat(pfd, name.as_ptr(), flags, 0o600 as libc::c_uint) }, "creating file")?;
        // SAFETY: fresh fd from openat, owned by nobody else.
        let mut file = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        loop {
            let n = entry.read(&mut self.buf).map_err(|e| Fault::io("reading data", &e))?;
            if n == 0 {
                break;
            }
            file.write_all(&self.buf[..n]).map_err(|e| Fault::io("writing data", &e))?;
        }
        self.own_fd(file.as_raw_fd(), meta)?;
        // SAFETY: a valid fd and a two-element timespec array.
        os(unsafe { libc::futimens(file.as_raw_fd(), times(meta.mtime).as_ptr()) }, "setting mtime")?;
        Ok(())
    }

    /// Owner, then mode (chown clears setuid bits), then xattrs (chown clears file capabilities).
    fn own_fd(&self, fd: RawFd, meta: &Meta) -> Result<(), Fault> {
        // SAFETY: plain syscalls on a valid fd.
        os(unsafe { libc::fchown(fd, meta.uid, meta.gid) }, "setting owner")?;
        // SAFETY: as above.
        os(unsafe { libc::fchmod(fd, meta.mode as libc::mode_t) }, "setting mode")?;
        for (k, v) in &meta.xattrs {
            set_xattr_fd(fd, k, v)?;
        }
        Ok(())
    }

    /// Metadata of a node that cannot be opened (symlink, device, fifo), set by name.
    fn finish_node(&self, pfd: RawFd, name: &[u8], meta: &Meta, chmod: bool) -> Result<(), Fault> {
        let c = cstr(name)?;
        // SAFETY: NUL-terminated name and a valid dir fd; AT_SYMLINK_NOFOLLOW keeps it in place.
        os(
            unsafe { libc::fchownat(pfd, c.as_ptr(), meta.uid, meta.gid, libc::AT_SYMLINK_NOFOLLOW) },
            "setting owner",
        )?;
        if chmod {
            // The node was just created by us and is not a symlink, so this cannot be redirected.
            // SAFETY: as above.
            os(unsafe { libc::fchmodat(pfd, c.as_ptr(), meta.mode as libc::mode_t, 0) }, "setting mode")?;
        }
        for (k, v) in &meta.xattrs {
            set_xattr_at(pfd, name, k, v)?;
        }
        // SAFETY: as above, with a two-element timespec array.
        os(
            unsafe { libc::utimensat(pfd, c.as_ptr(), times(meta.mtime).as_ptr(), libc::AT_SYMLINK_NOFOLLOW) },
            "setting mtime",
        )?;
        Ok(())
    }

    fn make_hard_link(&mut self, pfd: RawFd, name: &CString, target: &[u8]) -> Result<(), Fault> {
        let shown = String::from_utf8_lossy(target).into_owned();
        let comps = match self.mode {
            Mode::Layer(_) => clean(target).map_err(|e| format!("hard link target {shown:?}: {e}"))?,
            Mode::Archive(_) => clean_clamped(target),
        };
        let (tname, tparent) = comps.split_last().ok_or_else(|| format!("hard link to the root {shown:?}"))?;
        let (tdir, _) = self
            .parent(tparent, false)
            .map_err(|f| Fault { message: format!("hard link target {shown:?}: {}", f.message), ..f })?
            .ok_or_else(|| format!("hard link target {shown:?} does not exist"))?;
        let tc = cstr(tname)?;
        // Without AT_SYMLINK_FOLLOW a symlink target is linked itself, never followed.
        // SAFETY: NUL-terminated names and valid dir fds.
        os(
            unsafe { libc::linkat(tdir.as_raw_fd(), tc.as_ptr(), pfd, name.as_ptr(), 0) },
            &format!("hard link to {shown:?}"),
        )?;
        Ok(())
    }

    /// The directory at `comps`, with its symlink-free path: a layer's is never reached through
    /// a symlink; an archive's symlinked parents are followed inside the target as a chroot
    /// would, and a missing directory is made (with `create`) only where the archive names it.
    fn parent(&self, comps: &[Vec<u8>], create: bool) -> Result<Option<(OwnedFd, Vec<Vec<u8>>)>, Fault> {
        if let Mode::Layer(_) = self.mode {
            return Ok(self.root.dir(comps, create)?.map(|fd| (fd, comps.to_vec())));
        }
        let mut at: Vec<Vec<u8>> = Vec::new();
        for comp in comps {
            let lexical: Vec<Vec<u8>> = [at.clone(), vec![comp.clone()]].concat();
            let shown = || String::from_utf8_lossy(&lexical.join(&b'/')).into_owned();
            let host = kiln_confine::resolve_in_root(&self.target, &lexical.join(&b'/'), true)
                .map_err(|e| Fault::io(format!("resolving parent {:?}", shown()), &e))?;
            let rel = host.strip_prefix(&self.target).map_err(|_| format!("parent {:?} resolves outside the target", shown()))?;
            let resolved = clean_clamped(rel.as_os_str().as_encoded_bytes());
            let Some((last, up)) = resolved.split_last() else {
                at = resolved; // a link to the root
                continue;
            };
            let Some(dir) = self.root.dir(up, false)? else {
                return Err(format!("parent {:?} is a symlink to a missing directory", shown()).into());
            };
            match stat_at(dir.as_raw_fd(), last)? {
                Some(st) if file_type(&st) == libc::S_IFDIR => {}
                Some(_) => return Err(Fault { message: format!("parent {:?} is not a directory", shown()), errno: Some(libc::ENOTDIR), corrupt: false }),
                None if resolved != lexical => return Err(format!("parent {:?} is a symlink to a missing directory", shown()).into()),
                None if !create => return Ok(None),
                None => {
                    let c = cstr(last)?;
                    // SAFETY: NUL-terminated name and a valid dir fd.
                    os(unsafe { libc::mkdirat(dir.as_raw_fd(), c.as_ptr(), 0o755) }, &format!("creating parent {:?}", shown()))?;
                }
            }
            at = resolved;
        }
        let fd = self.root.dir(&at, false)?.ok_or_else(|| format!("parent {:?} vanished", String::from_utf8_lossy(&at.join(&b'/'))))?;
        Ok(Some((fd, at)))
    }

    fn whiteout(&mut self, parent: &[Vec<u8>], victim: &[u8]) -> Result<(), Fault> {
        let Mode::Layer(driver) = self.mode else { return Ok(()) };
        match driver {
            Driver::Overlay => {
                let dir = self.root.dir(parent, true)?.expect("created when missing");
                remove_at(dir.as_raw_fd(), victim).map_err(|e| Fault::io("replacing existing entry", &e))?;
                let c = cstr(victim)?;
                // SAFETY: NUL-terminated name and a valid dir fd.
                os(unsafe { libc::mknodat(dir.as_raw_fd(), c.as_ptr(), libc::S_IFCHR, 0) }, "creating whiteout")?;
            }
            Driver::Copy => {
                if let Some(dir) = self.root.dir(parent, false)? {
                    remove_at(dir.as_raw_fd(), victim).map_err(|e| Fault::io("deleting", &e))?;
                }
            }
        }
        Ok(())
    }

    fn opaque(&mut self, dir: &[Vec<u8>]) -> Result<(), Fault> {
        let fd = self.root.dir(dir, true)?.expect("created when missing");
        let Mode::Layer(driver) = self.mode else { return Ok(()) };
        match driver {
            Driver::Overlay => set_xattr_fd(fd.as_raw_fd(), OVERLAY_OPAQUE_XATTR.as_bytes(), b"y"),
            Driver::Copy => {
                let prefix = dir.join(&b'/');
                let written = &self.written;
                let keep = |n: &[u8]| {
                    let p = if prefix.is_empty() { n.to_vec() } else { [&prefix[..], b"/", n].concat() };
                    written.contains(&p)
                };
                empty_dir(fd.as_raw_fd(), keep).map_err(|e| Fault::io("emptying opaque directory", &e))
            }
        }
    }

    /// Children before parents (reverse tar order), so dating a child never disturbs its parent.
    fn set_dir_times(&self) -> Result<(), LayerError> {
        let mut done = HashSet::new();
        for (comps, mtime) in self.dir_times.iter().rev() {
            // A dir listed twice takes its last entry's time.
            if !done.insert(comps) {
                continue;
            }
            let (name, parent) = comps.split_last().expect("dirs have a name");
            // A later entry may have replaced or deleted the dir: then there is nothing to date.
            let Ok(Some(dir)) = self.root.dir(parent, false) else { continue };
            let c = cstr(name).map_err(LayerError::whole)?;
            // SAFETY: NUL-terminated name, valid dir fd, two-element timespec array.
            let r = unsafe {
                libc::utimensat(dir.as_raw_fd(), c.as_ptr(), times(*mtime).as_ptr(), libc::AT_SYMLINK_NOFOLLOW)
            };
            if r < 0 {
                let e = io::Error::last_os_error();
                if e.raw_os_error() != Some(libc::ENOENT) {
                    return Err(LayerError::at(&comps.join(&b'/'), Fault::io("setting mtime", &e)));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::entries::{Entry, Kind};
    use crate::layer::tar_writer::TarWriter;
    use std::os::unix::fs::MetadataExt;

    fn entry(path: &str, kind: Kind) -> Entry {
        Entry { kind, mode: 0o644, mtime: 1_500_000_000, ..Entry::marker(path.as_bytes().to_vec()) }
    }

    #[test]
    fn applies_pax_fields_links_and_dir_times_written_by_our_writer() {
        let base = std::env::temp_dir().join(format!("kiln-apply-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let target = base.join("target");
        std::fs::create_dir_all(&target).unwrap();
        let long = format!("d/{}", "n".repeat(150));
        let mut w = TarWriter::new(Vec::new());
        let mut dir = entry("d", Kind::Dir);
        dir.mode = 0o750;
        dir.uid = 5_000_000;
        dir.gid = 6_000_000;
        w.append(&dir, None).unwrap();
        let mut file = entry(&long, Kind::File);
        file.size = 5;
        file.mode = 0o2755;
        file.xattrs = vec![(b"user.k".to_vec(), b"v".to_vec()), (b"trusted.overlay.redirect".to_vec(), b"/x".to_vec())];
        w.append(&file, Some(&mut &b"hello"[..])).unwrap();
        let mut hard = entry("d/hard", Kind::HardLink);
        hard.link = long.clone().into_bytes();
        w.append(&hard, None).unwrap();
        let mut sym = entry("d/sym", Kind::Symlink);
        sym.link = b"../elsewhere".to_vec();
        w.append(&sym, None).unwrap();
        let layer = base.join("layer.tar");
        std::fs::write(&layer, w.finish().unwrap()).unwrap();

        let applied = apply_layer_file(&layer, &target, Driver::Copy, Progress::new(None)).unwrap();
        assert_eq!(applied.entries, 4);
        let d = std::fs::symlink_metadata(target.join("d")).unwrap();
        assert_eq!((d.uid(), d.gid(), d.mode() & 0o7777, d.mtime()), (5_000_000, 6_000_000, 0o750, 1_500_000_000));
        let f = target.join(&long);
        assert_eq!(std::fs::read(&f).unwrap(), b"hello");
        let fm = std::fs::symlink_metadata(&f).unwrap();
        assert_eq!(fm.mode() & 0o7777, 0o2755);
        assert_eq!(fm.ino(), std::fs::symlink_metadata(target.join("d/hard")).unwrap().ino());
        assert_eq!(std::fs::read_link(target.join("d/sym")).unwrap().as_os_str(), "../elsewhere");
        let xattrs = crate::layer::meta::read_xattrs(&f).unwrap();
        assert_eq!(xattrs, vec![(b"user.k".to_vec(), b"v".to_vec())], "overlay xattrs from a layer are dropped");
        std::fs::remove_dir_all(&base).unwrap();
    }
}
