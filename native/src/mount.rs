//! Overlay mounts and unmounts, the only place kiln calls mount(2): it adds the options that keep
//! an upper dir a complete diff, and still mounts when the lowerdir list outgrows one page.

use napi::bindgen_prelude::AsyncTask;
use crate::error::{coded, context, Coded, Job, NativeError, KILN_NOT_A_MOUNT};
use napi::Env;
use napi_derive::napi;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

const OVERLAY_PARAMS: &str = "/sys/module/overlay/parameters";

/// A renamed lower dir (redirect_dir) or a metadata-only copy-up (metacopy) would leave an upper
/// dir that is not a complete diff of its lowers, and the inode index ties an upper to one set
/// of lowers; all three are turned off wherever the kernel knows them.
const DIFF_SAFE_OPTIONS: [(&str, &str); 3] = [("redirect_dir", "off"), ("metacopy", "off"), ("index", "off")];

/// One overlay mount: `lowers[0]` is the top-most layer; no upper means a read-only mount (of a
/// single lower, a read-only bind mount: overlay wants two lowers when it has no upper).
#[derive(Debug, Clone)]
pub struct Overlay {
    /// Read-only layers, top-most first.
    pub lowers: Vec<PathBuf>,
    /// Writable layer; needs `work` on the same filesystem.
    pub upper: Option<PathBuf>,
    /// Overlay's scratch dir for the upper.
    pub work: Option<PathBuf>,
    /// Where the merged tree appears.
    pub target: PathBuf,
}

/// How the options reach the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Classic mount(2) with one option string: limited to a page.
    Data,
    /// fsopen/fsconfig with one `lowerdir+` per layer (Linux 6.8+): no length limit, and
    /// the kernel says why it refuses a mount.
    FsConfig,
    /// mount(2) with layer paths relative to their common parent, from a thread whose cwd is
    /// private (unshare(CLONE_FS)), so Node's process-wide cwd is never touched.
    Relative,
}

/// The diff-safety options this kernel's overlay knows, or None while the module is not loaded
/// (its parameters appear in sysfs only then).
fn known_safe_options() -> Option<Vec<(&'static str, &'static str)>> {
    let dir = Path::new(OVERLAY_PARAMS);
    if !dir.is_dir() {
        return None;
    }
    Some(DIFF_SAFE_OPTIONS.iter().copied().filter(|(k, _)| dir.join(k).exists()).collect())
}

/// Largest option string mount(2) accepts: one page, NUL included.
fn max_mount_data() -> usize {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    (if page > 0 { page as usize } else { 4096 }) - 1
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

fn cstr(bytes: &[u8]) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| invalid(format!("path contains a NUL byte: {}", String::from_utf8_lossy(bytes))))
}

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn validate(o: &Overlay) -> io::Result<()> {
    if o.lowers.is_empty() {
        return Err(invalid("an overlay needs at least one lower dir".into()));
    }
    if o.upper.is_some() != o.work.is_some() {
        return Err(invalid("an overlay upper dir needs a work dir (and a work dir an upper)".into()));
    }
    for p in o.lowers.iter().chain(o.upper.iter()).chain(o.work.iter()).chain(std::iter::once(&o.target)) {
        if !p.is_absolute() {
            return Err(invalid(format!("overlay paths must be absolute: {}", p.display())));
        }
    }
    Ok(())
}

/// Mounts an overlay, choosing the first strategy the kernel supports and whose limits fit:
/// fsconfig first, as it has no length limit and returns the kernel's reason for a refusal.
pub fn mount_overlay(o: &Overlay) -> io::Result<()> {
    validate(o)?;
    let run = |opts: &[(&str, &str)]| match mount_with(o, opts, Strategy::FsConfig) {
        Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {
            if data_string(o, opts, None).len() <= max_mount_data() {
                mount_with(o, opts, Strategy::Data)
            } else {
                mount_with(o, opts, Strategy::Relative)
            }
        }
        r => r,
    };
    match known_safe_options() {
        Some(opts) => run(&opts),
        // Not loaded yet: the first mount attempt loads it, after which sysfs says what it knows.
        None => match run(&DIFF_SAFE_OPTIONS) {
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => run(&known_safe_options().unwrap_or_default()),
            r => r,
        },
    }
}

