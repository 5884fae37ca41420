//! Full copies of a directory tree keeping everything a container image cares about (modes,
//! owners, xattrs, hard links, symlinks, devices, fifos, times), reflinking file data when the
//! filesystem can share extents. The copy snapshotter's stand-in for overlay.

use napi::bindgen_prelude::AsyncTask;
use crate::error::{Coded, Job, NativeError};
use napi::Env;
use napi_derive::napi;
use std::collections::HashMap;
use std::ffi::{CString, OsStr};
use crate::file_data::{check, cpath, ctx, set_meta, DataCopier, Meta};
use std::fs::{self, File};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What a clone did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CloneStats {
    /// Every regular file's data was shared by FICLONE (false when there were none, or any
    /// needed a byte copy).
    pub reflinked: bool,
    /// Entries created below the root: files, links, dirs, devices, fifos, sockets.
    pub files: u64,
}

#[derive(Default)]
struct Cloner {
    /// Source (dev, inode) of multiply-linked non-dirs → their first copy, to link the rest to.
    links: HashMap<(u64, u64), PathBuf>,
    data: DataCopier,
    reflinked: u64,
    regular: u64,
    entries: u64,
}

/// Copies `src` (a directory) to `dst`, which must be absent or an empty directory.
pub fn clone_tree(src: &Path, dst: &Path) -> io::Result<CloneStats> {
    let meta = fs::symlink_metadata(src).map_err(|e| ctx(e, "read", src))?;
    if !meta.is_dir() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{} is not a directory", src.display())));
    }
    match fs::read_dir(dst) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("clone target {} is not empty", dst.display()),
                ));
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir(dst).map_err(|e| ctx(e, "create", dst))?;
        }
        Err(e) => return Err(ctx(e, "read", dst)),
    }
    let mut c = Cloner::default();
    c.dir_contents(src, dst)?;
    apply_metadata(src, dst, &meta, None)?;
    Ok(CloneStats { reflinked: c.regular > 0 && c.reflinked == c.regular, files: c.entries })
}

impl Cloner {
    fn dir_contents(&mut self, src: &Path, dst: &Path) -> io::Result<()> {
        for entry in fs::read_dir(src).map_err(|e| ctx(e, "read", src))? {
            let entry = entry.map_err(|e| ctx(e, "read", src))?;
            let (s, d) = (entry.path(), dst.join(entry.file_name()));
            self.entry(&s, &d)?;
            self.entries += 1;
        }
        Ok(())
    }

    fn entry(&mut self, src: &Path, dst: &Path) -> io::Result<()> {
        let meta = fs::symlink_metadata(src).map_err(|e| ctx(e, "read", src))?;
        let ft = meta.file_type();
        if ft.is_dir() {
            fs::create_dir(dst).map_err(|e| ctx(e, "create", dst))?;
            self.dir_contents(src, dst)?;
            // Times last: creating children would move the dir's mtime.
            return apply_metadata(src, dst, &meta, None);
        }
        if meta.nlink() > 1 {
            if let Some(first) = self.links.get(&(meta.dev(), meta.ino())) {
                return fs::hard_link(first, dst).map_err(|e| ctx(e, "link", dst));
            }
            self.links.insert((meta.dev(), meta.ino()), dst.to_path_buf());
        }
        if ft.is_file() {
            self.regular += 1;
            let (file, reflinked) = self.data.copy(src, dst, meta.len())?;
            self.reflinked += u64::from(reflinked);
            apply_metadata(src, dst, &meta, Some(&file))
        } else if ft.is_symlink() {
            let target = fs::read_link(src).map_err(|e| ctx(e, "read link", src))?;
            std::os::unix::fs::symlink(&target, dst).map_err(|e| ctx(e, "create symlink", dst))?;
            apply_metadata(src, dst, &meta, None)
        } else {
            // Devices, fifos and sockets: mknod makes all three.
            let p = cpath(dst)?;
            // SAFETY: valid NUL-terminated path.
            check(unsafe { libc::mknod(p.as_ptr(), meta.mode() & libc::S_IFMT, meta.rdev() as libc::dev_t) })
                .map_err(|e| ctx(e, "create node", dst))?;
            apply_metadata(src, dst, &meta, None)
        }
    }
}

