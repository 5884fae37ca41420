//! kiln-ns: runs one container for kiln's runner, or with `--exec` one more process in a running
//! container (exec.rs). Reads a JSON spec (spec.rs) from `--spec-fd N` or stdin, reports on
//! `--report-fd N` (report.rs), reads terminal resizes on `--control-fd N` (relay.rs), and exits
//! with the process's status.
//!
//! A container is two processes (container.rs): this one, in the host's namespaces, and PID 1 of
//! the container, which becomes the command, or with `init` the minimal init that `kiln-ns -- CMD`
//! runs (init.rs).

mod caps;
mod container;
mod exec;
mod init;
mod net;
mod paths;
mod process;
mod pty;
mod relay;
mod report;
mod rootfs;
mod seccomp;
mod spec;
mod supervise;

use report::Reporter;
use std::io::{self, Read};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

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

/// Marks every fd above stderr close-on-exec, whatever the runner's process passed down by mistake:
/// the container gets only 0, 1 and 2.
fn cloexec_all() -> io::Result<()> {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    if unsafe { libc::syscall(libc::SYS_close_range, 3 as libc::c_uint, libc::c_uint::MAX, CLOSE_RANGE_CLOEXEC) } == 0 {
        return Ok(());
    }
    // Kernels before 5.11: one by one.
    for entry in std::fs::read_dir("/proc/self/fd")? {
        if let Some(fd) = entry?.file_name().to_str().and_then(|n| n.parse::<RawFd>().ok()).filter(|fd| *fd > 2) {
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        }
    }
    Ok(())
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some(init::SEPARATOR) {
        init::main(&argv[2..]);
    }
    // Until it execs the container's command, this process is the host's binary inside the
    // container's namespaces: not dumpable, its /proc/<pid>/exe (and fds, memory) cannot be opened
    // by the container's processes, which lack CAP_SYS_PTRACE, so none can reach the host binary
    // through it (runc's CVE-2019-5736). execve of the command makes it dumpable again; the init
    // above runs from a sealed memfd copy, not the host binary.
    // SAFETY: prctl with integer arguments only.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("kiln-ns: {e}");
            std::process::exit(SETUP_FAILED);
        }
    };
    if let Err(e) = cloexec_all() {
        eprintln!("kiln-ns: marking fds close-on-exec: {e}");
        std::process::exit(SETUP_FAILED);
    }
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
    // If the runner dies, so does the container (PID 1 gets the same from us).
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) };
    let control = args.control_fd.map(|fd| unsafe { OwnedFd::from_raw_fd(fd) });
    let json = read_json(args.spec_fd)?;
    if args.exec {
        return exec::run(&spec::parse_exec(&json)?, report, control);
    }
    container::run(&spec::parse(&json)?, report, control)
}