/// Mounts with one given strategy (tests force each one; callers use [`mount_overlay`]).
pub fn mount_with(o: &Overlay, opts: &[(&str, &str)], strategy: Strategy) -> io::Result<()> {
    validate(o)?;
    if o.upper.is_none() && o.lowers.len() == 1 {
        return bind_read_only(&o.lowers[0], &o.target);
    }
    match strategy {
        Strategy::Data => mount_data(o, &data_string(o, opts, None)),
        Strategy::FsConfig => mount_fsconfig(o, opts),
        Strategy::Relative => mount_relative(o, opts),
    }
}

/// overlay unescapes `\` in lowerdir/upperdir/workdir values, and splits the option string on
/// `,` and the lowerdir list on `:`, so all three are escaped.
fn push_escaped(out: &mut Vec<u8>, p: &Path) {
    for &b in p.as_os_str().as_bytes() {
        if matches!(b, b'\\' | b',' | b':') {
            out.push(b'\\');
        }
        out.push(b);
    }
}

fn data_string(o: &Overlay, opts: &[(&str, &str)], base: Option<&Path>) -> Vec<u8> {
    let rel = |p: &Path| -> PathBuf {
        match base {
            Some(b) => p.strip_prefix(b).map(Path::to_path_buf).unwrap_or_else(|_| p.to_path_buf()),
            None => p.to_path_buf(),
        }
    };
    let mut s = b"lowerdir=".to_vec();
    for (i, l) in o.lowers.iter().enumerate() {
        if i > 0 {
            s.push(b':');
        }
        push_escaped(&mut s, &rel(l));
    }
    if let (Some(u), Some(w)) = (&o.upper, &o.work) {
        s.extend_from_slice(b",upperdir=");
        push_escaped(&mut s, &rel(u));
        s.extend_from_slice(b",workdir=");
        push_escaped(&mut s, &rel(w));
    }
    for (k, v) in opts {
        s.extend_from_slice(format!(",{k}={v}").as_bytes());
    }
    s
}

fn mount_data(o: &Overlay, data: &[u8]) -> io::Result<()> {
    if data.len() > max_mount_data() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("overlay options are {} bytes, over the kernel's {} byte limit", data.len(), max_mount_data()),
        ));
    }
    let target = cstr(o.target.as_os_str().as_bytes())?;
    let data = cstr(data)?;
    let flags = if o.upper.is_none() { libc::MS_RDONLY } else { 0 };
    // SAFETY: every pointer is a valid NUL-terminated string that outlives the call.
    check(unsafe {
        libc::mount(c"overlay".as_ptr(), target.as_ptr(), c"overlay".as_ptr(), flags, data.as_ptr().cast())
    })?;
    Ok(())
}

/// overlay refuses a single lower without an upper; a read-only bind of it is the same tree.
fn bind_read_only(src: &Path, target: &Path) -> io::Result<()> {
    let s = cstr(src.as_os_str().as_bytes())?;
    let t = cstr(target.as_os_str().as_bytes())?;
    // SAFETY: valid NUL-terminated strings; bind mounts ignore fstype and data.
    check(unsafe { libc::mount(s.as_ptr(), t.as_ptr(), std::ptr::null(), libc::MS_BIND, std::ptr::null()) })?;
    // A bind mount takes MS_RDONLY only on a remount of itself.
    let flags = libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY;
    // SAFETY: as above.
    if let Err(e) = check(unsafe { libc::mount(std::ptr::null(), t.as_ptr(), std::ptr::null(), flags, std::ptr::null()) }) {
        let _ = unmount(target, true);
        return Err(e);
    }
    Ok(())
}