/// Owner, xattrs, mode, then times, in that order: chown clears set-id bits and file
/// capabilities, and every other change would move the times.
fn apply_metadata(src: &Path, dst: &Path, meta: &fs::Metadata, file: Option<&File>) -> io::Result<()> {
    let m = Meta {
        uid: meta.uid(),
        gid: meta.gid(),
        mode: (!meta.file_type().is_symlink()).then(|| meta.mode()),
        times: [
            libc::timespec { tv_sec: meta.atime(), tv_nsec: meta.atime_nsec() },
            libc::timespec { tv_sec: meta.mtime(), tv_nsec: meta.mtime_nsec() },
        ],
    };
    set_meta(dst, &m, file, || copy_xattrs(src, dst))
}

fn xattr_names(src: &Path, s: &CString) -> io::Result<Vec<u8>> {
    loop {
        // SAFETY: a null buffer of size 0 asks for the needed size.
        let size = unsafe { libc::llistxattr(s.as_ptr(), std::ptr::null_mut(), 0) };
        if size < 0 {
            let e = io::Error::last_os_error();
            return if e.raw_os_error() == Some(libc::ENOTSUP) { Ok(Vec::new()) } else { Err(ctx(e, "list xattrs of", src)) };
        }
        let mut names = vec![0u8; size as usize];
        // SAFETY: names is valid for its length.
        let got = unsafe { libc::llistxattr(s.as_ptr(), names.as_mut_ptr().cast(), names.len()) };
        if got >= 0 {
            names.truncate(got as usize);
            return Ok(names);
        }
        let e = io::Error::last_os_error();
        // The list grew between the two calls: ask again.
        if e.raw_os_error() != Some(libc::ERANGE) {
            return Err(ctx(e, "list xattrs of", src));
        }
    }
}

fn xattr_value(src: &Path, s: &CString, name: &CString) -> io::Result<Vec<u8>> {
    loop {
        // SAFETY: a null buffer of size 0 asks for the needed size.
        let size = unsafe { libc::lgetxattr(s.as_ptr(), name.as_ptr(), std::ptr::null_mut(), 0) };
        if size < 0 {
            return Err(ctx(io::Error::last_os_error(), "read xattr of", src));
        }
        let mut value = vec![0u8; size as usize];
        // SAFETY: value is valid for its length.
        let got = unsafe { libc::lgetxattr(s.as_ptr(), name.as_ptr(), value.as_mut_ptr().cast(), value.len()) };
        if got >= 0 {
            value.truncate(got as usize);
            return Ok(value);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::ERANGE) {
            return Err(ctx(e, "read xattr of", src));
        }
    }
}

fn copy_xattrs(src: &Path, dst: &Path) -> io::Result<()> {
    let s = cpath(src)?;
    let d = cpath(dst)?;
    let names = xattr_names(src, &s)?;
    for name in names.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let n = CString::new(name).expect("split on NUL");
        let value = xattr_value(src, &s, &n)?;
        // SAFETY: valid strings and a buffer of the given length.
        check(unsafe { libc::lsetxattr(d.as_ptr(), n.as_ptr(), value.as_ptr().cast(), value.len(), 0) })
            .map_err(|e| ctx(e, &format!("set xattr {} on", OsStr::from_bytes(name).to_string_lossy()), dst))?;
    }
    Ok(())
}

/// What `cloneTree` resolves to in JavaScript.
#[napi(object, js_name = "CloneStats")]
pub struct JsCloneStats {
    /// Every regular file's data was shared by reflink.
    pub reflinked: bool,
    /// Entries created below the root.
    pub files: f64,
}

/// Background task for `cloneTree`.
pub struct CloneTreeTask {
    src: PathBuf,
    dst: PathBuf,
}

