//! The input side of a layer: a tar, tar+gzip or tar+zstd file (told apart by magic bytes),
//! decompressed and hashed while read so the diffID comes out of the same pass.

use super::progress::Progress;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::{Arc, Mutex};

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
const XZ_MAGIC: &[u8] = &[0xfd, b'7', b'z', b'X', b'Z', 0];
const BZIP2_MAGIC: &[u8] = b"BZh";
const IN_BUF: usize = 1 << 20;

/// Bytes of the file read so far, shared between the raw reader and [`LayerReader::finish`]
/// (a decompressor may stop at its frame's end without ever reading the file's EOF).
struct FileProgress {
    bytes: u64,
    progress: Progress,
}

/// Reports how much of the file has been read.
struct Counting<R: Read> {
    inner: R,
    shared: Arc<Mutex<FileProgress>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut p = self.shared.lock().expect("progress lock");
        p.bytes += n as u64;
        let total = p.bytes;
        p.progress.update(total);
        Ok(n)
    }
}

/// The uncompressed tar stream of a layer file, hashed as it is read.
pub struct LayerReader {
    inner: Box<dyn Read>,
    hasher: Sha256,
    bytes: u64,
    file: Arc<Mutex<FileProgress>>,
}

impl Read for LayerReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

impl LayerReader {
    /// Reads the rest of the stream (the tar's zero blocks and padding count toward the diffID)
    /// and returns `sha256:<hex>` of the whole uncompressed stream and its size.
    pub fn finish(mut self) -> io::Result<(String, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        let mut p = self.file.lock().expect("progress lock");
        let total = p.bytes;
        p.progress.finish(total);
        Ok((format!("sha256:{}", hex::encode(self.hasher.finalize())), self.bytes))
    }
}

/// Opens a layer file whatever its compression; `progress` sees bytes of the file itself.
pub fn open_layer(path: &Path, progress: Progress) -> io::Result<LayerReader> {
    let file = File::open(path)?;
    let shared = Arc::new(Mutex::new(FileProgress { bytes: 0, progress }));
    let mut buffered = BufReader::with_capacity(IN_BUF, Counting { inner: file, shared: shared.clone() });
    let head = buffered.fill_buf()?.to_vec();
    let inner: Box<dyn Read> = if head.starts_with(GZIP_MAGIC) {
        Box::new(flate2::bufread::MultiGzDecoder::new(buffered))
    } else if head.starts_with(ZSTD_MAGIC) {
        Box::new(zstd::stream::read::Decoder::with_buffer(buffered)?)
    } else if head.starts_with(XZ_MAGIC) || head.starts_with(BZIP2_MAGIC) {
        return Err(io::Error::other("xz and bzip2 layers are not supported: recompress as gzip or zstd"));
    } else {
        Box::new(buffered)
    };
    Ok(LayerReader { inner, hasher: Sha256::new(), bytes: 0, file: shared })
}
