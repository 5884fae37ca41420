//! `kiln-ns --exec`: one more process in a running container, as `docker exec` starts one. This
//! process enters the container's PID namespace for its child only; the child joins the container's
//! cgroups while it still sees the host's /sys, enters the other namespaces and the container's
//! root, then becomes the process (pty, user, capabilities, no_new_privs) exactly as a new
//! container's PID 1 does (container.rs).

use crate::pty;
use crate::relay;
use crate::report::Reporter;
use crate::spec::ExecSpec;
use crate::supervise::{block_signals, wait_forwarding, watched, Ended, FORWARDED};
use crate::{process, SETUP_FAILED};
use nix::sched::{setns, CloneFlags};
use nix::unistd::{chroot, fchdir, fork, ForkResult};
use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};

/// The namespaces `kiln run` gives a container, mount last: after it, /proc is the container's.
const NAMESPACES: [(&str, CloneFlags); 4] =
    [("ipc", CloneFlags::CLONE_NEWIPC), ("uts", CloneFlags::CLONE_NEWUTS), ("net", CloneFlags::CLONE_NEWNET), ("mnt", CloneFlags::CLONE_NEWNS)];

fn open_proc(pid: i32, what: &str) -> Result<File, String> {
    File::open(format!("/proc/{pid}/{what}")).map_err(|e| format!("opening /proc/{pid}/{what} (is the container still running?): {e}"))
}

pub fn run(spec: &ExecSpec, report: Reporter, control: Option<OwnedFd>) -> Result<i32, String> {
    let pid = spec.target_pid;
    // Everything is opened before anything is entered: the paths mean the host's /proc only until then.
    let pid_ns = open_proc(pid, "ns/pid")?;
    let others: Vec<(File, CloneFlags)> = NAMESPACES.iter().map(|(n, f)| Ok((open_proc(pid, &format!("ns/{n}"))?, *f))).collect::<Result<_, String>>()?;
    let root = open_proc(pid, "root")?;
    let set = watched(&FORWARDED);
    block_signals(&set).map_err(|e| format!("blocking signals: {e}"))?;
    let channel = spec.process.tty.then(pty::channel).transpose()?;
    setns(&pid_ns, CloneFlags::CLONE_NEWPID).map_err(|e| format!("entering the container's PID namespace: {e}"))?;
    match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Child => {
            let inside = channel.map(|(_, inside)| inside);
            let failure = match enter(spec, &others, &root, inside.as_ref()) {
                Ok(()) => process::exec(&spec.process),
                Err(e) => {
                    report.error(&e);
                    eprintln!("kiln-ns: {e}");
                    std::process::exit(SETUP_FAILED);
                }
            };
            eprintln!("kiln-ns: {}", failure.message);
            std::process::exit(failure.code);
        }
        ForkResult::Parent { child } => {
            let ended = match channel {
                Some((outside, inside)) => {
                    drop(inside);
                    relay::serve(child, outside, control)?
                }
                None => wait_forwarding(child, &set).map_err(|e| format!("waiting for the exec'd process: {e}"))?,
            };
            if let Ended::Signaled(sig) = ended {
                report.signaled(sig);
            }
            Ok(ended.code())
        }
    }
}

/// In the child: cgroups, namespaces, root, terminal, then everything `process::prepare` does.
fn enter(spec: &ExecSpec, namespaces: &[(File, CloneFlags)], root: &File, channel: Option<&OwnedFd>) -> Result<(), String> {
    for procs in &spec.cgroup_procs {
        std::fs::write(procs, "0").map_err(|e| format!("joining cgroup {procs}: {e}"))?;
    }
    for (fd, flag) in namespaces {
        setns(fd, *flag).map_err(|e| format!("entering the container's {flag:?} namespace: {e}"))?;
    }
    // PID 1's root, which pivot_root made the container's; setns into its mount namespace alone
    // would leave us wherever that namespace's first mount is.
    fchdir(root.as_raw_fd()).map_err(|e| format!("entering the container's root: {e}"))?;
    chroot(".").map_err(|e| format!("chroot into the container's root: {e}"))?;
    if let Some(channel) = channel {
        let slave = pty::open_inside(channel, &spec.process)?;
        pty::attach(&slave)?;
    }
    process::prepare(&spec.process)
}
