//! kiln-confine's path resolution for JavaScript (the solver's file ops, the runner's reads of
//! /etc/passwd): async, since a lookup on a slow filesystem must not hold the event loop.

use crate::error::{Coded, Job, NativeError};
use napi::bindgen_prelude::AsyncTask;
use napi::Env;
use napi_derive::napi;
use std::path::PathBuf;

/// Background `resolveInRoot`.
pub struct ResolveInRootTask {
    root: PathBuf,
    path: String,
    follow_last: bool,
}

impl Job for ResolveInRootTask {
    type Output = PathBuf;
    type JsValue = String;

    fn run(&mut self) -> Result<PathBuf, NativeError> {
        kiln_confine::resolve_in_root(&self.root, self.path.as_bytes(), self.follow_last)
            .map_err(|e| NativeError::io(format_args!("resolving {} in {}", self.path, self.root.display()), &e))
    }

    fn resolve(&mut self, _env: Env, out: PathBuf) -> napi::Result<String> {
        Ok(out.to_string_lossy().into_owned())
    }
}

/// The host path of `path` (read as absolute inside `root`) with every symlink followed inside
/// the root (the last one unless `followLast` is false); missing parts kept as written; a
/// symlink loop rejects with code ELOOP.
#[napi(js_name = "resolveInRoot", ts_return_type = "Promise<string>")]
pub fn resolve_in_root_js(root: String, path: String, follow_last: Option<bool>) -> AsyncTask<Coded<ResolveInRootTask>> {
    AsyncTask::new(Coded::new(ResolveInRootTask { root: PathBuf::from(root), path, follow_last: follow_last.unwrap_or(true) }))
}

/// Background `resolveInLayers`.
pub struct ResolveInLayersTask {
    layers: Vec<PathBuf>,
    path: String,
}

impl Job for ResolveInLayersTask {
    type Output = Option<PathBuf>;
    type JsValue = Option<String>;

    fn run(&mut self) -> Result<Option<PathBuf>, NativeError> {
        kiln_confine::resolve_in_layers(&self.layers, self.path.as_bytes(), true)
            .map_err(|e| NativeError::io(format_args!("resolving {} in the image's layers", self.path), &e))
    }

    fn resolve(&mut self, _env: Env, out: Option<PathBuf>) -> napi::Result<Option<String>> {
        Ok(out.map(|p| p.to_string_lossy().into_owned()))
    }
}

/// The host path of the topmost layer's entry for `path` in the union of overlay `layers`
/// (topmost first: whiteouts and opaque dirs hide what is below), symlinks followed inside the
/// union; null when the merged tree has nothing there.
#[napi(js_name = "resolveInLayers", ts_return_type = "Promise<string | null>")]
pub fn resolve_in_layers_js(layers: Vec<String>, path: String) -> AsyncTask<Coded<ResolveInLayersTask>> {
    AsyncTask::new(Coded::new(ResolveInLayersTask { layers: layers.into_iter().map(PathBuf::from).collect(), path }))
}
