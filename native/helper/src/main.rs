//! kiln-ns: runs one container for kiln's runner, or with `--exec` one more process in a running
//! container (exec.rs). Reads a JSON spec (spec.rs) from `--spec-fd N` or stdin, reports on
//! `--report-fd N` (report.rs), reads terminal resizes on `--control-fd N` (relay.rs), and exits
//! with the process's status.
//!
//! Three processes: this one stays in the host's namespaces and waits (relaying the pty with
//! `tty`); its child is PID 1 of a new PID namespace (the init: it builds the mounts and the pty,
//! then reaps and forwards signals); the init's child execs the command.

mod caps;
mod exec;
mod net;
mod paths;
mod process;
mod pty;
mod relay;
mod report;
mod rootfs;
mod spec;
mod supervise;

use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use nix::sched::{unshare, CloneFlags};
use nix::unistd::{fork, ForkResult};
use report::Reporter;
use spec::{Network, Spec};
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use supervise::{block_signals, wait_forwarding, Ended};

/// Docker's exit status when the container could not be started at all.
pub const SETUP_FAILED: i32 = 125;

struct Args {
    exec: bool,
    spec_fd: Option<RawFd>,
    report_fd: Option<RawFd>,
    control_fd: Option<RawFd>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { exec: false, spec_fd: None, report_fd: None, control_fd: None };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut fd = || it.next().and_then(|v| v.parse::<RawFd>().ok()).ok_or_else(|| format!("{flag} needs a file descriptor number"));
        match flag.as_str() {
            "--spec-fd" => args.spec_fd = Some(fd()?),
            "--report-fd" => args.report_fd = Some(fd()?),
            "--control-fd" => args.control_fd = Some(fd()?),
            "--exec" => args.exec = true,
            _ => return Err(format!("unknown argument {flag}; usage: kiln-ns [--exec] [--spec-fd N] [--report-fd N] [--control-fd N]")),
        }
    }
    Ok(args)
}

fn read_json(fd: Option<RawFd>) -> Result<String, String> {
    let mut json = String::new();
    match fd {
        Some(fd) => std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) }).read_to_string(&mut json),
        None => std::io::stdin().read_to_string(&mut json),
    }
    .map_err(|e| format!("reading the spec: {e}"))?;
    Ok(json)
}

fn cloexec(fd: Option<RawFd>) {
    if let Some(fd) = fd {
        let _ = fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC));
    }
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("kiln-ns: {e}");
            std::process::exit(SETUP_FAILED);
        }
    };
    // The container must not inherit the report or control channels.
    cloexec(args.report_fd);
    cloexec(args.control_fd);
    let report = Reporter::new(args.report_fd);
    match outer(&args, report) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            report.error(&e);
            eprintln!("kiln-ns: {e}");
            std::process::exit(SETUP_FAILED);
        }
    }
}

fn outer(args: &Args, report: Reporter) -> Result<i32, String> {
    // If the runner dies, so does the container (the init gets the same from us).
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) };
    let control = args.control_fd.map(|fd| unsafe { OwnedFd::from_raw_fd(fd) });
    let json = read_json(args.spec_fd)?;
    if args.exec {
        return exec::run(&spec::parse_exec(&json)?, report, control);
    }
    let spec = spec::parse(&json)?;
    block_signals().map_err(|e| format!("blocking signals: {e}"))?;
    let channel = spec.process.tty.then(pty::channel).transpose()?;
    unshare(CloneFlags::CLONE_NEWPID).map_err(|e| format!("unshare(CLONE_NEWPID): {e}"))?;
    match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Child => {
            let inside = channel.map(|(_, inside)| inside);
            let code = match init(&spec, report, inside) {
                Ok(code) => code,
                Err(e) => {
                    report.error(&e);
                    eprintln!("kiln-ns: {e}");
                    SETUP_FAILED
                }
            };
            std::process::exit(code);
        }
        ForkResult::Parent { child } => {
            let ended = match channel {
                Some((outside, inside)) => {
                    // Only the init may hold its end, or a failed start would never read as one.
                    drop(inside);
                    relay::serve(child, outside, control)?
                }
                None => wait_forwarding(child).map_err(|e| format!("waiting for the container's init: {e}"))?,
            };
            if let Ended::Signaled(sig) = ended {
                report.signaled(sig);
            }
            Ok(ended.code())
        }
    }
}

/// PID 1 of the container.
fn init(spec: &Spec, report: Reporter, channel: Option<OwnedFd>) -> Result<i32, String> {
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) };
    for procs in &spec.cgroup_procs {
        // "0" is the writing process itself, whatever PID namespace it sees.
        std::fs::write(procs, "0").map_err(|e| format!("joining cgroup {procs}: {e}"))?;
    }
    let mut flags = CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWIPC;
    if spec.network == Network::None {
        flags |= CloneFlags::CLONE_NEWNET;
    }
    unshare(flags).map_err(|e| format!("unshare namespaces: {e}"))?;
    let stubs = rootfs::setup(spec)?;
    report.stubs(&stubs);
    nix::unistd::sethostname(&spec.hostname).map_err(|e| format!("sethostname {:?}: {e}", spec.hostname))?;
    if spec.network == Network::None {
        net::loopback_up()?;
    }
    let process = &spec.process;
    // Docker creates a missing working directory rather than failing.
    std::fs::create_dir_all(&process.cwd).map_err(|e| format!("creating working directory {}: {e}", process.cwd))?;
    // Opened here, past pivot_root: /dev/ptmx is the container's own devpts instance now.
    let slave = channel.as_ref().map(|c| pty::open_inside(c, process)).transpose()?;
    drop(channel);
    match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Child => {
            if let Some(slave) = &slave {
                if let Err(e) = pty::attach(slave) {
                    report.error(&e);
                    std::process::exit(SETUP_FAILED);
                }
            }
            if let Err(e) = process::prepare(process) {
                report.error(&e);
                eprintln!("kiln-ns: {e}");
                std::process::exit(SETUP_FAILED);
            }
            let failure = process::exec(process);
            eprintln!("kiln-ns: {}", failure.message);
            std::process::exit(failure.code);
        }
        ForkResult::Parent { child } => {
            // Only the process may hold the slave, so the master reads its end when the process ends.
            drop(slave);
            let ended = wait_forwarding(child).map_err(|e| format!("waiting for the container's process: {e}"))?;
            if let Ended::Signaled(sig) = ended {
                report.signaled(sig);
            }
            Ok(ended.code())
        }
    }
}
