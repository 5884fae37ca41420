//! The layer engine as seen by JavaScript: async functions whose work runs on libuv's pool,
//! with progress reported through thread-safe callbacks.

use super::apply::{apply_layer_file, extract_archive_file, Applied, Driver, Overrides};
use super::decode::archive_format;
use super::compress::{Compression, LayerInfo};
use super::error::LayerError;
use super::list::{list_layer, Listed};
use super::produce::{compress_tar, diff_to_layer, DiffRequest};
use super::progress::{Progress, ProgressFn};
use napi::bindgen_prelude::AsyncTask;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use crate::error::{Coded, Job, NativeError, KILN_INVALID_ARG};
use napi::{Env, Status};
use napi_derive::napi;
use std::path::{Path, PathBuf};

/// A JS `(bytes: number) => void` callable from the worker thread.
pub type ProgressCallback = ThreadsafeFunction<f64, (), f64, Status, false>;

fn progress(cb: Option<ProgressCallback>) -> Progress {
    Progress::new(cb.map(|f| {
        Box::new(move |bytes: u64| {
            // NonBlocking: a slow event loop drops nothing we need; the final count is re-sent.
            f.call(bytes as f64, ThreadsafeFunctionCallMode::NonBlocking);
        }) as ProgressFn
    }))
}

fn invalid(msg: String) -> NativeError {
    NativeError::new(KILN_INVALID_ARG, None, msg)
}

/// A layer blob written to disk.
#[napi(object, js_name = "LayerInfo")]
pub struct JsLayerInfo {
    /// `sha256:` of the uncompressed tar.
    pub diff_id: String,
    /// `sha256:` of the file written.
    pub digest: String,
    /// Size of the file written.
    pub size: f64,
    /// Size of the uncompressed tar.
    pub uncompressed_size: f64,
    /// `application/vnd.oci.image.layer.v1.tar(+gzip|+zstd)`.
    pub media_type: String,
    /// Tar entries.
    pub entries: f64,
}

impl From<LayerInfo> for JsLayerInfo {
    fn from(i: LayerInfo) -> Self {
        JsLayerInfo {
            diff_id: i.diff_id,
            digest: i.digest,
            size: i.size as f64,
            uncompressed_size: i.uncompressed_size as f64,
            media_type: i.media_type.to_string(),
            entries: i.entries as f64,
        }
    }
}

/// Options of `diffLayer`.
#[napi(object)]
pub struct DiffLayerOptions {
    /// overlay: the upper dir; copy: the full new tree.
    pub upper: String,
    /// overlay: the parents' layer dirs, top-most first (absent: no parent); copy: `lowers[0]`
    /// is the full parent tree (absent: scratch).
    pub lowers: Option<Vec<String>>,
    /// `overlay` or `copy`.
    #[napi(ts_type = "'overlay' | 'copy'")]
    pub driver: String,
    /// Path of the blob to write.
    pub output: String,
    /// `gzip`, `zstd` or `none`.
    #[napi(ts_type = "'gzip' | 'zstd' | 'none'")]
    pub compression: String,
    /// gzip 0-9 (default 6), zstd 1-22 (default 3).
    pub level: Option<i32>,
    /// Clamp mtimes to this many seconds since the epoch.
    pub source_date_epoch: Option<f64>,
}

/// Background diff.
pub struct DiffLayerTask {
    opts: DiffLayerOptions,
    progress: Option<ProgressCallback>,
}

impl Job for DiffLayerTask {
    type Output = LayerInfo;
    type JsValue = JsLayerInfo;

    fn run(&mut self) -> Result<LayerInfo, NativeError> {
        let o = &self.opts;
        let driver = Driver::parse(&o.driver).map_err(invalid)?;
        let compression = Compression::parse(&o.compression, o.level).map_err(invalid)?;
        let source_date_epoch = match o.source_date_epoch {
            None => None,
            Some(e) if e.is_finite() && e.fract() == 0.0 && e >= 0.0 => Some(e as i64),
            Some(e) => return Err(invalid(format!("sourceDateEpoch {e} is not a whole number of seconds >= 0"))),
        };
        let lowers: Vec<PathBuf> = o.lowers.iter().flatten().map(PathBuf::from).collect();
        let req = DiffRequest {
            upper: Path::new(&o.upper),
            lowers: &lowers,
            driver,
            output: Path::new(&o.output),
            compression,
            source_date_epoch,
        };
        diff_to_layer(&req, progress(self.progress.take()))
            .map_err(|e| e.to_native(&format!("diff of {}", o.upper)))
    }

    fn resolve(&mut self, _env: Env, out: LayerInfo) -> napi::Result<JsLayerInfo> {
        Ok(out.into())
    }
}

