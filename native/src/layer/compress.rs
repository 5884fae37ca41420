//! The output side of a layer: the uncompressed tar stream is hashed (diffID), compressed,
//! hashed again (digest) and written to a temp file that is renamed into place only when complete.

use super::gzip::{GzipWriter, LEVEL as GZIP_LEVEL};
use super::progress::Progress;
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// zstd level 3 is what containerd and BuildKit use by default.
pub const ZSTD_LEVEL: i32 = 3;
/// zstd's own range (negative "fast" levels are left out: no exporter names them).
const ZSTD_LEVELS: std::ops::RangeInclusive<i32> = 1..=22;
const OUT_BUF: usize = 1 << 20;
/// Beyond this the one calling thread (tar, both sha256s, the file) is the limit, and each
/// worker only adds memory.
const MAX_WORKERS: usize = 8;

/// Compression threads for one layer: the cores this process may use, capped.
fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_WORKERS)
}

/// zstd with at least one worker thread even on one core: from one worker up the output is
/// the same whatever the count, but it differs from zstd's single-threaded mode.
fn zstd_encoder<W: Write>(out: W, level: i32, workers: usize) -> io::Result<zstd::stream::write::Encoder<'static, W>> {
    let mut z = zstd::stream::write::Encoder::new(out, level)?;
    z.multithread(workers.max(1) as u32)?;
    Ok(z)
}

/// How a layer blob is compressed, and at which level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain tar.
    None,
    /// gzip (Docker writes level 6), one member deflated in parallel.
    Gzip(u32),
    /// zstd (containerd and BuildKit write level 3).
    Zstd(i32),
}

impl Compression {
    /// Parses the contract's names, `gzip`, `zstd`, `none`, with an optional level (gzip 0-9,
    /// zstd 1-22; ignored for `none`, as BuildKit ignores it for uncompressed layers).
    pub fn parse(s: &str, level: Option<i32>) -> Result<Self, String> {
        match s {
            "gzip" => match level {
                None => Ok(Compression::Gzip(GZIP_LEVEL)),
                Some(l @ 0..=9) => Ok(Compression::Gzip(l as u32)),
                Some(l) => Err(format!("gzip level {l} is out of range: use 0 to 9")),
            },
            "zstd" => match level {
                None => Ok(Compression::Zstd(ZSTD_LEVEL)),
                Some(l) if ZSTD_LEVELS.contains(&l) => Ok(Compression::Zstd(l)),
                Some(l) => Err(format!("zstd level {l} is out of range: use 1 to 22")),
            },
            "none" => Ok(Compression::None),
            other => Err(format!("unknown compression {other:?}: use gzip, zstd or none")),
        }
    }

    /// The OCI media type of a layer compressed this way.
    pub fn media_type(self) -> &'static str {
        match self {
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
            Compression::Gzip(_) => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd(_) => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }
}

/// What was written: both digests, so the caller never re-reads the blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerInfo {
    /// `sha256:` of the uncompressed tar.
    pub diff_id: String,
    /// `sha256:` of the file written.
    pub digest: String,
    /// Size of the file written.
    pub size: u64,
    /// Size of the uncompressed tar.
    pub uncompressed_size: u64,
    /// OCI media type.
    pub media_type: &'static str,
    /// Tar entries (PAX headers not counted).
    pub entries: u64,
}

/// Counts and hashes the bytes that reach the file.
struct Hashing<W: Write> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

type FileOut = Hashing<BufWriter<File>>;

enum Encoder {
    Plain(FileOut),
    Gzip(GzipWriter<FileOut>),
    Zstd(zstd::stream::write::Encoder<'static, FileOut>),
}

/// A file under a temporary name beside its final one; removed unless committed.
struct TempOutput {
    tmp: PathBuf,
    target: PathBuf,
    committed: bool,
}

static TEMP_SEQ: AtomicU64 = AtomicU64::new(0);

impl TempOutput {
    fn create(target: &Path) -> io::Result<(Self, File)> {
        let dir = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let base = target
            .file_name()
            .ok_or_else(|| io::Error::other(format!("output {} has no file name", target.display())))?;
        let seq = TEMP_SEQ.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{}.{}.{}.tmp", base.to_string_lossy(), std::process::id(), seq));
        let file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        Ok((TempOutput { tmp, target: target.to_path_buf(), committed: false }, file))
    }

    fn commit(mut self, file: File) -> io::Result<()> {
        file.sync_all()?;
        drop(file);
        fs::rename(&self.tmp, &self.target)?;
        self.committed = true;
        if let Some(dir) = self.target.parent().filter(|p| !p.as_os_str().is_empty()) {
            // Makes the rename itself durable; a failure here loses nothing already written.
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(())
    }
}

impl Drop for TempOutput {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Where a layer's tar stream goes: `Write` it, then [`LayerSink::commit`].
pub struct LayerSink {
    encoder: Encoder,
    compression: Compression,
    diff: Sha256,
    uncompressed: u64,
    progress: Progress,
    output: TempOutput,
}

impl LayerSink {
    /// Opens a temp file beside `output` and sets up the compressor.
    pub fn create(output: &Path, compression: Compression, progress: Progress) -> io::Result<Self> {
        let (output, file) = TempOutput::create(output)?;
        let out = Hashing { inner: BufWriter::with_capacity(OUT_BUF, file), hasher: Sha256::new(), bytes: 0 };
        let encoder = match compression {
            Compression::None => Encoder::Plain(out),
            Compression::Gzip(level) => Encoder::Gzip(GzipWriter::new(out, level, workers())?),
            Compression::Zstd(level) => Encoder::Zstd(zstd_encoder(out, level, workers())?),
        };
        Ok(LayerSink { encoder, compression, diff: Sha256::new(), uncompressed: 0, progress, output })
    }

