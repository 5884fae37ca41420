//! The engine's producing entry points in plain Rust: a diff written as a layer blob, and a
//! plain (or already compressed) tar turned into a layer blob; `napi.rs` wraps them.

use super::apply::Driver;
use super::compress::{Compression, LayerInfo, LayerSink};
use super::decode::open_layer;
use super::diff::{diff_overlay, diff_trees};
use super::emit::Emitter;
use super::error::{Fault, LayerError};
use super::progress::Progress;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// What to diff and where to write it.
pub struct DiffRequest<'a> {
    /// overlay: the upper dir; copy: the full new tree.
    pub upper: &'a Path,
    /// overlay: the parents' layer dirs, top-most first (empty: no parent); copy: the full
    /// parent tree first (empty: scratch).
    pub lowers: &'a [PathBuf],
    /// Which kind of `upper` this is.
    pub driver: Driver,
    /// The blob to write (through a temp file and a rename).
    pub output: &'a Path,
    /// How to compress it.
    pub compression: Compression,
    /// Clamp mtimes to this, for reproducible layers.
    pub source_date_epoch: Option<i64>,
}

/// Writes the diff as a layer blob in one pass; `progress` sees uncompressed tar bytes.
pub fn diff_to_layer(req: &DiffRequest<'_>, progress: Progress) -> Result<LayerInfo, LayerError> {
    if !req.upper.is_dir() {
        return Err(LayerError::whole(format!("{} is not a directory", req.upper.display())));
    }
    let sink = LayerSink::create(req.output, req.compression, progress)
        .map_err(|e| LayerError::whole(Fault::io(format!("creating {}", req.output.display()), &e)))?;
    let mut em = Emitter::new(sink, req.source_date_epoch);
    match req.driver {
        Driver::Overlay => diff_overlay(req.upper, req.lowers, &mut em)?,
        Driver::Copy => diff_trees(req.upper, req.lowers.first().map(PathBuf::as_path), &mut em)?,
    }
    let (sink, entries) = em.finish()?;
    Ok(sink.commit(entries)?)
}

/// Copies everything read into the sink, so parsing and compressing share one read.
struct Tee<'a, R: Read, W: Write> {
    inner: R,
    copy: &'a mut W,
}

impl<R: Read, W: Write> Read for Tee<'_, R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.copy.write_all(&buf[..n])?;
        Ok(n)
    }
}

/// Turns a tar file (plain, or gzip/zstd, detected by magic) into a layer blob, checking that
/// it parses as tar and counting its entries on the way; `progress` sees input bytes.
pub fn compress_tar(input: &Path, output: &Path, compression: Compression, progress: Progress) -> Result<LayerInfo, LayerError> {
    let reader = open_layer(input, progress)?;
    let mut sink = LayerSink::create(output, compression, Progress::new(None))
        .map_err(|e| LayerError::whole(Fault::io(format!("creating {}", output.display()), &e)))?;
    let mut archive = tar::Archive::new(Tee { inner: reader, copy: &mut sink });
    let mut entries = 0u64;
    for item in archive.entries().map_err(|e| LayerError::whole(Fault::io("reading tar", &e)))? {
        item.map_err(|e| LayerError::whole(Fault::io("reading tar", &e)))?;
        entries += 1;
    }
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink())?;
    // Everything already went through the tee; this reports the final progress.
    rest.inner.finish()?;
    Ok(sink.commit(entries)?)
}
