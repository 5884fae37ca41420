//! Carrying out a copy that TypeScript planned (which entries, where, with which mode, owner and
//! times): directories made in order, then files and symlinks on all cores, then directory
//! metadata last, children before parents, since writing into a directory moves its mtime.

use crate::file_data::{ctx, set_meta, DataCopier, Meta};
use crate::parallel::map_indexed;
use napi::bindgen_prelude::AsyncTask;
use crate::error::{Coded, Job, NativeError};
use napi::Env;
use napi_derive::napi;
use nix::sys::stat::{mknod, Mode, SFlag};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// One entry to create.
#[napi(object)]
#[derive(Clone)]
pub struct CopyPlanOp {
    /// `dir`, `file`, `symlink`, or the special files `fifo`, `char` and `block`.
    #[napi(ts_type = "'dir' | 'file' | 'symlink' | 'fifo' | 'char' | 'block'")]
    pub kind: String,
    /// Absolute path to create; its parent is the root's or an earlier `dir` op's.
    pub to: String,
    /// `file`: the path to copy bytes from (opened without following a symlink); absent, the
    /// file is created empty (what a socket in a build context becomes, as in BuildKit).
    pub from: Option<String>,
    /// `file`: its size, the length copy_file_range asks for.
    pub size: Option<f64>,
    /// `symlink`: the link's target.
    pub link_target: Option<String>,
    /// `char`, `block`: the device number (st_rdev).
    pub rdev: Option<f64>,
    /// Permission bits (ignored for symlinks).
    pub mode: u32,
    /// Owner to set.
    pub uid: u32,
    /// Group to set.
    pub gid: u32,
    /// Access time, ms.
    pub atime_ms: f64,
    /// Modification time, ms.
    pub mtime_ms: f64,
}

/// A whole copy: the ops and how to treat what is already at a destination path.
#[napi(object)]
pub struct CopyPlan {
    /// The destination tree's root: errors name paths relative to it.
    pub root: String,
    /// In order: a directory before anything inside it.
    pub ops: Vec<CopyPlanOp>,
    /// Replace an existing entry of the other kind (file vs directory) instead of failing.
    pub replace: bool,
}

/// Leaves one thread takes at a time.
const LEAF_RUN: usize = 64;

fn shown(root: &Path, p: &Path) -> String {
    format!("/{}", p.strip_prefix(root).unwrap_or(p).display())
}

fn conflict(root: &Path, p: &Path, existing: &str, new: &str) -> io::Error {
    io::Error::new(io::ErrorKind::AlreadyExists, format!("cannot overwrite {existing} {} with {new}", shown(root, p)))
}

/// Node's `mtimeMs` is `sec * 1e3 + nsec / 1e6` in a double; `ms * 1e6` would round to 256 ns at
/// today's epoch and can read back as a neighbouring double, so the seconds are split off first
/// (exact) and only the sub-second part is scaled.
fn timespec(ms: f64) -> libc::timespec {
    let sec = (ms / 1000.0).floor();
    let ns = ((ms - sec * 1000.0) * 1e6).round() as i64;
    let (sec, ns) = if ns >= 1_000_000_000 { (sec as i64 + 1, ns - 1_000_000_000) } else { (sec as i64, ns) };
    libc::timespec { tv_sec: sec as libc::time_t, tv_nsec: ns as libc::c_long }
}

fn set_planned_meta(op: &CopyPlanOp, p: &Path, file: Option<&File>) -> io::Result<()> {
    let m = Meta {
        uid: op.uid,
        gid: op.gid,
        mode: (op.kind != "symlink").then_some(op.mode),
        times: [timespec(op.atime_ms), timespec(op.mtime_ms)],
    };
    set_meta(p, &m, file, || Ok(()))
}