    /// Finishes the compressed stream, syncs and renames the file into place.
    pub fn commit(mut self, entries: u64) -> io::Result<LayerInfo> {
        self.progress.finish(self.uncompressed);
        let out = match self.encoder {
            Encoder::Plain(o) => o,
            Encoder::Gzip(g) => g.finish()?,
            Encoder::Zstd(z) => z.finish()?,
        };
        let digest = format!("sha256:{}", hex::encode(out.hasher.finalize()));
        let size = out.bytes;
        let file = out.inner.into_inner().map_err(|e| e.into_error())?;
        self.output.commit(file)?;
        Ok(LayerInfo {
            diff_id: format!("sha256:{}", hex::encode(self.diff.finalize())),
            digest,
            size,
            uncompressed_size: self.uncompressed,
            media_type: self.compression.media_type(),
            entries,
        })
    }
}

impl Write for LayerSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = match &mut self.encoder {
            Encoder::Plain(o) => o.write(buf)?,
            Encoder::Gzip(g) => g.write(buf)?,
            Encoder::Zstd(z) => z.write(buf)?,
        };
        self.diff.update(&buf[..n]);
        self.uncompressed += n as u64;
        self.progress.update(self.uncompressed);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.encoder {
            Encoder::Plain(o) => o.flush(),
            Encoder::Gzip(g) => g.flush(),
            Encoder::Zstd(z) => z.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kiln-compress-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn sha(data: &[u8]) -> String {
        format!("sha256:{}", hex::encode(Sha256::digest(data)))
    }

    #[test]
    fn digests_match_the_bytes_for_each_compression() {
        let dir = tmpdir("digests");
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        for c in [Compression::None, Compression::Gzip(GZIP_LEVEL), Compression::Gzip(1), Compression::Zstd(ZSTD_LEVEL), Compression::Zstd(19)] {
            let out = dir.join(format!("{c:?}"));
            let mut sink = LayerSink::create(&out, c, Progress::new(None)).unwrap();
            sink.write_all(&data).unwrap();
            let info = sink.commit(7).unwrap();
            let written = fs::read(&out).unwrap();
            assert_eq!(info.digest, sha(&written));
            assert_eq!(info.size, written.len() as u64);
            assert_eq!(info.diff_id, sha(&data));
            assert_eq!(info.uncompressed_size, data.len() as u64);
            assert_eq!(info.entries, 7);
            let mut plain = Vec::new();
            match c {
                Compression::None => plain = written.clone(),
                Compression::Gzip(_) => {
                    flate2::read::GzDecoder::new(&written[..]).read_to_end(&mut plain).unwrap();
                }
                Compression::Zstd(_) => {
                    zstd::stream::read::Decoder::new(&written[..]).unwrap().read_to_end(&mut plain).unwrap();
                }
            }
            assert_eq!(plain, data);
        }
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 5, "no temp files are left behind");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn zstd_bytes_do_not_depend_on_the_workers() {
        // 30 MB spans several of zstd's 8 MiB jobs at level 3, so the workers really split it.
        let data: Vec<u8> =
            (0..30_000_000u32).map(|i| ((i.wrapping_mul(2_654_435_761) >> 27) as u8) ^ (i / 1000) as u8).collect();
        let zstd = |workers| {
            let mut z = zstd_encoder(Vec::new(), ZSTD_LEVEL, workers).unwrap();
            for piece in data.chunks(8192) {
                z.write_all(piece).unwrap();
            }
            z.finish().unwrap()
        };
        let one = zstd(1);
        assert_eq!(zstd(2), one);
        assert_eq!(zstd(4), one);
        assert_eq!(zstd::decode_all(&one[..]).unwrap(), data);
    }

    #[test]
    fn levels_parse_within_each_codec_s_range() {
        assert_eq!(Compression::parse("gzip", None), Ok(Compression::Gzip(GZIP_LEVEL)));
        assert_eq!(Compression::parse("gzip", Some(0)), Ok(Compression::Gzip(0)));
        assert_eq!(Compression::parse("zstd", None), Ok(Compression::Zstd(ZSTD_LEVEL)));
        assert_eq!(Compression::parse("zstd", Some(22)), Ok(Compression::Zstd(22)));
        assert_eq!(Compression::parse("none", Some(5)), Ok(Compression::None));
        assert!(Compression::parse("gzip", Some(10)).unwrap_err().contains("0 to 9"));
        assert!(Compression::parse("zstd", Some(0)).unwrap_err().contains("1 to 22"));
        assert!(Compression::parse("lz4", None).is_err());
    }

    #[test]
    fn an_abandoned_sink_leaves_no_file() {
        let dir = tmpdir("abandon");
        let out = dir.join("layer");
        let mut sink = LayerSink::create(&out, Compression::Gzip(GZIP_LEVEL), Progress::new(None)).unwrap();
        sink.write_all(b"half a layer").unwrap();
        drop(sink);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
        fs::remove_dir_all(&dir).unwrap();
    }
}
