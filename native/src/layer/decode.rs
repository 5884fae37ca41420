//! The input side of a layer: a tar, tar+gzip or tar+zstd file (told apart by magic bytes),
//! decompressed and hashed while read so the diffID comes out of the same pass; ADD's local
//! archives may also be bzip2 or xz.

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

/// How a file is compressed, by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// No compression.
    Plain,
    /// gzip.
    Gzip,
    /// zstd.
    Zstd,
    /// bzip2.
    Bzip2,
    /// xz.
    Xz,
}

impl Format {
    fn of(head: &[u8]) -> Format {
        match head {
            h if h.starts_with(GZIP_MAGIC) => Format::Gzip,
            h if h.starts_with(ZSTD_MAGIC) => Format::Zstd,
            h if h.starts_with(BZIP2_MAGIC) => Format::Bzip2,
            h if h.starts_with(XZ_MAGIC) => Format::Xz,
            _ => Format::Plain,
        }
    }

    /// The name ADD's callers use (`none` for plain).
    pub fn name(self) -> &'static str {
        match self {
            Format::Plain => "none",
            Format::Gzip => "gzip",
            Format::Zstd => "zstd",
            Format::Bzip2 => "bzip2",
            Format::Xz => "xz",
        }
    }
}

/// What may come in: OCI layers are plain, gzip or zstd; ADD's archives any of the five.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    /// An image layer.
    Layer,
    /// A local archive ADD extracts.
    Archive,
}

/// Opens a layer file whatever its compression; `progress` sees bytes of the file itself.
pub fn open_layer(path: &Path, progress: Progress) -> io::Result<LayerReader> {
    open_tar(path, progress, Accept::Layer).map(|(reader, _)| reader)
}

/// Opens a tar file in any format `accept` allows, with the format found.
pub fn open_tar(path: &Path, progress: Progress, accept: Accept) -> io::Result<(LayerReader, Format)> {
    let file = File::open(path)?;
    let shared = Arc::new(Mutex::new(FileProgress { bytes: 0, progress }));
    let mut buffered = BufReader::with_capacity(IN_BUF, Counting { inner: file, shared: shared.clone() });
    let format = Format::of(buffered.fill_buf()?);
    let inner: Box<dyn Read> = match (format, accept) {
        (Format::Gzip, _) => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
        (Format::Zstd, _) => Box::new(zstd::stream::read::Decoder::with_buffer(buffered)?),
        (Format::Bzip2 | Format::Xz, Accept::Layer) => {
            return Err(io::Error::other("xz and bzip2 layers are not supported: recompress as gzip or zstd"))
        }
        (Format::Bzip2, Accept::Archive) => Box::new(bzip2::bufread::MultiBzDecoder::new(buffered)),
        (Format::Xz, Accept::Archive) => Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(buffered)),
        (Format::Plain, _) => Box::new(buffered),
    };
    Ok((LayerReader { inner, hasher: Sha256::new(), bytes: 0, file: shared }, format))
}

/// A ustar/GNU header, or a v7 one whose checksum adds up.
fn is_tar_header(h: &[u8]) -> bool {
    if h.len() < 512 {
        return false;
    }
    if &h[257..262] == b"ustar" {
        return true;
    }
    let field = &h[148..156];
    let digits: Vec<u8> = field.iter().copied().take_while(|&b| b != 0).filter(|b| !b.is_ascii_whitespace()).collect();
    let Some(stored) = std::str::from_utf8(&digits).ok().and_then(|d| u32::from_str_radix(d, 8).ok()) else { return false };
    let sum: u32 = h[..512].iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { 0x20 } else { u32::from(b) }).sum();
    sum == stored
}

/// The compression of `path` when it is a tar archive (possibly compressed), as Docker's ADD
/// decides whether to extract a local file; `None` for anything else, a corrupt stream included.
pub fn archive_format(path: &Path) -> io::Result<Option<Format>> {
    let (mut reader, format) = open_tar(path, Progress::new(None), Accept::Archive)?;
    let mut head = Vec::with_capacity(512);
    // A stream that fails to decompress is not an archive: ADD copies it as it is.
    if (&mut reader).take(512).read_to_end(&mut head).is_err() {
        return Ok(None);
    }
    Ok(is_tar_header(&head).then_some(format))
}