impl Job for CloneTreeTask {
    type Output = CloneStats;
    type JsValue = JsCloneStats;

    fn run(&mut self) -> Result<CloneStats, NativeError> {
        clone_tree(&self.src, &self.dst)
            .map_err(|e| NativeError::io(format_args!("clone {} to {}", self.src.display(), self.dst.display()), &e))
    }

    fn resolve(&mut self, _env: Env, out: CloneStats) -> napi::Result<JsCloneStats> {
        Ok(JsCloneStats { reflinked: out.reflinked, files: out.files as f64 })
    }
}

/// Copies the tree at `src` to `dst` off the event loop.
#[napi(js_name = "cloneTree", ts_return_type = "Promise<CloneStats>")]
pub fn clone_tree_js(src: String, dst: String) -> AsyncTask<Coded<CloneTreeTask>> {
    AsyncTask::new(Coded::new(CloneTreeTask { src: PathBuf::from(src), dst: PathBuf::from(dst) }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::{symlink, PermissionsExt};

    fn is_root() -> bool {
        // SAFETY: geteuid has no preconditions.
        unsafe { libc::geteuid() == 0 }
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kiln-clone-{}-{}", name, std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn set_xattr(p: &Path, name: &str, value: &[u8]) {
        let (p, n) = (cpath(p).unwrap(), CString::new(name).unwrap());
        // SAFETY: valid strings and buffer.
        check(unsafe { libc::lsetxattr(p.as_ptr(), n.as_ptr(), value.as_ptr().cast(), value.len(), 0) }).unwrap();
    }

    fn get_xattr(p: &Path, name: &str) -> Vec<u8> {
        xattr_value(p, &cpath(p).unwrap(), &CString::new(name).unwrap()).unwrap()
    }

    #[test]
    fn preserves_everything_an_image_needs() {
        if !is_root() {
            eprintln!("skipping: needs root for owners, devices and trusted xattrs");
            return;
        }
        let root = scratch("all");
        let src = root.join("src");
        let dst = root.join("dst");
        fs::create_dir_all(src.join("d/e")).unwrap();
        fs::write(src.join("d/file"), vec![7u8; 300_000]).unwrap();
        fs::set_permissions(src.join("d/file"), fs::Permissions::from_mode(0o4751)).unwrap();
        std::os::unix::fs::chown(src.join("d/file"), Some(1234), Some(5678)).unwrap();
        fs::set_permissions(src.join("d/file"), fs::Permissions::from_mode(0o4751)).unwrap();
        set_xattr(&src.join("d/file"), "user.kiln", b"v");
        set_xattr(&src.join("d/e"), "trusted.overlay.opaque", b"y");
        fs::hard_link(src.join("d/file"), src.join("hard")).unwrap();
        symlink("d/file", src.join("link")).unwrap();
        std::os::unix::fs::lchown(src.join("link"), Some(42), Some(43)).unwrap();
        let node = |name: &str, mode: libc::mode_t, dev: libc::dev_t| {
            let p = cpath(&src.join(name)).unwrap();
            // SAFETY: valid path.
            check(unsafe { libc::mknod(p.as_ptr(), mode, dev) }).unwrap();
        };
        node("null", libc::S_IFCHR | 0o666, libc::makedev(1, 3));
        node("whiteout", libc::S_IFCHR, libc::makedev(0, 0));
        node("fifo", libc::S_IFIFO | 0o640, 0);
        fs::set_permissions(src.join("d/e"), fs::Permissions::from_mode(0o1777)).unwrap();
        let old = [
            libc::timespec { tv_sec: 1_000_000_000, tv_nsec: 5 },
            libc::timespec { tv_sec: 1_000_000_000, tv_nsec: 123_456_789 },
        ];
        for p in ["d/file", "d/e", "d", "link"] {
            let c = cpath(&src.join(p)).unwrap();
            // SAFETY: valid path and times.
            check(unsafe { libc::utimensat(libc::AT_FDCWD, c.as_ptr(), old.as_ptr(), libc::AT_SYMLINK_NOFOLLOW) })
                .unwrap();
        }

        let stats = clone_tree(&src, &dst).unwrap();
        assert_eq!(stats.files, 8); // d, d/e, d/file, hard, link, null, whiteout, fifo

        let f = fs::symlink_metadata(dst.join("d/file")).unwrap();
        assert_eq!(f.mode() & 0o7777, 0o4751);
        assert_eq!((f.uid(), f.gid()), (1234, 5678));
        assert_eq!((f.mtime(), f.mtime_nsec()), (1_000_000_000, 123_456_789));
        assert_eq!(fs::read(dst.join("d/file")).unwrap(), vec![7u8; 300_000]);
        assert_eq!(get_xattr(&dst.join("d/file"), "user.kiln"), b"v");
        assert_eq!(get_xattr(&dst.join("d/e"), "trusted.overlay.opaque"), b"y");
        assert_eq!(fs::symlink_metadata(dst.join("hard")).unwrap().ino(), f.ino());
        let l = fs::symlink_metadata(dst.join("link")).unwrap();
        assert!(l.file_type().is_symlink());
        assert_eq!(fs::read_link(dst.join("link")).unwrap(), PathBuf::from("d/file"));
        assert_eq!((l.uid(), l.gid(), l.mtime()), (42, 43, 1_000_000_000));
        let n = fs::symlink_metadata(dst.join("null")).unwrap();
        assert_eq!((n.mode() & libc::S_IFMT, n.rdev()), (libc::S_IFCHR, libc::makedev(1, 3)));
        let w = fs::symlink_metadata(dst.join("whiteout")).unwrap();
        assert_eq!((w.mode() & libc::S_IFMT, w.rdev()), (libc::S_IFCHR, 0));
        let p = fs::symlink_metadata(dst.join("fifo")).unwrap();
        assert_eq!((p.mode() & libc::S_IFMT, p.mode() & 0o7777), (libc::S_IFIFO, 0o640));
        let e = fs::symlink_metadata(dst.join("d/e")).unwrap();
        assert_eq!((e.mode() & 0o7777, e.mtime()), (0o1777, 1_000_000_000));
        assert_eq!(fs::symlink_metadata(dst.join("d")).unwrap().mtime(), 1_000_000_000);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn refuses_a_non_empty_target_and_a_file_source() {
        let root = scratch("refuse");
        fs::create_dir_all(root.join("src")).unwrap();
        fs::create_dir_all(root.join("dst")).unwrap();
        fs::write(root.join("dst/x"), "x").unwrap();
        let e = clone_tree(&root.join("src"), &root.join("dst")).unwrap_err();
        assert!(e.to_string().contains("not empty"), "{e}");
        let e = clone_tree(&root.join("dst/x"), &root.join("new")).unwrap_err();
        assert!(e.to_string().contains("not a directory"), "{e}");
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn copies_into_an_existing_empty_dir_and_counts_reflinks_honestly() {
        let root = scratch("empty");
        fs::create_dir_all(root.join("src/sub")).unwrap();
        fs::write(root.join("src/sub/a"), "a").unwrap();
        fs::create_dir_all(root.join("dst")).unwrap();
        let stats = clone_tree(&root.join("src"), &root.join("dst")).unwrap();
        assert_eq!(stats.files, 2);
        assert_eq!(fs::read_to_string(root.join("dst/sub/a")).unwrap(), "a");
        // Whether FICLONE works depends on the filesystem; the answer must match a direct probe.
        let probe = |a: &Path, b: &Path| {
            let from = File::open(a).unwrap();
            let to = File::create(b).unwrap();
            // SAFETY: open descriptors.
            unsafe { libc::ioctl(to.as_raw_fd(), libc::FICLONE, from.as_raw_fd()) == 0 }
        };
        assert_eq!(stats.reflinked, probe(&root.join("src/sub/a"), &root.join("probe")));
        fs::remove_dir_all(&root).unwrap();
    }
}
