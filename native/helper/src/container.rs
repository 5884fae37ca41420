//! A new container, in two processes. This one stays in the host's namespaces: it waits for the
//! container, relays its pty with `tty`, passes on the signals kiln sends, and reports when the
//! command runs. Its child is PID 1 of a new PID namespace: it builds the container (cgroups,
//! namespaces, mounts, hostname, pty, user) and then execs the command itself, as runc does, so
//! the command is PID 1; with `init` it execs the minimal init (init.rs), which runs the command.

use crate::process::{self, ExecFailure};
use crate::report::Reporter;
use crate::spec::{Network, Spec};
use crate::supervise::{block_signals, wait_forwarding, watched, Ended, FORWARDED};
use crate::{init, net, pty, relay, rootfs, SETUP_FAILED};
use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sched::{unshare, CloneFlags};
use nix::unistd::{fork, pipe2, read, write, ForkResult};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

/// Why PID 1 did not become the command.
enum Failure {
    /// The container could not be built: reported to the runner, which raises it as an error.
    Setup(String),
    /// The command could not be run: its exit status (126, 127), as Docker reports it.
    Exec(ExecFailure),
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::Setup(message)
    }
}

pub fn run(spec: &Spec, report: Reporter, control: Option<OwnedFd>) -> Result<i32, String> {
    let set = watched(&FORWARDED);
    block_signals(&set).map_err(|e| format!("blocking signals: {e}"))?;
    let channel = spec.process.tty.then(pty::channel).transpose()?;
    // PID 1 holds the write end until its exec closes it; a byte on it first means it failed.
    let (ready, started) = pipe2(OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
    unshare(CloneFlags::CLONE_NEWPID).map_err(|e| format!("unshare(CLONE_NEWPID): {e}"))?;
    match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Child => {
            drop(ready);
            let inside = channel.map(|(_, inside)| inside);
            let (code, message) = match pid1(spec, report, inside, &started) {
                Failure::Setup(message) => {
                    report.error(&message);
                    (SETUP_FAILED, message)
                }
                Failure::Exec(failure) => (failure.code, failure.message),
            };
            let _ = write(&started, b"x");
            eprintln!("kiln-ns: {message}");
            std::process::exit(code);
        }
        ForkResult::Parent { child } => {
            drop(started);
            let outside = channel.map(|(outside, inside)| {
                // Only PID 1 may hold its end, or a failed start would never read as one.
                drop(inside);
                outside
            });
            // Signals that come meanwhile stay queued for the loops below.
            let mut byte = [0u8; 1];
            if matches!(read(ready.as_raw_fd(), &mut byte), Ok(0)) {
                report.started(child.as_raw());
            }
            drop(ready);
            let ended = match outside {
                Some(outside) => relay::serve(child, outside, control)?,
                None => wait_forwarding(child, &set).map_err(|e| format!("waiting for the container's process: {e}"))?,
            };
            if let Ended::Signaled(sig) = ended {
                report.signaled(sig);
            }
            Ok(ended.code())
        }
    }
}

/// Asks for SIGKILL when the outer helper dies; the kernel forgets that on a change of
/// credentials, so PID 1 asks again once it runs as the container's user.
fn die_with_parent(started: &OwnedFd) -> Result<(), String> {
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) };
    // The parent may have died before the ask: then its end of the pipe is closed. (getppid cannot
    // tell, it is 0 for a parent outside the PID namespace.)
    let mut fds = [PollFd::new(started.as_fd(), PollFlags::POLLOUT)];
    match poll(&mut fds, PollTimeout::ZERO) {
        Ok(_) if fds[0].revents().is_some_and(|r| r.contains(PollFlags::POLLERR)) => Err("kiln-ns ended before the container started".into()),
        _ => Ok(()),
    }
}

/// PID 1 of the container, from the host's view to the command's exec; returns only on failure.
fn pid1(spec: &Spec, report: Reporter, channel: Option<OwnedFd>, started: &OwnedFd) -> Failure {
    match build(spec, report, channel, started) {
        Ok(image) => Failure::Exec(match &image {
            Some(image) => init::exec(image, &spec.process),
            None => process::exec(&spec.process),
        }),
        Err(failure) => failure,
    }
}

/// Everything up to the exec: the container, then the process. Returns the init's image with `init`.
fn build(spec: &Spec, report: Reporter, channel: Option<OwnedFd>, started: &OwnedFd) -> Result<Option<OwnedFd>, Failure> {
    die_with_parent(started)?;
    // Copied now, while /proc is still the host's.
    let image = spec.init.then(init::image).transpose()?;
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
    if let Some(channel) = channel {
        // Opened here, past pivot_root: /dev/ptmx is the container's own devpts instance now.
        let slave = pty::open_inside(&channel, process)?;
        pty::attach(&slave)?;
    }
    process::prepare(process)?;
    die_with_parent(started)?;
    Ok(image)
}
