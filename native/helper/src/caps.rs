//! Reducing the process's capabilities to the set the runner asked for (Docker's default set):
//! bounding set first, while we still hold CAP_SETPCAP, then permitted/effective through capset.

use std::io;

const NAMES: [&str; 41] = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
    "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
    "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
];

/// The capability numbers as a 64-bit mask.
pub fn mask(names: &[String]) -> Result<u64, String> {
    names.iter().try_fold(0u64, |acc, name| {
        let n = NAMES.iter().position(|k| k.eq_ignore_ascii_case(name)).ok_or_else(|| format!("unknown capability {name}"))?;
        Ok(acc | 1 << n)
    })
}

fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap").ok().and_then(|s| s.trim().parse().ok()).unwrap_or(40)
}

fn check(rc: libc::c_int, what: &str) -> Result<(), String> {
    if rc < 0 {
        return Err(format!("{what}: {}", io::Error::last_os_error()));
    }
    Ok(())
}

/// Drops every capability outside `keep` from the bounding set; call before changing uid.
pub fn limit_bounding(keep: u64) -> Result<(), String> {
    for cap in 0..=last_cap() {
        if keep & (1 << cap) == 0 {
            let rc = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) };
            // EINVAL: the kernel does not know this capability, so nobody can hold it.
            if rc < 0 && io::Error::last_os_error().raw_os_error() != Some(libc::EINVAL) {
                check(rc, &format!("dropping capability {cap} from the bounding set"))?;
            }
        }
    }
    Ok(())
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const CAP_V3: u32 = 0x2008_0522;

/// Sets permitted and effective to `keep` and clears inheritable and ambient: Docker stopped
/// granting inheritable capabilities (CVE-2022-24769), since they could reach file-capability binaries.
pub fn set(keep: u64) -> Result<(), String> {
    let header = CapHeader { version: CAP_V3, pid: 0 };
    let halves = [keep as u32, (keep >> 32) as u32];
    let data = halves.map(|h| CapData { effective: h, permitted: h, inheritable: 0 });
    check(unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) } as libc::c_int, "capset")?;
    check(unsafe { libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong, 0, 0, 0) }, "clearing ambient capabilities")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_kernel_numbers() {
        let names: Vec<String> = ["CAP_CHOWN", "cap_kill", "CAP_SYS_ADMIN", "CAP_CHECKPOINT_RESTORE"].iter().map(|s| s.to_string()).collect();
        assert_eq!(mask(&names).unwrap(), 1 | 1 << 5 | 1 << 21 | 1 << 40);
        assert!(mask(&["CAP_NOPE".to_string()]).unwrap_err().contains("CAP_NOPE"));
    }
}
