//! The container's process, from the end of the container's setup to execve: session and terminal,
//! seccomp, user and groups, capabilities, no_new_privs, working directory, and the executable looked up in
//! the container's PATH.

use crate::caps;
use crate::spec::Process;
use crate::supervise::restore_signals;
use nix::unistd::{chdir, setgroups, setresgid, setresuid, setsid, Gid, Uid};
use std::ffi::CString;
use std::fs;
use std::os::unix::fs::PermissionsExt;

/// Docker's PATH for images that set none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// How a failed exec ends, as Docker reports it: 127 when there is nothing to run, 126 when it cannot run.
#[derive(Debug, PartialEq, Eq)]
pub struct ExecFailure {
    pub code: i32,
    pub message: String,
}

fn is_executable(path: &str) -> bool {
    fs::metadata(path).map(|m| !m.is_dir() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// Finds `name` the way Go's exec.LookPath does (and so Docker): a name with a slash is used as
/// given, anything else is searched in PATH, and only an executable file counts as found.
pub fn look_path(name: &str, env: &[String]) -> Result<String, ExecFailure> {
    if name.contains('/') {
        return Ok(name.to_string());
    }
    let path = env.iter().rev().find_map(|e| e.strip_prefix("PATH=")).unwrap_or(DEFAULT_PATH);
    for dir in path.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let candidate = format!("{dir}/{name}");
        if is_executable(&candidate) {
            return Ok(candidate);
        }
    }
    Err(ExecFailure { code: 127, message: format!("exec: {name:?}: executable file not found in $PATH") })
}

fn exec_error(name: &str, path: &str, err: nix::errno::Errno) -> ExecFailure {
    use nix::errno::Errno;
    match err {
        Errno::ENOENT => ExecFailure { code: 127, message: format!("exec: {name:?}: stat {path}: no such file or directory") },
        Errno::EISDIR => ExecFailure { code: 126, message: format!("exec: {name:?}: is a directory") },
        Errno::EACCES | Errno::EPERM | Errno::ENOEXEC => ExecFailure { code: 126, message: format!("exec: {name:?}: permission denied") },
        other => ExecFailure { code: 126, message: format!("exec: {name:?}: {}", other.desc().to_lowercase()) },
    }
}

/// Everything between the container's setup and exec that can fail for a reason the runner should hear about.
pub fn prepare(spec: &Process) -> Result<(), String> {
    restore_signals().map_err(|e| format!("restoring signals: {e}"))?;
    setsid().map_err(|e| format!("setsid: {e}"))?;
    if spec.tty && unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) } < 0 {
        return Err(format!("making the pty the controlling terminal: {}", std::io::Error::last_os_error()));
    }
    // Before the capabilities go: without no_new_privs, installing a filter needs CAP_SYS_ADMIN.
    if let Some(policy) = &spec.seccomp {
        crate::seccomp::install(policy)?;
    }
    let keep = caps::mask(&spec.capabilities)?;
    caps::limit_bounding(keep)?;
    // KEEPCAPS carries the permitted set across setuid to a non-root user, so capset below can
    // still grant it; execve then recomputes it for that user as the kernel always does.
    unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) };
    let groups: Vec<Gid> = spec.groups.iter().map(|g| Gid::from_raw(*g)).collect();
    setgroups(&groups).map_err(|e| format!("setgroups {:?}: {e}", spec.groups))?;
    let (gid, uid) = (Gid::from_raw(spec.gid), Uid::from_raw(spec.uid));
    setresgid(gid, gid, gid).map_err(|e| format!("setgid {}: {e}", spec.gid))?;
    setresuid(uid, uid, uid).map_err(|e| format!("setuid {}: {e}", spec.uid))?;
    unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 0, 0, 0, 0) };
    caps::set(keep)?;
    if spec.no_new_privileges && unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } < 0 {
        return Err(format!("setting no_new_privs: {}", std::io::Error::last_os_error()));
    }
    chdir(spec.cwd.as_str()).map_err(|e| format!("chdir to cwd {:?}: {e}", spec.cwd))?;
    Ok(())
}

/// A command ready for execve: its executable looked up, its argv and environment as C strings.
pub struct Command {
    name: String,
    path: String,
    cpath: CString,
    args: Vec<CString>,
    env: Vec<CString>,
}

impl Command {
    /// Resolves `args[0]` in the PATH of `env` (the environment the command will get).
    pub fn new(args: &[String], env: &[String]) -> Result<Command, ExecFailure> {
        let name = args.first().cloned().unwrap_or_default();
        let path = look_path(&name, env)?;
        let (Ok(cpath), Ok(args), Ok(env)) = (CString::new(path.as_str()), cstrings(args), cstrings(env)) else {
            return Err(ExecFailure { code: 126, message: format!("exec: {name:?}: argument or environment contains a NUL byte") });
        };
        Ok(Command { name, path, cpath, args, env })
    }

    /// Replaces this process with the command; returns only if that fails.
    pub fn exec(&self) -> ExecFailure {
        let err = nix::unistd::execve(&self.cpath, &self.args, &self.env).unwrap_err();
        exec_error(&self.name, &self.path, err)
    }
}

/// Replaces this process with the container's command; returns only if that fails.
pub fn exec(spec: &Process) -> ExecFailure {
    match Command::new(&spec.args, &spec.env) {
        Ok(command) => command.exec(),
        Err(failure) => failure,
    }
}

/// The strings as C strings; an error names the one holding a NUL byte.
pub fn cstrings(items: &[String]) -> Result<Vec<CString>, String> {
    items.iter().map(|s| CString::new(s.as_str()).map_err(|_| format!("{s:?} contains a NUL byte"))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn look_path_follows_the_containers_path_and_skips_non_executables() {
        let dir = std::env::temp_dir().join(format!("kiln-ns-lookpath-{}", std::process::id()));
        let (a, b) = (dir.join("a"), dir.join("b"));
        fs::create_dir_all(&a).unwrap();
        fs::create_dir_all(&b).unwrap();
        fs::write(a.join("tool"), "").unwrap();
        fs::write(b.join("tool"), "").unwrap();
        fs::set_permissions(b.join("tool"), fs::Permissions::from_mode(0o755)).unwrap();
        let env = vec![format!("PATH={}:{}", a.display(), b.display())];
        assert_eq!(look_path("tool", &env).unwrap(), format!("{}/tool", b.display()));
        let missing = look_path("nope", &env).unwrap_err();
        assert_eq!(missing, ExecFailure { code: 127, message: r#"exec: "nope": executable file not found in $PATH"#.into() });
        assert_eq!(look_path("./x/y", &env).unwrap(), "./x/y");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn exec_errors_map_to_dockers_exit_codes() {
        use nix::errno::Errno;
        assert_eq!(exec_error("/x", "/x", Errno::ENOENT).code, 127);
        assert_eq!(exec_error("/etc", "/etc", Errno::EACCES).code, 126);
        assert_eq!(exec_error("/etc/passwd", "/etc/passwd", Errno::EACCES).message, r#"exec: "/etc/passwd": permission denied"#);
    }
}
