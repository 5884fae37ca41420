//! kiln-ns: runs one container for kiln's runner. Reads a JSON spec (spec.rs) from `--spec-fd N` or
//! stdin, reports on `--report-fd N` (report.rs), and exits with the container process's status.
//!
//! Three processes: this one stays in the host's namespaces and waits; its child is PID 1 of a new
//! PID namespace (the init: it builds the mounts, then reaps and forwards signals); the init's child
//! execs the command.

mod caps;
mod net;
mod paths;
mod process;
mod pty;
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
const SETUP_FAILED: i32 = 125;

struct Args {
    spec_fd: Option<RawFd>,
    report_fd: Option<RawFd>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { spec_fd: None, report_fd: None };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut fd = || it.next().and_then(|v| v.parse::<RawFd>().ok()).ok_or_else(|| format!("{flag} needs a file descriptor number"));
        match flag.as_str() {
            "--spec-fd" => args.spec_fd = Some(fd()?),
            "--report-fd" => args.report_fd = Some(fd()?),
            _ => return Err(format!("unknown argument {flag}; usage: kiln-ns [--spec-fd N] [--report-fd N]")),
        }
    }
    Ok(args)
}

fn read_spec(fd: Option<RawFd>) -> Result<Spec, String> {
    let mut json = String::new();
    match fd {
        Some(fd) => std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) }).read_to_string(&mut json),
        None => std::io::stdin().read_to_string(&mut json),
    }
    .map_err(|e| format!("reading the spec: {e}"))?;
    spec::parse(&json)
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
    // The container must not inherit the report channel.
    cloexec(args.report_fd);
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
    let spec = read_spec(args.spec_fd)?;
    block_signals().map_err(|e| format!("blocking signals: {e}"))?;
    let (slave, output) = match spec.tty {
        true => {
            let p = pty::open()?;
            (Some(p.slave), Some(pty::relay(p.master)?))
        }
        false => (None, None),
    };
    unshare(CloneFlags::CLONE_NEWPID).map_err(|e| format!("unshare(CLONE_NEWPID): {e}"))?;
    match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Child => {
            let code = match init(&spec, report, slave.as_ref()) {
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
            // Only the container may hold the slave, or the master never sees the end of output.
            drop(slave);
            let ended = wait_forwarding(child).map_err(|e| format!("waiting for the container's init: {e}"))?;
            if let Some(output) = output {
                let _ = output.join();
            }
            if let Ended::Signaled(sig) = ended {
                report.signaled(sig);
            }
            Ok(ended.code())
        }
    }
}

/// PID 1 of the container.
fn init(spec: &Spec, report: Reporter, slave: Option<&OwnedFd>) -> Result<i32, String> {
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
    // Docker creates a missing working directory rather than failing.
    std::fs::create_dir_all(&spec.cwd).map_err(|e| format!("creating working directory {}: {e}", spec.cwd))?;
    match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Child => {
            if let Some(slave) = slave {
                if let Err(e) = pty::attach(slave) {
                    report.error(&e);
                    std::process::exit(SETUP_FAILED);
                }
            }
            if let Err(e) = process::prepare(spec) {
                report.error(&e);
                eprintln!("kiln-ns: {e}");
                std::process::exit(SETUP_FAILED);
            }
            let failure = process::exec(spec);
            eprintln!("kiln-ns: {}", failure.message);
            std::process::exit(failure.code);
        }
        ForkResult::Parent { child } => {
            let ended = wait_forwarding(child).map_err(|e| format!("waiting for the container's process: {e}"))?;
            if let Ended::Signaled(sig) = ended {
                report.signaled(sig);
            }
            Ok(ended.code())
        }
    }
}
