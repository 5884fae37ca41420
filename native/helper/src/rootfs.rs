//! Building the container's filesystem in its new mount namespace: overlay or bind root, /proc,
//! /dev, /sys, the runner's mounts, masked paths, then pivot_root into it.

use crate::paths::{ensure_mountpoint, secure_join};
use crate::spec::{MountType, Spec};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::unistd::{chdir, pivot_root};
use std::fs;
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::{Path, PathBuf};

/// Host device nodes bind-mounted into the container's /dev: binding needs no mknod and keeps the
/// node's identity exactly as the host has it.
const DEVICES: [&str; 6] = ["null", "zero", "full", "random", "urandom", "tty"];

struct Builder<'a> {
    root: &'a Path,
    root_dev: u64,
    stubs: Vec<String>,
}

fn none() -> Option<&'static str> {
    None
}

fn ctx<T>(what: impl FnOnce() -> String) -> impl FnOnce(T) -> String
where
    T: std::fmt::Display,
{
    move |e| format!("{}: {e}", what())
}

impl Builder<'_> {
    /// Resolves `path` inside the rootfs and creates it as a mount point if needed.
    fn target(&mut self, path: &str, dir: bool) -> Result<PathBuf, String> {
        let target = secure_join(self.root, path).map_err(ctx(|| format!("resolving {path} in the rootfs")))?;
        let created = ensure_mountpoint(self.root, &target, dir).map_err(ctx(|| format!("creating mount point {path}")))?;
        // Only what was created in the rootfs itself is a stub to clean up; a mount point made
        // inside a tmpfs or another mount vanishes with it.
        for rel in created {
            if fs::symlink_metadata(self.root.join(&rel)).map(|m| m.dev()).ok() == Some(self.root_dev) {
                self.stubs.push(rel);
            }
        }
        Ok(target)
    }

    fn mount_fs(&mut self, fstype: &str, path: &str, flags: MsFlags, data: Option<&str>) -> Result<PathBuf, String> {
        let target = self.target(path, true)?;
        mount(Some(fstype), &target, Some(fstype), flags, data).map_err(ctx(|| format!("mounting {fstype} on {path}")))?;
        Ok(target)
    }

    fn bind(&mut self, source: &Path, path: &str, readonly: bool, extra: MsFlags) -> Result<(), String> {
        let is_dir = fs::metadata(source).map_err(ctx(|| format!("bind source {}", source.display())))?.is_dir();
        let target = self.target(path, is_dir)?;
        mount(Some(source), &target, none(), MsFlags::MS_BIND | MsFlags::MS_REC, none())
            .map_err(ctx(|| format!("bind-mounting {} on {path}", source.display())))?;
        if readonly || !extra.is_empty() {
            let mut flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | extra;
            if readonly {
                flags |= MsFlags::MS_RDONLY;
            }
            mount(none(), &target, none(), flags, none()).map_err(ctx(|| format!("remounting {path} read-only")))?;
        }
        Ok(())
    }

    fn dev(&mut self) -> Result<(), String> {
        let nosuid = MsFlags::MS_NOSUID;
        let dev = self.mount_fs("tmpfs", "/dev", nosuid | MsFlags::MS_STRICTATIME, Some("mode=755,size=65536k"))?;
        for name in DEVICES {
            let node = dev.join(name);
            fs::File::create(&node).map_err(ctx(|| format!("creating /dev/{name}")))?;
            let host = format!("/dev/{name}");
            mount(Some(host.as_str()), &node, none(), MsFlags::MS_BIND, none()).map_err(ctx(|| format!("binding {host}")))?;
        }
        self.mount_fs("devpts", "/dev/pts", nosuid | MsFlags::MS_NOEXEC, Some("newinstance,ptmxmode=0666,mode=0620,gid=5"))?;
        let private = nosuid | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
        self.mount_fs("tmpfs", "/dev/shm", private, Some("mode=1777,size=65536k"))?;
        self.mount_fs("mqueue", "/dev/mqueue", private, None)?;
        for (link, to) in [("ptmx", "pts/ptmx"), ("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")] {
            symlink(to, dev.join(link)).map_err(ctx(|| format!("linking /dev/{link}")))?;
        }
        Ok(())
    }

    fn sys(&mut self) -> Result<(), String> {
        let flags = MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
        let target = self.target("/sys", true)?;
        // A fresh sysfs shows the container's own network devices; where the kernel refuses one
        // (sysfs is tied to the mounting network namespace), a read-only view of the host's will do.
        if mount(Some("sysfs"), &target, Some("sysfs"), flags, none()).is_ok() {
            return Ok(());
        }
        self.bind(Path::new("/sys"), "/sys", true, MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC)
    }

    fn user_mounts(&mut self, spec: &Spec) -> Result<(), String> {
        let mut mounts: Vec<_> = spec.mounts.iter().collect();
        // Parents before children, whatever order the caller listed them in.
        mounts.sort_by_key(|m| Path::new(&m.target).components().count());
        for m in mounts {
            let (flags, data) = parse_options(&m.options);
            match m.kind {
                MountType::Bind => {
                    let source = m.source.as_deref().ok_or_else(|| format!("bind mount on {} has no source", m.target))?;
                    self.bind(Path::new(source), &m.target, m.readonly || flags.contains(MsFlags::MS_RDONLY), flags - MsFlags::MS_RDONLY)?;
                }
                MountType::Tmpfs => {
                    let mut flags = flags | MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
                    if m.readonly {
                        flags |= MsFlags::MS_RDONLY;
                    }
                    let data = (!data.is_empty()).then(|| data.join(","));
                    self.mount_fs("tmpfs", &m.target, flags, data.as_deref())?;
                }
            }
        }
        Ok(())
    }
}

