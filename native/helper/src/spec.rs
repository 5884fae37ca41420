//! The container spec the runner (runner/run.ts) hands to the helper as JSON: everything is
//! already resolved (numeric ids, capability names, absolute host paths), so the helper holds no policy.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Spec {
    /// Host directory that becomes `/`; with `overlay` it is also the overlay's mount point.
    pub rootfs: String,
    pub overlay: Option<Overlay>,
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: String,
    pub uid: u32,
    pub gid: u32,
    #[serde(default)]
    pub groups: Vec<u32>,
    pub hostname: String,
    pub network: Network,
    #[serde(default)]
    pub mounts: Vec<Mount>,
    /// `cgroup.procs` files the container's init joins before anything else runs.
    #[serde(default)]
    pub cgroup_procs: Vec<String>,
    /// Capability names (`CAP_CHOWN`, ...) kept in the bounding, permitted and effective sets.
    pub capabilities: Vec<String>,
    /// Paths hidden from the process (/dev/null over files, an empty read-only tmpfs over directories).
    #[serde(default)]
    pub masked_paths: Vec<String>,
    #[serde(default)]
    pub readonly_paths: Vec<String>,
    #[serde(default)]
    pub no_new_privileges: bool,
    #[serde(default)]
    pub tty: bool,
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

pub fn parse(json: &str) -> Result<Spec, String> {
    let spec: Spec = serde_json::from_str(json).map_err(|e| format!("invalid helper spec: {e}"))?;
    if spec.args.is_empty() {
        return Err("invalid helper spec: args is empty".into());
    }
    if !spec.cwd.starts_with('/') {
        return Err(format!("invalid helper spec: cwd {:?} is not absolute", spec.cwd));
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_spec() {
        let spec = parse(
            r#"{"rootfs":"/r","overlay":{"lowers":["/l1","/l2"],"upper":"/u","work":"/w"},
            "args":["sh"],"env":["A=1"],"cwd":"/x","uid":1000,"gid":100,"groups":[5],
            "hostname":"h","network":"none","mounts":[{"type":"tmpfs","target":"/t","options":["size=1m"]}],
            "cgroupProcs":["/sys/fs/cgroup/pids/kiln/a/cgroup.procs"],"capabilities":["CAP_CHOWN"],
            "noNewPrivileges":true,"tty":false}"#,
        )
        .unwrap();
        assert_eq!(spec.overlay.unwrap().lowers, vec!["/l1", "/l2"]);
        assert_eq!(spec.network, Network::None);
        assert_eq!(spec.mounts[0].kind, MountType::Tmpfs);
        assert_eq!(spec.groups, vec![5]);
    }

    #[test]
    fn rejects_empty_args_relative_cwd_and_unknown_fields() {
        let base = r#""rootfs":"/r","env":[],"uid":0,"gid":0,"hostname":"h","network":"host","capabilities":[]"#;
        assert!(parse(&format!(r#"{{{base},"args":[],"cwd":"/"}}"#)).unwrap_err().contains("args is empty"));
        assert!(parse(&format!(r#"{{{base},"args":["x"],"cwd":"rel"}}"#)).unwrap_err().contains("not absolute"));
        assert!(parse(&format!(r#"{{{base},"args":["x"],"cwd":"/","bogus":1}}"#)).unwrap_err().contains("bogus"));
    }
}