fn make_dir(root: &Path, op: &CopyPlanOp, replace: bool) -> io::Result<()> {
    let p = Path::new(&op.to);
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => return Ok(()),
        Ok(_) if !replace => return Err(conflict(root, p, "non-directory", "a directory")),
        Ok(_) => fs::remove_file(p).map_err(|e| ctx(e, "remove", p))?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(ctx(e, "stat", p)),
    }
    fs::create_dir(p).map_err(|e| ctx(e, "create", p))
}

/// Creates a file, symlink or special-file entry; only when something is already at its path (rare: most
/// plans fill fresh snapshots) is that looked at, refused or removed, and the entry made again.
fn make_leaf(root: &Path, op: &CopyPlanOp, replace: bool, data: &DataCopier) -> io::Result<()> {
    let p = Path::new(&op.to);
    match create_leaf(op, p, data) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let m = fs::symlink_metadata(p).map_err(|e| ctx(e, "stat", p))?;
            if m.is_dir() && !replace {
                return Err(conflict(root, p, "directory", "a non-directory"));
            }
            if m.is_dir() {
                fs::remove_dir_all(p).map_err(|e| ctx(e, "remove", p))?;
            } else {
                fs::remove_file(p).map_err(|e| ctx(e, "remove", p))?;
            }
            create_leaf(op, p, data)
        }
        done => done,
    }
}

fn create_leaf(op: &CopyPlanOp, p: &Path, data: &DataCopier) -> io::Result<()> {
    match op.kind.as_str() {
        "file" => match op.from.as_deref() {
            Some(from) => {
                let (file, _) = data.copy(&PathBuf::from(from), p, op.size.unwrap_or(0.0) as u64)?;
                set_planned_meta(op, p, Some(&file))
            }
            None => {
                let file = File::create_new(p).map_err(|e| ctx(e, "create", p))?;
                set_planned_meta(op, p, Some(&file))
            }
        },
        "fifo" | "char" | "block" => {
            let kind = match op.kind.as_str() {
                "fifo" => SFlag::S_IFIFO,
                "char" => SFlag::S_IFCHR,
                _ => SFlag::S_IFBLK,
            };
            // The mode is set after the owner, as for files (mknod's is cut by the umask).
            mknod(p, kind, Mode::empty(), op.rdev.unwrap_or(0.0) as libc::dev_t).map_err(|e| ctx(io::Error::from(e), "create", p))?;
            set_planned_meta(op, p, None)
        }
        "symlink" => {
            std::os::unix::fs::symlink(op.link_target.as_deref().unwrap_or_default(), p)
                .map_err(|e| ctx(e, "create symlink", p))?;
            set_planned_meta(op, p, None)
        }
        other => Err(io::Error::new(io::ErrorKind::InvalidInput, format!("copy plan: unknown kind {other:?} for {}", p.display()))),
    }
}

/// Runs the plan; returns how many entries it created or replaced.
pub fn apply_copy_plan(plan: &CopyPlan) -> io::Result<u32> {
    let root = Path::new(&plan.root);
    let (dirs, leaves): (Vec<&CopyPlanOp>, Vec<&CopyPlanOp>) = plan.ops.iter().partition(|op| op.kind == "dir");
    for op in &dirs {
        make_dir(root, op, plan.replace)?;
    }
    let data = DataCopier::default();
    // Runs of neighbouring leaves (plans are in path order, so mostly one directory's) go to one
    // thread: two threads creating entries in the same directory wait on its lock in turn.
    let runs: Vec<&[&CopyPlanOp]> = leaves.chunks(LEAF_RUN).collect();
    map_indexed(runs.len(), |i| runs[i].iter().try_for_each(|op| make_leaf(root, op, plan.replace, &data)))?;
    for op in dirs.iter().rev() {
        set_planned_meta(op, Path::new(&op.to), None)?;
    }
    Ok(plan.ops.len() as u32)
}

/// Background task so the copy runs off the event loop.
pub struct CopyPlanTask {
    plan: CopyPlan,
}

