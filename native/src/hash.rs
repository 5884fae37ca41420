//! Streaming sha256 of files, the primitive the content store uses to verify blobs.

use crate::parallel::map_indexed;
use napi::bindgen_prelude::AsyncTask;
use crate::error::{Coded, Job, NativeError};
use napi::Env;
use napi_derive::napi;
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Size of the read buffer: large enough that syscalls do not dominate on big blobs.
const CHUNK: usize = 1 << 20;

/// Result of hashing a file: its digest in OCI form and its size in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    /// `sha256:<hex>`.
    pub digest: String,
    /// Bytes read.
    pub size: u64,
}

thread_local! {
    // One read buffer per thread, reused: allocating 1 MiB per file costs a fresh mapping, its
    // page faults and its unmapping, which for 20 000 small files took longer than the hashing.
    static BUF: RefCell<Vec<u8>> = RefCell::new(vec![0u8; CHUNK]);
}

/// Hashes a file by streaming it, so memory stays flat whatever its size.
pub fn sha256_path(path: &Path) -> io::Result<FileDigest> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    BUF.with_borrow_mut(|buf| loop {
        let n = match file.read(buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        size += n as u64;
    })?;
    Ok(FileDigest { digest: format!("sha256:{}", hex::encode(hasher.finalize())), size })
}

/// The digest of a file as seen by JavaScript.
#[napi(object, js_name = "FileDigest")]
pub struct JsFileDigest {
    /// `sha256:<hex>`.
    pub digest: String,
    /// Bytes read (as f64: JS numbers are exact up to 2^53).
    pub size: f64,
}

/// Background task so hashing runs on the libuv pool.
pub struct Sha256FileTask {
    path: String,
}

impl Job for Sha256FileTask {
    type Output = FileDigest;
    type JsValue = JsFileDigest;

    fn run(&mut self) -> Result<Self::Output, NativeError> {
        sha256_path(Path::new(&self.path)).map_err(|e| NativeError::io(format_args!("sha256 of {}", self.path), &e))
    }

    fn resolve(&mut self, _env: Env, out: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(JsFileDigest { digest: out.digest, size: out.size as f64 })
    }
}

/// Streams a file through sha256 off the event loop; resolves to its digest and size.
#[napi(ts_return_type = "Promise<FileDigest>")]
pub fn sha256_file(path: String) -> AsyncTask<Coded<Sha256FileTask>> {
    AsyncTask::new(Coded::new(Sha256FileTask { path }))
}

/// The digests of many files, in order, hashed on all cores; the error names the file.
pub fn sha256_paths(paths: &[String]) -> Result<Vec<String>, NativeError> {
    map_indexed(paths.len(), |i| {
        let p = &paths[i];
        sha256_path(Path::new(p)).map(|d| d.digest).map_err(|e| NativeError::io(format_args!("sha256 of {p}"), &e))
    })
}

/// Background task hashing many files on all cores.
pub struct Sha256FilesTask {
    paths: Vec<String>,
}

impl Job for Sha256FilesTask {
    type Output = Vec<String>;
    type JsValue = Vec<String>;

    fn run(&mut self) -> Result<Self::Output, NativeError> {
        sha256_paths(&self.paths)
    }

    fn resolve(&mut self, _env: Env, out: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(out)
    }
}

/// The `sha256:` digests of many files, in the order given, hashed in parallel off the event loop.
#[napi(ts_return_type = "Promise<Array<string>>")]
pub fn sha256_files(paths: Vec<String>) -> AsyncTask<Coded<Sha256FilesTask>> {
    AsyncTask::new(Coded::new(Sha256FilesTask { paths }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn hashes_known_vectors() {
        let dir = std::env::temp_dir().join(format!("kiln-hash-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("abc");
        File::create(&p).unwrap().write_all(b"abc").unwrap();
        let d = sha256_path(&p).unwrap();
        assert_eq!(d.digest, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(d.size, 3);
        let e = dir.join("empty");
        File::create(&e).unwrap();
        assert_eq!(
            sha256_path(&e).unwrap().digest,
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn many_files_hash_in_order() {
        let dir = std::env::temp_dir().join(format!("kiln-hashes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let paths: Vec<String> = (0..50)
            .map(|i| {
                let p = dir.join(format!("f{i}"));
                std::fs::write(&p, format!("{i}")).unwrap();
                p.to_string_lossy().into_owned()
            })
            .collect();
        let got = sha256_paths(&paths).unwrap();
        for (p, d) in paths.iter().zip(&got) {
            assert_eq!(*d, sha256_path(Path::new(p)).unwrap().digest);
        }
        let missing = sha256_paths(&[paths[0].clone(), "/nonexistent/kiln/y".into()]);
        assert!(missing.unwrap_err().message.contains("/nonexistent/kiln/y"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_file_is_an_error() {
        assert!(sha256_path(Path::new("/nonexistent/kiln/x")).is_err());
    }
}