fn mount_relative(o: &Overlay, opts: &[(&str, &str)]) -> io::Result<()> {
    let layers: Vec<&Path> =
        o.lowers.iter().chain(o.upper.iter()).chain(o.work.iter()).map(PathBuf::as_path).collect();
    let base = common_parent(&layers);
    let data = data_string(o, opts, Some(&base));
    if data.len() > max_mount_data() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} overlay layers need {} bytes of options even relative to {}, over the kernel's {} byte limit (Linux 6.8+ lifts it)",
                o.lowers.len(),
                data.len(),
                base.display(),
                max_mount_data()
            ),
        ));
    }
    let o = o.clone();
    std::thread::spawn(move || -> io::Result<()> {
        // SAFETY: unshare(CLONE_FS) only detaches this thread's cwd/root/umask from the process.
        check(unsafe { libc::unshare(libc::CLONE_FS) })?;
        std::env::set_current_dir(&base)?;
        mount_data(&o, &data)
    })
    .join()
    .map_err(|_| io::Error::other("the mount thread panicked"))?
}

/// The deepest directory that holds every layer.
fn common_parent(paths: &[&Path]) -> PathBuf {
    let mut base: Vec<_> = match paths.first().and_then(|p| p.parent()) {
        Some(p) => p.components().collect(),
        None => return PathBuf::from("/"),
    };
    for p in &paths[1..] {
        let parent: Vec<_> = p.parent().map(|q| q.components().collect()).unwrap_or_default();
        let same = base.iter().zip(parent.iter()).take_while(|(a, b)| a == b).count();
        base.truncate(same);
    }
    base.iter().collect()
}

fn owned(fd: libc::c_long) -> io::Result<OwnedFd> {
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this descriptor to us and nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

/// The messages the kernel logged into an fs context; they say why a mount was refused.
fn context_log(fs: &OwnedFd) -> String {
    let mut lines = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        // SAFETY: buf is valid for its length.
        let n = unsafe { libc::read(fs.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            break;
        }
        lines.push(String::from_utf8_lossy(&buf[..n as usize]).trim_end().to_string());
    }
    lines.join("; ")
}

fn fsconfig_raw(fs: &OwnedFd, key: &str, value: &[u8]) -> io::Result<()> {
    let key = cstr(key.as_bytes())?;
    let value = cstr(value)?;
    // SAFETY: valid fd and NUL-terminated strings.
    let r = unsafe {
        libc::syscall(libc::SYS_fsconfig, fs.as_raw_fd(), libc::FSCONFIG_SET_STRING, key.as_ptr(), value.as_ptr(), 0)
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn with_log(fs: &OwnedFd, e: io::Error) -> io::Error {
    let log = context_log(fs);
    if log.is_empty() {
        e
    } else {
        {
        let message = format!("{e} ({log})");
        context(e, message)
    }
    }
}

fn fsconfig_string(fs: &OwnedFd, key: &str, value: &[u8]) -> io::Result<()> {
    fsconfig_raw(fs, key, value).map_err(|e| with_log(fs, e))
}

/// fsconfig copies at most 255 bytes of a string value.
const FSCONFIG_STRING_MAX: usize = 255;

/// Passes one layer: by path string when it fits, else as an O_PATH descriptor (Linux 6.13+).
/// `escape`: the kernel unescapes upperdir/workdir strings but not lowerdir+ ones.
fn fsconfig_layer(fs: &OwnedFd, key: &str, dir: &Path, escape: bool) -> io::Result<()> {
    let mut value = Vec::new();
    if escape {
        push_escaped(&mut value, dir);
    } else {
        value.extend_from_slice(dir.as_os_str().as_bytes());
    }
    if value.len() <= FSCONFIG_STRING_MAX {
        return fsconfig_raw(fs, key, &value);
    }
    let path = cstr(dir.as_os_str().as_bytes())?;
    // SAFETY: valid NUL-terminated path.
    let fd = check(unsafe { libc::open(path.as_ptr(), libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC) })?;
    // SAFETY: open just returned it to us.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let key = cstr(key.as_bytes())?;
    // SAFETY: valid fds and key; FSCONFIG_SET_FD takes the descriptor in `aux`.
    let r = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            libc::FSCONFIG_SET_FD,
            key.as_ptr(),
            std::ptr::null::<libc::c_void>(),
            fd.as_raw_fd(),
        )
    };
    if r < 0 {
        let e = io::Error::last_os_error();
        // Kernels before 6.13 take layers only as strings: the long path needs another strategy.
        return Err(if e.raw_os_error() == Some(libc::EINVAL) { io::Error::from_raw_os_error(libc::ENOSYS) } else { e });
    }
    Ok(())
}

/// New mount API: `lowerdir+` takes one layer per call, so no option string to outgrow. A
/// kernel that lacks a part of it answers ENOSYS here.
fn mount_fsconfig(o: &Overlay, opts: &[(&str, &str)]) -> io::Result<()> {
    // SAFETY: plain syscall with a valid NUL-terminated string.
    let fs = owned(unsafe { libc::syscall(libc::SYS_fsopen, c"overlay".as_ptr(), libc::FSOPEN_CLOEXEC) })?;
    let layer_error = |e: io::Error, dir: &Path, first: bool| -> io::Error {
        let log = context_log(&fs);
        // Kernels before 6.8 have the new mount API but not lowerdir+.
        if e.raw_os_error() == Some(libc::ENOSYS)
            || (first && e.raw_os_error() == Some(libc::EINVAL) && log.contains("Unknown parameter"))
        {
            return io::Error::from_raw_os_error(libc::ENOSYS);
        }
        let log = if log.is_empty() { String::new() } else { format!(" ({log})") };
        let message = format!("layer {}: {e}{log}", dir.display());
        context(e, message)
    };
    for (i, l) in o.lowers.iter().enumerate() {
        fsconfig_layer(&fs, "lowerdir+", l, false).map_err(|e| layer_error(e, l, i == 0))?;
    }
    if let (Some(u), Some(w)) = (&o.upper, &o.work) {
        fsconfig_layer(&fs, "upperdir", u, true).map_err(|e| layer_error(e, u, false))?;
        fsconfig_layer(&fs, "workdir", w, true).map_err(|e| layer_error(e, w, false))?;
    }
    for (k, v) in opts {
        fsconfig_string(&fs, k, v.as_bytes())?;
    }
    // SAFETY: valid fd; the create command takes no key or value.
    let r = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            libc::FSCONFIG_CMD_CREATE,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_void>(),
            0,
        )
    };
    if r < 0 {
        return Err(with_log(&fs, io::Error::last_os_error()));
    }
    let attrs: libc::c_uint = if o.upper.is_none() { libc::MOUNT_ATTR_RDONLY as libc::c_uint } else { 0 };
    // SAFETY: valid fd.
    let mnt = owned(unsafe { libc::syscall(libc::SYS_fsmount, fs.as_raw_fd(), libc::FSMOUNT_CLOEXEC, attrs) })?;
    let target = cstr(o.target.as_os_str().as_bytes())?;
    // SAFETY: valid fd and strings; the empty path refers to the detached mount itself.
    let r = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            mnt.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_FDCWD,
            target.as_ptr(),
            libc::MOVE_MOUNT_F_EMPTY_PATH,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Unmounts `target` (never following a symlink there); `detach` unmounts lazily, for a mount