impl Job for CopyPlanTask {
    type Output = u32;
    type JsValue = u32;

    fn run(&mut self) -> Result<u32, NativeError> {
        apply_copy_plan(&self.plan).map_err(|e| NativeError::bare(&e))
    }

    fn resolve(&mut self, _env: Env, out: u32) -> napi::Result<u32> {
        Ok(out)
    }
}

/// Creates the planned directories, files, symlinks and special files with their metadata.
#[napi(js_name = "applyCopyPlan", ts_return_type = "Promise<number>")]
pub fn apply_copy_plan_js(plan: CopyPlan) -> AsyncTask<Coded<CopyPlanTask>> {
    AsyncTask::new(Coded::new(CopyPlanTask { plan }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn op(kind: &str, to: &Path) -> CopyPlanOp {
        CopyPlanOp {
            kind: kind.into(),
            to: to.to_string_lossy().into_owned(),
            from: None,
            size: None,
            link_target: None,
            rdev: None,
            mode: 0o755,
            uid: 1234,
            gid: 2345,
            atime_ms: 1_000_000.5,
            mtime_ms: 2_000_250.0,
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kiln-plan-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn creates_the_tree_with_planned_metadata() {
        if unsafe { libc::geteuid() } != 0 {
            return; // chown to other ids needs root; kiln's tests run as root
        }
        let d = scratch("meta");
        fs::write(d.join("src"), b"hello").unwrap();
        let dst = d.join("out");
        let mut file = op("file", &dst.join("sub/f"));
        file.from = Some(d.join("src").to_string_lossy().into_owned());
        file.size = Some(5.0);
        file.mode = 0o4741;
        let mut link = op("symlink", &dst.join("sub/l"));
        link.link_target = Some("../nowhere".into());
        let mut top = op("dir", &dst);
        top.mode = 0o700;
        let plan = CopyPlan { root: d.to_string_lossy().into_owned(), ops: vec![top, op("dir", &dst.join("sub")), file, link], replace: false };
        assert_eq!(apply_copy_plan(&plan).unwrap(), 4);
        assert_eq!(fs::read(dst.join("sub/f")).unwrap(), b"hello");
        let f = fs::symlink_metadata(dst.join("sub/f")).unwrap();
        assert_eq!((f.mode() & 0o7777, f.uid(), f.gid()), (0o4741, 1234, 2345), "set-id bit survives the chown");
        assert_eq!((f.mtime(), f.mtime_nsec()), (2000, 250_000_000));
        assert_eq!(fs::read_link(dst.join("sub/l")).unwrap(), Path::new("../nowhere"));
        let sub = fs::symlink_metadata(dst.join("sub")).unwrap();
        assert_eq!((sub.mtime(), sub.uid()), (2000, 1234), "directory times are set after their contents");
        assert_eq!(fs::symlink_metadata(&dst).unwrap().mode() & 0o7777, 0o700);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn an_existing_entry_of_the_other_kind_fails_unless_replacing() {
        let d = scratch("conflict");
        fs::create_dir_all(d.join("x")).unwrap();
        fs::write(d.join("x/inside"), b"old").unwrap();
        fs::write(d.join("src"), b"new").unwrap();
        let mut file = op("file", &d.join("x"));
        file.from = Some(d.join("src").to_string_lossy().into_owned());
        file.size = Some(3.0);
        let mut plan = CopyPlan { root: d.to_string_lossy().into_owned(), ops: vec![file], replace: false };
        let err = apply_copy_plan(&plan).unwrap_err().to_string();
        assert_eq!(err, "cannot overwrite directory /x with a non-directory");
        assert!(d.join("x/inside").exists(), "nothing removed on refusal");
        plan.replace = true;
        apply_copy_plan(&plan).unwrap();
        assert_eq!(fs::read(d.join("x")).unwrap(), b"new");
        fs::remove_dir_all(&d).unwrap();
    }
}
