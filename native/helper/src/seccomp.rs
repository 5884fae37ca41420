//! The seccomp filter a container's process runs under: the policy kiln's runner sends (syscalls
//! that fail with EPERM or ENOSYS, and the clone flags that make new namespaces) compiled to a
//! classic BPF program for the host's ABIs (x86_64 and i386 on an amd64 host) and installed before
//! the process drops its capabilities, so it holds without no_new_privs as docker's does.

use crate::spec::SeccompPolicy;

const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
const AUDIT_ARCH_I386: u32 = 0x4000_0003;
/// x32 syscalls share x86_64's audit arch and set this bit in the number.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

const RET_ALLOW: u32 = 0x7fff_0000;
const RET_ERRNO: u32 = 0x0005_0000;

// Offsets in struct seccomp_data: nr, arch, instruction pointer, then six u64 arguments.
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
const OFF_ARG0_LOW: u32 = 16;

/// The syscalls a policy may name, numbered per ABI (from the kernel's unistd_64.h and
/// unistd_32.h; a test checks them against the headers where they are installed).
const X86_64: &[(&str, u32)] = &[
    ("_sysctl", 156), ("acct", 163), ("add_key", 248), ("bpf", 321), ("clock_adjtime", 305), ("clock_settime", 227),
    ("clone", 56), ("clone3", 435), ("create_module", 174), ("delete_module", 176), ("finit_module", 313),
    ("fsconfig", 431), ("fsmount", 432), ("fsopen", 430), ("fspick", 433), ("get_kernel_syms", 177), ("get_mempolicy", 239),
    ("init_module", 175), ("ioperm", 173), ("iopl", 172), ("kexec_file_load", 320), ("kexec_load", 246), ("keyctl", 250),
    ("lookup_dcookie", 212), ("mbind", 237), ("mount", 165), ("move_mount", 429), ("move_pages", 279),
    ("name_to_handle_at", 303), ("nfsservctl", 180), ("open_by_handle_at", 304), ("open_tree", 428),
    ("perf_event_open", 298), ("personality", 135), ("pivot_root", 155), ("query_module", 178), ("quotactl", 179),
    ("reboot", 169), ("request_key", 249), ("set_mempolicy", 238), ("setns", 308), ("settimeofday", 164),
    ("swapoff", 168), ("swapon", 167), ("sysfs", 139), ("umount2", 166), ("unshare", 272), ("uselib", 134),
    ("userfaultfd", 323), ("ustat", 136),
];

const I386: &[(&str, u32)] = &[
    ("_sysctl", 149), ("acct", 51), ("add_key", 286), ("bpf", 357), ("clock_adjtime", 343), ("clock_adjtime64", 405),
    ("clock_settime", 264), ("clock_settime64", 404), ("clone", 120), ("clone3", 435), ("create_module", 127),
    ("delete_module", 129), ("finit_module", 350), ("fsconfig", 431), ("fsmount", 432), ("fsopen", 430), ("fspick", 433),
    ("get_kernel_syms", 130), ("get_mempolicy", 275), ("init_module", 128), ("ioperm", 101), ("iopl", 110),
    ("kexec_load", 283), ("keyctl", 288), ("lookup_dcookie", 253), ("mbind", 274), ("mount", 21), ("move_mount", 429),
    ("move_pages", 317), ("name_to_handle_at", 341), ("nfsservctl", 169), ("open_by_handle_at", 342), ("open_tree", 428),
    ("perf_event_open", 336), ("personality", 136), ("pivot_root", 217), ("query_module", 167), ("quotactl", 131),
    ("reboot", 88), ("request_key", 287), ("set_mempolicy", 276), ("setns", 346), ("settimeofday", 79), ("stime", 25),
    ("swapoff", 115), ("swapon", 87), ("sysfs", 135), ("umount", 22), ("umount2", 52), ("unshare", 310), ("uselib", 86),
    ("userfaultfd", 374), ("ustat", 62), ("vm86", 166), ("vm86old", 113),
];

fn stmt(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt: 0, jf: 0, k }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

const LD_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
const RET: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
const JEQ: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
const JGE: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
const JSET: u16 = (libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K) as u16;

fn number(table: &[(&str, u32)], name: &str) -> Option<u32> {
    table.iter().find(|(n, _)| *n == name).map(|(_, nr)| *nr)
}