/// that may still be busy.
pub fn unmount(target: &Path, detach: bool) -> io::Result<()> {
    let t = cstr(target.as_os_str().as_bytes())?;
    let flags = libc::UMOUNT_NOFOLLOW | if detach { libc::MNT_DETACH } else { 0 };
    loop {
        // SAFETY: valid NUL-terminated string.
        match check(unsafe { libc::umount2(t.as_ptr(), flags) }) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                return Err(coded(KILN_NOT_A_MOUNT, Some(libc::EINVAL), format!("{} is not a mount point", target.display())))
            }
            r => return r.map(|_| ()),
        }
    }
}

/// What JavaScript passes to `mountOverlay`.
#[napi(object)]
pub struct MountOverlayOptions {
    /// Read-only layers, top-most first.
    pub lowers: Vec<String>,
    /// Writable layer (absent = read-only mount).
    pub upper: Option<String>,
    /// Overlay's work dir, beside the upper.
    pub work: Option<String>,
    /// Mount point.
    pub target: String,
}

/// Background task for `mountOverlay`.
pub struct MountOverlayTask(Overlay);

impl Job for MountOverlayTask {
    type Output = ();
    type JsValue = ();

    fn run(&mut self) -> Result<(), NativeError> {
        mount_overlay(&self.0).map_err(|e| NativeError::io(format_args!("mount overlay at {}", self.0.target.display()), &e))
    }