/// Splits mount(8)-style options into flags and the filesystem's own data options.
fn parse_options(options: &[String]) -> (MsFlags, Vec<String>) {
    let mut flags = MsFlags::empty();
    let mut data = Vec::new();
    for opt in options {
        match opt.as_str() {
            "ro" => flags |= MsFlags::MS_RDONLY,
            "nosuid" => flags |= MsFlags::MS_NOSUID,
            "nodev" => flags |= MsFlags::MS_NODEV,
            "noexec" => flags |= MsFlags::MS_NOEXEC,
            "noatime" => flags |= MsFlags::MS_NOATIME,
            "rw" | "bind" | "rbind" | "suid" | "dev" | "exec" | "rprivate" | "private" => {}
            other => data.push(other.to_string()),
        }
    }
    (flags, data)
}

fn overlay_data(spec: &Spec) -> Option<String> {
    let o = spec.overlay.as_ref()?;
    let lowers = if o.lowers.is_empty() { vec![spec.rootfs.clone()] } else { o.lowers.clone() };
    Some(format!("lowerdir={},upperdir={},workdir={}", lowers.join(":"), o.upper, o.work))
}

/// Runs in the container's PID 1, in its fresh mount namespace. Returns the stubs it created.
pub fn setup(spec: &Spec) -> Result<Vec<String>, String> {
    // Private, so nothing mounted here reaches the host and the host's later mounts stay out.
    mount(none(), "/", none(), MsFlags::MS_REC | MsFlags::MS_PRIVATE, none()).map_err(ctx(|| "making / private".to_string()))?;
    let root = Path::new(&spec.rootfs);
    match overlay_data(spec) {
        Some(data) => mount(Some("overlay"), root, Some("overlay"), MsFlags::empty(), Some(data.as_str()))
            .map_err(ctx(|| format!("mounting overlay ({data}) on {}", spec.rootfs)))?,
        // pivot_root needs the new root to be a mount point.
        None => mount(Some(root), root, none(), MsFlags::MS_BIND | MsFlags::MS_REC, none())
            .map_err(ctx(|| format!("bind-mounting rootfs {}", spec.rootfs)))?,
    }
    let root_dev = fs::metadata(root).map_err(ctx(|| format!("rootfs {}", spec.rootfs)))?.dev();
    let mut b = Builder { root, root_dev, stubs: Vec::new() };
    b.mount_fs("proc", "/proc", MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC, None)?;
    b.dev()?;
    b.sys()?;
    b.user_mounts(spec)?;
    for path in &spec.readonly_paths {
        let target = secure_join(root, path).map_err(|e| e.to_string())?;
        if target.exists() {
            b.bind(&target, path, true, MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC)?;
        }
    }
    for path in &spec.masked_paths {
        let target = secure_join(root, path).map_err(|e| e.to_string())?;
        match fs::metadata(&target) {
            Ok(m) if m.is_dir() => {
                mount(Some("tmpfs"), &target, Some("tmpfs"), MsFlags::MS_RDONLY, none()).map_err(ctx(|| format!("masking {path}")))?
            }
            Ok(_) => mount(Some("/dev/null"), &target, none(), MsFlags::MS_BIND, none()).map_err(ctx(|| format!("masking {path}")))?,
            Err(_) => {}
        }
    }
    enter(root)?;
    Ok(b.stubs)
}

/// pivot_root with the new and old roots stacked on one directory, then the old one detached: the
/// host's tree is gone from this namespace, which a chroot would leave reachable.
fn enter(root: &Path) -> Result<(), String> {
    chdir(root).map_err(ctx(|| "entering the rootfs".to_string()))?;
    pivot_root(".", ".").map_err(ctx(|| "pivot_root".to_string()))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(ctx(|| "detaching the old root".to_string()))?;
    chdir("/").map_err(ctx(|| "chdir /".to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_split_into_flags_and_data() {
        let opts: Vec<String> = ["ro", "noexec", "size=1m", "mode=700", "rbind"].iter().map(|s| s.to_string()).collect();
        let (flags, data) = parse_options(&opts);
        assert_eq!(flags, MsFlags::MS_RDONLY | MsFlags::MS_NOEXEC);
        assert_eq!(data, vec!["size=1m", "mode=700"]);
    }
}
