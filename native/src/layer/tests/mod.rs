//! Unit tests of the layer engine, driven by the fixture archives in
//! `native/tests/fixtures/layers/` (made by `native/tests/fixtures/make-layers.py`) and by
//! trees built in temp dirs.

mod apply_fixtures;
mod diff_produce;
mod list_decode;
mod meta_entry;

use std::path::{Path, PathBuf};

/// A fixture archive by file name.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/layers").join(name)
}

/// A fresh, empty temp dir removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Self {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("kiln-lt-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }

    pub fn dir(&self, name: &str) -> PathBuf {
        let d = self.0.join(name);
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}

/// Sets an xattr without following a symlink (trusted.* ones too: the tests run as root).
pub fn set_xattr(p: &Path, k: &str, v: &[u8]) {
    let path = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    let key = std::ffi::CString::new(k).unwrap();
    // SAFETY: NUL-terminated strings and a live value slice.
    let r = unsafe { libc::lsetxattr(path.as_ptr(), key.as_ptr(), v.as_ptr().cast(), v.len(), 0) };
    assert_eq!(r, 0, "setxattr {k}: {}", std::io::Error::last_os_error());
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