/// Writes the diff of an overlay upper dir (driver `overlay`) or of a full tree against its
/// parent (driver `copy`) as an OCI layer blob, compressed and hashed in the same pass.
#[napi(ts_args_type = "opts: DiffLayerOptions, onProgress?: (bytes: number) => void", ts_return_type = "Promise<LayerInfo>")]
pub fn diff_layer(opts: DiffLayerOptions, on_progress: Option<ProgressCallback>) -> AsyncTask<Coded<DiffLayerTask>> {
    AsyncTask::new(Coded::new(DiffLayerTask { opts, progress: on_progress }))
}

/// Options of `applyLayer`.
#[napi(object)]
pub struct ApplyLayerOptions {
    /// Path of a tar, tar+gzip or tar+zstd file.
    pub layer: String,
    /// Directory to apply into.
    pub target: String,
    /// `overlay` or `copy`.
    #[napi(ts_type = "'overlay' | 'copy'")]
    pub driver: String,
    /// Names the layer in errors (the file path is used when absent).
    pub layer_digest: Option<String>,
}

/// Result of `applyLayer`.
#[napi(object)]
pub struct AppliedLayer {
    /// `sha256:` of the uncompressed tar, computed while applying.
    pub diff_id: String,
    /// Tar entries applied.
    pub entries: f64,
}

/// Background apply.
pub struct ApplyLayerTask {
    opts: ApplyLayerOptions,
    progress: Option<ProgressCallback>,
}

impl Job for ApplyLayerTask {
    type Output = Applied;
    type JsValue = AppliedLayer;

    fn run(&mut self) -> Result<Applied, NativeError> {
        let o = &self.opts;
        let driver = Driver::parse(&o.driver).map_err(invalid)?;
        let subject = format!("layer {}", o.layer_digest.as_deref().unwrap_or(&o.layer));
        apply_layer_file(Path::new(&o.layer), Path::new(&o.target), driver, progress(self.progress.take()))
            .map_err(|e: LayerError| e.to_native(&subject))
    }

    fn resolve(&mut self, _env: Env, out: Applied) -> napi::Result<AppliedLayer> {
        Ok(AppliedLayer { diff_id: out.diff_id, entries: out.entries as f64 })
    }
}

/// Applies a layer file into `target`, refusing any entry that would land outside it.
#[napi(ts_args_type = "opts: ApplyLayerOptions, onProgress?: (bytes: number) => void", ts_return_type = "Promise<AppliedLayer>")]
pub fn apply_layer(opts: ApplyLayerOptions, on_progress: Option<ProgressCallback>) -> AsyncTask<Coded<ApplyLayerTask>> {
    AsyncTask::new(Coded::new(ApplyLayerTask { opts, progress: on_progress }))
}

/// The owner every extracted entry gets.
#[napi(object)]
pub struct ArchiveOwner {
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

/// Options of `extractArchive`.
#[napi(object)]
pub struct ExtractArchiveOptions {
    /// A tar file: plain, gzip, zstd, bzip2 or xz.
    pub archive: String,
    /// The destination directory (ADD's chroot: symlinks in it resolve inside it).
    pub target: String,
    /// Replaces every entry's owner.
    pub owner: Option<ArchiveOwner>,
    /// Replaces every entry's mtime (seconds since the epoch).
    pub mtime: Option<f64>,
    /// Names the archive in errors (as the user named it); its path otherwise.
    pub name: Option<String>,
}

/// Background extraction.
pub struct ExtractArchiveTask {
    opts: ExtractArchiveOptions,
}

impl Job for ExtractArchiveTask {
    type Output = Applied;
    type JsValue = AppliedLayer;

    fn run(&mut self) -> Result<Applied, NativeError> {
        let o = &self.opts;
        let overrides = Overrides { owner: o.owner.as_ref().map(|w| (w.uid, w.gid)), mtime: o.mtime.map(|m| m as i64) };
        extract_archive_file(Path::new(&o.archive), Path::new(&o.target), overrides)
            .map_err(|e| e.to_native(&format!("archive {}", o.name.as_deref().unwrap_or(&o.archive))))
    }

    fn resolve(&mut self, _env: Env, out: Applied) -> napi::Result<AppliedLayer> {
        Ok(AppliedLayer { diff_id: out.diff_id, entries: out.entries as f64 })
    }
}

/// Extracts a local tar archive into `target` as ADD does (Docker's untar rules: no whiteouts,
/// `..` clamped, symlinked parents followed inside the target, devices skipped).
#[napi(js_name = "extractArchive", ts_return_type = "Promise<AppliedLayer>")]
pub fn extract_archive(opts: ExtractArchiveOptions) -> AsyncTask<Coded<ExtractArchiveTask>> {
    AsyncTask::new(Coded::new(ExtractArchiveTask { opts }))
}

/// Background sniffing.
pub struct ArchiveCompressionTask {
    path: String,
}

impl Job for ArchiveCompressionTask {
    type Output = Option<&'static str>;
    type JsValue = Option<String>;