/// The rules of one ABI, the syscall number loaded first; ends in a return for every path.
fn abi_block(policy: &SeccompPolicy, table: &[(&str, u32)], deny_x32: bool) -> Vec<libc::sock_filter> {
    let mut out = vec![stmt(LD_ABS, OFF_NR)];
    if deny_x32 {
        out.push(jump(JGE, X32_SYSCALL_BIT, 0, 1));
        out.push(stmt(RET, RET_ERRNO | libc::EPERM as u32));
    }
    let rules = [(&policy.errno, libc::EPERM), (&policy.enosys, libc::ENOSYS)];
    for (names, errno) in rules {
        for nr in names.iter().filter_map(|n| number(table, n)) {
            out.push(jump(JEQ, nr, 0, 1));
            out.push(stmt(RET, RET_ERRNO | errno as u32));
        }
    }
    if let (Some(clone), true) = (number(table, "clone"), policy.clone_denied_flags != 0) {
        // clone's flags are its first argument on both ABIs; a new namespace is refused.
        out.push(jump(JEQ, clone, 0, 3));
        out.push(stmt(LD_ABS, OFF_ARG0_LOW));
        out.push(jump(JSET, policy.clone_denied_flags, 0, 1));
        out.push(stmt(RET, RET_ERRNO | libc::EPERM as u32));
    }
    out.push(stmt(RET, RET_ALLOW));
    out
}

/// The whole program: dispatch on the audit arch, a block per ABI, EPERM for any other ABI.
pub fn program(policy: &SeccompPolicy) -> Result<Vec<libc::sock_filter>, String> {
    if !cfg!(target_arch = "x86_64") {
        return Err("the seccomp profile is built for x86_64 hosts only; run with --security-opt seccomp=unconfined".into());
    }
    let unknown: Vec<&String> = policy.errno.iter().chain(&policy.enosys).filter(|n| number(X86_64, n).is_none() && number(I386, n).is_none()).collect();
    if !unknown.is_empty() {
        return Err(format!("the seccomp policy names syscalls kiln-ns does not know: {unknown:?}"));
    }
    let native = abi_block(policy, X86_64, true);
    let compat = abi_block(policy, I386, false);
    let skip = |block: &[libc::sock_filter]| u8::try_from(block.len()).map_err(|_| "the seccomp policy is too long for one jump".to_string());
    let mut prog = vec![stmt(LD_ABS, OFF_ARCH), jump(JEQ, AUDIT_ARCH_X86_64, 0, skip(&native)?)];
    prog.extend(native.iter().copied());
    prog.push(jump(JEQ, AUDIT_ARCH_I386, 0, skip(&compat)?));
    prog.extend(compat.iter().copied());
    prog.push(stmt(RET, RET_ERRNO | libc::EPERM as u32));
    Ok(prog)
}

/// Installs the filter on this thread (and so on what it execs). Needs CAP_SYS_ADMIN unless
/// no_new_privs is set: call it before the capabilities are dropped.
pub fn install(policy: &SeccompPolicy) -> Result<(), String> {
    let prog = program(policy)?;
    let fprog = libc::sock_fprog { len: prog.len() as u16, filter: prog.as_ptr() as *mut libc::sock_filter };
    // SAFETY: fprog points at `prog`, alive for the call; the kernel copies the program.
    let rc = unsafe { libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &fprog as *const libc::sock_fprog) };
    if rc < 0 {
        return Err(format!("installing the seccomp filter: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_numbers(path: &str) -> Option<std::collections::HashMap<String, u32>> {
        let text = std::fs::read_to_string(path).ok()?;
        Some(
            text.lines()
                .filter_map(|l| {
                    let mut w = l.split_whitespace();
                    (w.next()? == "#define").then_some(())?;
                    let name = w.next()?.strip_prefix("__NR_")?;
                    Some((name.to_string(), w.next()?.parse().ok()?))
                })
                .collect(),
        )
    }

    #[test]
    fn numbers_match_the_kernel_headers() {
        for (table, header) in [(X86_64, "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"), (I386, "/usr/include/x86_64-linux-gnu/asm/unistd_32.h")] {
            let Some(known) = header_numbers(header) else {
                eprintln!("{header} is not installed (linux-libc-dev): table not checked");
                continue;
            };
            for (name, nr) in table {
                assert_eq!(known.get(*name), Some(nr), "{name} in {header}");
            }
        }
    }

    #[test]
    fn program_names_every_rule_and_refuses_unknown_syscalls() {
        let policy = SeccompPolicy { errno: vec!["mount".into(), "stime".into()], enosys: vec!["clone3".into()], clone_denied_flags: 0x1000_0000 };
        let prog = program(&policy).unwrap();
        let jeq_targets: Vec<u32> = prog.iter().filter(|i| i.code == JEQ).map(|i| i.k).collect();
        // x86_64: mount, clone3, clone; i386: mount, stime, clone3, clone; plus the two arch checks.
        assert_eq!(jeq_targets, vec![AUDIT_ARCH_X86_64, 165, 435, 56, AUDIT_ARCH_I386, 21, 25, 435, 120]);
        assert_eq!(prog.last().unwrap().k, RET_ERRNO | libc::EPERM as u32, "another ABI is refused");
        let bad = SeccompPolicy { errno: vec!["no_such_call".into()], enosys: vec![], clone_denied_flags: 0 };
        assert!(program(&bad).unwrap_err().contains("no_such_call"));
    }
}