    fn resolve(&mut self, _env: Env, _out: ()) -> napi::Result<()> {
        Ok(())
    }
}

/// Mounts an overlay at `target` off the event loop.
#[napi(js_name = "mountOverlay", ts_return_type = "Promise<void>")]
pub fn mount_overlay_js(opts: MountOverlayOptions) -> AsyncTask<Coded<MountOverlayTask>> {
    AsyncTask::new(Coded::new(MountOverlayTask(Overlay {
        lowers: opts.lowers.into_iter().map(PathBuf::from).collect(),
        upper: opts.upper.map(PathBuf::from),
        work: opts.work.map(PathBuf::from),
        target: PathBuf::from(opts.target),
    })))
}

/// What JavaScript passes to `unmount`.
#[napi(object)]
pub struct UnmountOptions {
    /// Lazy unmount (MNT_DETACH): the mount disappears now, its tree when the last user leaves.
    pub detach: Option<bool>,
}

/// Background task for `unmount`.
pub struct UnmountTask {
    target: PathBuf,
    detach: bool,
}

impl Job for UnmountTask {
    type Output = ();
    type JsValue = ();

    fn run(&mut self) -> Result<(), NativeError> {
        unmount(&self.target, self.detach).map_err(|e| NativeError::io(format_args!("unmount {}", self.target.display()), &e))
    }

    fn resolve(&mut self, _env: Env, _out: ()) -> napi::Result<()> {
        Ok(())
    }
}

/// Unmounts `target` off the event loop.
#[napi(js_name = "unmount", ts_return_type = "Promise<void>")]
pub fn unmount_js(target: String, opts: Option<UnmountOptions>) -> AsyncTask<Coded<UnmountTask>> {
    let detach = opts.and_then(|o| o.detach).unwrap_or(false);
    AsyncTask::new(Coded::new(UnmountTask { target: PathBuf::from(target), detach }))
}