    fn run(&mut self) -> Result<Option<&'static str>, NativeError> {
        archive_format(Path::new(&self.path))
            .map(|f| f.map(|f| f.name()))
            .map_err(|e| NativeError::io(format_args!("reading {}", self.path), &e))
    }

    fn resolve(&mut self, _env: Env, out: Option<&'static str>) -> napi::Result<Option<String>> {
        Ok(out.map(str::to_string))
    }
}

/// The compression (`none`, `gzip`, `zstd`, `bzip2`, `xz`) of a file that is a tar archive, or
/// null when it is anything else: ADD extracts only archives.
#[napi(js_name = "archiveCompression", ts_return_type = "Promise<'gzip' | 'zstd' | 'bzip2' | 'xz' | 'none' | null>")]
pub fn archive_compression(path: String) -> AsyncTask<Coded<ArchiveCompressionTask>> {
    AsyncTask::new(Coded::new(ArchiveCompressionTask { path }))
}

/// Options of `compressLayer`.
#[napi(object)]
pub struct CompressLayerOptions {
    /// A tar file (plain, or already gzip/zstd).
    pub input: String,
    /// Path of the blob to write.
    pub output: String,
    /// `gzip`, `zstd` or `none`.
    #[napi(ts_type = "'gzip' | 'zstd' | 'none'")]
    pub compression: String,
    /// gzip 0-9 (default 6), zstd 1-22 (default 3).
    pub level: Option<i32>,
}

/// Background compression.
pub struct CompressLayerTask {
    opts: CompressLayerOptions,
    progress: Option<ProgressCallback>,
}

impl Job for CompressLayerTask {
    type Output = LayerInfo;
    type JsValue = JsLayerInfo;

    fn run(&mut self) -> Result<LayerInfo, NativeError> {
        let o = &self.opts;
        let compression = Compression::parse(&o.compression, o.level).map_err(invalid)?;
        compress_tar(Path::new(&o.input), Path::new(&o.output), compression, progress(self.progress.take()))
            .map_err(|e| e.to_native(&format!("compress of {}", o.input)))
    }

    fn resolve(&mut self, _env: Env, out: LayerInfo) -> napi::Result<JsLayerInfo> {
        Ok(out.into())
    }
}

/// Turns a tar file (plain or compressed) into a layer blob with its diffID and digest (used by
/// `kiln import`, and to recompress layers for an output that asks for another compression).
#[napi(ts_args_type = "opts: CompressLayerOptions, onProgress?: (bytes: number) => void", ts_return_type = "Promise<LayerInfo>")]
pub fn compress_layer(
    opts: CompressLayerOptions,
    on_progress: Option<ProgressCallback>,
) -> AsyncTask<Coded<CompressLayerTask>> {
    AsyncTask::new(Coded::new(CompressLayerTask { opts, progress: on_progress }))
}

/// One entry of `layerEntries`.
#[napi(object)]
pub struct LayerEntry {
    /// Path in the layer; for whiteout and opaque markers, the path they act on.
    pub path: String,
    /// file, dir, symlink, hardlink, char, block, fifo, whiteout or opaque.
    #[napi(ts_type = "'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'whiteout' | 'opaque'")]
    pub kind: String,
    /// Data size of files; 0 otherwise.
    pub size: f64,
}

impl From<Listed> for LayerEntry {
    fn from(l: Listed) -> Self {
        LayerEntry { path: l.path, kind: l.kind.name().to_string(), size: l.size as f64 }
    }
}

/// Background listing.
pub struct LayerEntriesTask {
    layer: String,
}

impl Job for LayerEntriesTask {
    type Output = Vec<Listed>;
    type JsValue = Vec<LayerEntry>;

    fn run(&mut self) -> Result<Vec<Listed>, NativeError> {
        list_layer(Path::new(&self.layer))
            .map_err(|e| e.to_native(&format!("layer {}", self.layer)))
    }

    fn resolve(&mut self, _env: Env, out: Vec<Listed>) -> napi::Result<Vec<LayerEntry>> {
        Ok(out.into_iter().map(LayerEntry::from).collect())
    }
}

/// Lists a layer file's entries in order.
#[napi(ts_return_type = "Promise<Array<LayerEntry>>")]
pub fn layer_entries(layer: String) -> AsyncTask<Coded<LayerEntriesTask>> {
    AsyncTask::new(Coded::new(LayerEntriesTask { layer }))
}
