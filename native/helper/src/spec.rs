//! The specs the runner hands to the helper as JSON: `Spec` for a new container (runner/run.ts),
//! `ExecSpec` for one more process in a running one (runner/container-exec.ts). Everything is already
//! resolved (numeric ids, capability names, absolute host paths), so the helper holds no policy.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Spec {
    /// Host directory that becomes `/`; with `overlay` it is also the overlay's mount point.
    pub rootfs: String,
    pub overlay: Option<Overlay>,
    pub hostname: String,
    pub network: Network,
    #[serde(default)]
    pub mounts: Vec<Mount>,
    /// `cgroup.procs` files the container's PID 1 joins before anything else runs.
    #[serde(default)]
    pub cgroup_procs: Vec<String>,
    /// Paths hidden from the process (/dev/null over files, an empty read-only tmpfs over directories).
    #[serde(default)]
    pub masked_paths: Vec<String>,
    #[serde(default)]
    pub readonly_paths: Vec<String>,
    /// `docker run --init`: a minimal init is PID 1 and runs the process; without it the process is PID 1.
    #[serde(default)]
    pub init: bool,
    pub process: Process,
}

/// A process to start in a running container, as `docker exec` does.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExecSpec {
    /// Host PID of the container's PID 1: its namespaces and root are the ones entered.
    pub target_pid: i32,
    /// The container's `cgroup.procs` files, joined before entering its namespaces.
    #[serde(default)]
    pub cgroup_procs: Vec<String>,
    pub process: Process,
}

/// What runs and as whom: the same for a container's command and for an exec'd process.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Process {
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: String,
    pub uid: u32,
    pub gid: u32,
    #[serde(default)]
    pub groups: Vec<u32>,
    /// Capability names (`CAP_CHOWN`, ...) kept in the bounding, permitted and effective sets.
    pub capabilities: Vec<String>,
    #[serde(default)]
    pub no_new_privileges: bool,
    /// The seccomp filter to run under; none (unconfined) when absent.
    pub seccomp: Option<SeccompPolicy>,
    /// A pty from the container's own devpts as the process's stdio.
    #[serde(default)]
    pub tty: bool,
    /// The pty's first size, the caller's terminal's; 24x80 when unset.
    pub console_size: Option<ConsoleSize>,
}

/// Syscalls refused, by name: with EPERM, with ENOSYS (so libc falls back, as for clone3), and
/// clone with any of these flags (new namespaces) refused with EPERM.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeccompPolicy {
    pub errno: Vec<String>,
    pub enosys: Vec<String>,
    pub clone_denied_flags: u32,
}

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSize {
    pub rows: u16,
    pub columns: u16,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Overlay {
    /// Read-only layers, topmost first.
    pub lowers: Vec<String>,
    pub upper: String,
    pub work: String,
}

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    Host,
    None,
}

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum MountType {
    Bind,
    Tmpfs,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Mount {
    #[serde(rename = "type")]
    pub kind: MountType,
    pub source: Option<String>,
    pub target: String,
    #[serde(default)]
    pub readonly: bool,
    #[serde(default)]
    pub options: Vec<String>,
}

fn check_process(p: &Process) -> Result<(), String> {
    if p.args.is_empty() {
        return Err("invalid helper spec: args is empty".into());
    }
    if !p.cwd.starts_with('/') {
        return Err(format!("invalid helper spec: cwd {:?} is not absolute", p.cwd));
    }
    Ok(())
}

pub fn parse(json: &str) -> Result<Spec, String> {
    let spec: Spec = serde_json::from_str(json).map_err(|e| format!("invalid helper spec: {e}"))?;
    check_process(&spec.process)?;
    Ok(spec)
}

pub fn parse_exec(json: &str) -> Result<ExecSpec, String> {
    let spec: ExecSpec = serde_json::from_str(json).map_err(|e| format!("invalid helper exec spec: {e}"))?;
    if spec.target_pid <= 0 {
        return Err(format!("invalid helper exec spec: targetPid {} is not a process", spec.target_pid));
    }
    check_process(&spec.process)?;
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROCESS: &str = r#""process":{"args":["sh"],"env":["A=1"],"cwd":"/x","uid":1000,"gid":100,"groups":[5],
        "capabilities":["CAP_CHOWN"],"noNewPrivileges":true,"tty":true,"consoleSize":{"rows":30,"columns":100}}"#;

    #[test]
    fn parses_a_full_spec() {
        let spec = parse(&format!(
            r#"{{"rootfs":"/r","overlay":{{"lowers":["/l1","/l2"],"upper":"/u","work":"/w"}},
            "hostname":"h","network":"none","mounts":[{{"type":"tmpfs","target":"/t","options":["size=1m"]}}],
            "cgroupProcs":["/sys/fs/cgroup/pids/kiln/a/cgroup.procs"],"init":true,{PROCESS}}}"#,
        ))
        .unwrap();
        assert_eq!(spec.overlay.unwrap().lowers, vec!["/l1", "/l2"]);
        assert_eq!(spec.network, Network::None);
        assert!(spec.init);
        assert_eq!(spec.mounts[0].kind, MountType::Tmpfs);
        assert_eq!(spec.process.groups, vec![5]);
        assert_eq!(spec.process.console_size, Some(ConsoleSize { rows: 30, columns: 100 }));
    }

    #[test]
    fn parses_an_exec_spec() {
        let spec = parse_exec(&format!(r#"{{"targetPid":42,"cgroupProcs":["/c/cgroup.procs"],{PROCESS}}}"#)).unwrap();
        assert_eq!((spec.target_pid, spec.process.tty, spec.process.uid), (42, true, 1000));
        assert!(parse_exec(&format!(r#"{{"targetPid":0,{PROCESS}}}"#)).unwrap_err().contains("targetPid 0"));
    }

    #[test]
    fn rejects_empty_args_relative_cwd_and_unknown_fields() {
        let base = r#""rootfs":"/r","hostname":"h","network":"host""#;
        let process = |rest: &str| format!(r#""process":{{"env":[],"uid":0,"gid":0,"capabilities":[],{rest}}}"#);
        assert!(parse(&format!(r#"{{{base},{}}}"#, process(r#""args":[],"cwd":"/""#))).unwrap_err().contains("args is empty"));
        assert!(parse(&format!(r#"{{{base},{}}}"#, process(r#""args":["x"],"cwd":"rel""#))).unwrap_err().contains("not absolute"));
        assert!(parse(&format!(r#"{{{base},"bogus":1,{}}}"#, process(r#""args":["x"],"cwd":"/""#))).unwrap_err().contains("bogus"));
    }
}