/// Lazily unmounts `target` on the calling thread: only for process 'exit' handlers, where no
/// promise can settle any more. MNT_DETACH never waits for a busy mount.
#[napi]
pub fn unmount_detach_sync(env: Env, target: String) -> napi::Result<()> {
    unmount(Path::new(&target), true).map_err(|e| NativeError::io(format_args!("unmount {target}"), &e).into_napi(&env))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn is_root() -> bool {
        // SAFETY: geteuid has no preconditions.
        unsafe { libc::geteuid() == 0 }
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kiln-mount-{}-{}", name, std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn mountinfo_line(target: &Path) -> Option<String> {
        let info = fs::read_to_string("/proc/self/mountinfo").unwrap();
        let t = target.to_str().unwrap();
        info.lines().find(|l| l.split(' ').nth(4) == Some(t)).map(str::to_string)
    }

    /// A chain of `n` lowers under a long, oddly named dir; lower i holds file `f<i>`, the
    /// bottom one also `bottom`.
    fn deep_chain(root: &Path, n: usize) -> (PathBuf, Vec<PathBuf>) {
        // Over 255 bytes: fsconfig then passes layers as descriptors, not strings.
        let long = root.join("l".repeat(150)).join(format!("{}-with,comma:colon\\backslash", "m".repeat(100)));
        let mut lowers = Vec::new();
        for i in 0..n {
            let d = long.join(i.to_string()).join("fs");
            fs::create_dir_all(&d).unwrap();
            fs::write(d.join(format!("f{i}")), format!("{i}")).unwrap();
            lowers.push(d);
        }
        fs::write(lowers[n - 1].join("bottom"), "deep").unwrap();
        lowers.reverse(); // top-most first
        (long, lowers)
    }

    fn check_deep(strategy: Strategy, name: &str) {
        if !is_root() {
            eprintln!("skipping: overlay mounts need root");
            return;
        }
        let root = scratch(name);
        // As in the store, the upper and work dirs sit beside the lowers.
        let (long, lowers) = deep_chain(&root, 160);
        let upper = long.join("top/fs");
        let work = long.join("top/work");
        let target = root.join("merged");
        for d in [&upper, &work, &target] {
            fs::create_dir_all(d).unwrap();
        }
        let o = Overlay { lowers, upper: Some(upper.clone()), work: Some(work), target: target.clone() };
        assert!(data_string(&o, &[], None).len() > max_mount_data(), "the chain must outgrow one page");
        mount_with(&o, &known_safe_options().unwrap_or_default(), strategy).unwrap();
        let read = fs::read_to_string(target.join("bottom"));
        let wrote = fs::write(target.join("new"), "n");
        unmount(&target, false).unwrap();
        assert_eq!(read.unwrap(), "deep");
        wrote.unwrap();
        assert_eq!(fs::read_to_string(upper.join("new")).unwrap(), "n");
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn deep_chain_mounts_with_fsconfig() {
        check_deep(Strategy::FsConfig, "fsconfig");
    }

    #[test]
    fn deep_chain_mounts_relative_to_common_parent() {
        check_deep(Strategy::Relative, "relative");
    }

    #[test]
    fn long_chain_through_mount_overlay_picks_a_strategy_that_fits() {
        check_deep_auto();
    }

    fn check_deep_auto() {
        if !is_root() {
            return;
        }
        let root = scratch("auto");
        let (_, lowers) = deep_chain(&root, 155);
        let target = root.join("merged");
        fs::create_dir_all(&target).unwrap();
        mount_overlay(&Overlay { lowers, upper: None, work: None, target: target.clone() }).unwrap();
        let read = fs::read_to_string(target.join("f0"));
        unmount(&target, false).unwrap();
        assert_eq!(read.unwrap(), "0");
        fs::remove_dir_all(&root).unwrap();
    }

    /// The kernel shows an option in mountinfo only when it differs from the module default, so
    /// an absent option must mean the default (sysfs) is already off. Only meaningful with an
    /// upper: without one the kernel reports redirect_dir=on, as nothing can be redirected.
    fn assert_diff_safe(line: &str) {
        let shown: Vec<&str> = line.rsplit(' ').next().unwrap().split(',').collect();
        for (k, _) in known_safe_options().unwrap() {
            match shown.iter().find(|o| o.starts_with(&format!("{k}="))) {
                Some(o) => assert_eq!(*o, format!("{k}=off"), "{line}"),
                None => {
                    let def = fs::read_to_string(Path::new(OVERLAY_PARAMS).join(k)).unwrap();
                    assert_eq!(def.trim(), "N", "{k} is on by default yet not shown as off: {line}");
                }
            }
        }
    }

    #[test]
    fn short_mount_is_diff_safe_and_upper_wins_with_every_strategy() {
        if !is_root() {
            return;
        }
        check_short(None, "short-auto");
        check_short(Some(Strategy::Data), "short-data");
        check_short(Some(Strategy::FsConfig), "short-fsconfig");
        check_short(Some(Strategy::Relative), "short-relative");
    }

    fn check_short(strategy: Option<Strategy>, name: &str) {
        let root = scratch(name);
        let (low1, low2, upper, work, target) =
            (root.join("l1"), root.join("l2"), root.join("u"), root.join("w"), root.join("m"));
        for d in [&low1, &low2, &upper, &work, &target, &low2.join("dir")] {
            fs::create_dir_all(d).unwrap();
        }
        fs::write(low2.join("a"), "bottom").unwrap();
        fs::write(low1.join("a"), "top").unwrap();
        fs::write(low2.join("b"), "b").unwrap();
        fs::write(low2.join("big"), vec![1u8; 10_000]).unwrap();
        let o = Overlay { lowers: vec![low1, low2], upper: Some(upper.clone()), work: Some(work), target: target.clone() };
        match strategy {
            None => mount_overlay(&o).unwrap(),
            Some(s) => mount_with(&o, &known_safe_options().unwrap(), s).unwrap(),
        }
        let line = mountinfo_line(&target);
        let a = fs::read_to_string(target.join("a"));
        let b = fs::read_to_string(target.join("b"));
        // redirect_dir=off: renaming a lower dir must fail with EXDEV, not write a redirect.
        let renamed = fs::rename(target.join("dir"), target.join("moved"));
        // metacopy=off: a chmod copies the data up too, so the upper file is complete.
        let chmod = fs::set_permissions(target.join("big"), std::os::unix::fs::PermissionsExt::from_mode(0o600));
        unmount(&target, false).unwrap();
        assert_diff_safe(&line.expect("the overlay shows in mountinfo"));
        assert_eq!(a.unwrap(), "top");
        assert_eq!(b.unwrap(), "b");
        assert_eq!(renamed.unwrap_err().raw_os_error(), Some(libc::EXDEV));
        chmod.unwrap();
        assert_eq!(fs::read(upper.join("big")).unwrap().len(), 10_000);
        assert!(mountinfo_line(&target).is_none());
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn metacopy_on_would_be_visible_and_we_pass_it_off() {
        // Prove the options really reach the kernel: metacopy=on is shown (it is not the default
        // here), and our mount of the same dirs does not show it.
        if !is_root() || !Path::new(OVERLAY_PARAMS).join("metacopy").exists() {
            return;
        }
        let root = scratch("metacopy");
        let (l1, u, w, target) = (root.join("l1"), root.join("u"), root.join("w"), root.join("m"));
        for d in [&l1, &u, &w, &target] {
            fs::create_dir_all(d).unwrap();
        }
        let o = Overlay { lowers: vec![l1], upper: Some(u), work: Some(w), target: target.clone() };
        mount_with(&o, &[("metacopy", "on")], Strategy::FsConfig).unwrap();
        let on = mountinfo_line(&target).unwrap();
        unmount(&target, false).unwrap();
        mount_overlay(&o).unwrap();
        let ours = mountinfo_line(&target).unwrap();
        unmount(&target, false).unwrap();
        assert!(on.contains("metacopy=on"), "{on}");
        assert_diff_safe(&ours);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn read_only_mount_refuses_writes() {
        if !is_root() {
            return;
        }
        let root = scratch("ro");
        let (low, target) = (root.join("l"), root.join("m"));
        fs::create_dir_all(&low).unwrap();
        fs::create_dir_all(&target).unwrap();
        fs::write(low.join("x"), "x").unwrap();
        mount_overlay(&Overlay { lowers: vec![low], upper: None, work: None, target: target.clone() }).unwrap();
        let w = fs::write(target.join("y"), "y");
        let r = fs::read_to_string(target.join("x"));
        unmount(&target, false).unwrap();
        assert_eq!(w.unwrap_err().raw_os_error(), Some(libc::EROFS));
        assert_eq!(r.unwrap(), "x");
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn bad_input_is_refused_before_any_syscall() {
        let t = PathBuf::from("/nonexistent-kiln-target");
        assert!(mount_overlay(&Overlay { lowers: vec![], upper: None, work: None, target: t.clone() }).is_err());
        let e = mount_overlay(&Overlay {
            lowers: vec!["relative/dir".into()],
            upper: None,
            work: None,
            target: t.clone(),
        })
        .unwrap_err();
        assert!(e.to_string().contains("absolute"), "{e}");
        let e = mount_overlay(&Overlay { lowers: vec!["/a".into()], upper: Some("/u".into()), work: None, target: t })
            .unwrap_err();
        assert!(e.to_string().contains("work dir"), "{e}");
    }

    #[test]
    fn unmounting_a_plain_dir_says_so() {
        let d = scratch("plain");
        let e = unmount(&d, false).unwrap_err();
        if is_root() {
            assert!(e.to_string().contains("not a mount point"), "{e}");
        }
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn common_parent_is_the_deepest_shared_dir() {
        let a = Path::new("/s/snapshots/1/fs");
        let b = Path::new("/s/snapshots/2/fs");
        let c = Path::new("/s/snapshots/2/work");
        assert_eq!(common_parent(&[a, b, c]), PathBuf::from("/s/snapshots"));
        assert_eq!(common_parent(&[a]), PathBuf::from("/s/snapshots/1"));
        assert_eq!(common_parent(&[a, Path::new("/other/x")]), PathBuf::from("/"));
    }

    #[test]
    fn escapes_separators_in_the_option_string() {
        let o = Overlay { lowers: vec!["/a:b".into(), "/c,d\\e".into()], upper: None, work: None, target: "/t".into() };
        assert_eq!(data_string(&o, &[("index", "off")], None), b"lowerdir=/a\\:b:/c\\,d\\\\e,index=off".to_vec());
    }
}
