//! `kiln run --init`: the minimal init `docker run --init` puts as PID 1 (tini): it runs the
//! command as its child, in its own process group that holds the terminal, passes on every signal
//! it gets, reaps every orphan, and ends with the command's status (128+N when signal N killed it).
//!
//! PID 1 becomes the init by exec'ing a sealed in-memory copy of kiln-ns (`image`) once the
//! container is built and its user set, with argv `init -- CMD...`: no host path names its
//! executable, and like the command it holds only the fds 0, 1 and 2.

use crate::process::{cstrings, Command, ExecFailure};
use crate::spec::Process;
use crate::supervise::{block_signals, restore_signals, wait_forwarding};
use nix::sys::signal::{signal, SigHandler, SigSet, Signal};
use nix::unistd::{fork, getpid, setpgid, tcsetpgrp, ForkResult, Pid};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// The init's argv[0] and the name of its memfd, so /proc/1 shows `init -- CMD...`.
const NAME: &str = "init";
/// What separates the init's own argv from the command's, as in tini's usage.
pub const SEPARATOR: &str = "--";

/// Signals the kernel raises for a fault of the process itself, and the terminal's stop-on-I/O
/// ones: tini keeps them, every other one goes to the command.
const KEPT: [Signal; 11] = [
    Signal::SIGKILL,
    Signal::SIGSTOP,
    Signal::SIGFPE,
    Signal::SIGILL,
    Signal::SIGSEGV,
    Signal::SIGBUS,
    Signal::SIGABRT,
    Signal::SIGTRAP,
    Signal::SIGSYS,
    Signal::SIGTTIN,
    Signal::SIGTTOU,
];

fn forwarded() -> SigSet {
    let mut set = SigSet::empty();
    for s in Signal::iterator().filter(|s| !KEPT.contains(s)) {
        set.add(s);
    }
    set
}

/// A sealed memfd holding this very binary, read through /proc/self/exe while that still names it.
pub fn image() -> Result<OwnedFd, String> {
    let fail = |what: &str, e: io::Error| format!("copying kiln-ns for the init: {what}: {e}");
    let mut exe = File::open("/proc/self/exe").map_err(|e| fail("opening /proc/self/exe", e))?;
    let name = std::ffi::CString::new(NAME).expect("no NUL");
    let flags = libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING;
    // MFD_EXEC says so where vm.memfd_noexec would otherwise make a memfd unexecutable; older
    // kernels refuse the flag, and their memfds are executable anyway.
    let mut fd = unsafe { libc::memfd_create(name.as_ptr(), flags | libc::MFD_EXEC) };
    if fd < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL) {
        fd = unsafe { libc::memfd_create(name.as_ptr(), flags) };
    }
    if fd < 0 {
        return Err(fail("memfd_create", io::Error::last_os_error()));
    }
    let mut copy = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    io::copy(&mut exe, &mut copy).map_err(|e| fail("writing the memfd", e))?;
    // Sealed, a process of the container that reaches the init's executable cannot change it.
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    if unsafe { libc::fcntl(copy.as_raw_fd(), libc::F_ADD_SEALS, seals) } < 0 {
        return Err(fail("sealing the memfd", io::Error::last_os_error()));
    }
    Ok(OwnedFd::from(copy))
}

/// Replaces PID 1, already set up as the command's process, with the init from `image`; returns
/// only if that fails. The command is looked up first so that a missing one fails as without init.
pub fn exec(image: &OwnedFd, process: &Process) -> ExecFailure {
    if let Err(failure) = Command::new(&process.args, &process.env) {
        return failure;
    }
    let argv: Vec<String> = [NAME, SEPARATOR].iter().map(|s| s.to_string()).chain(process.args.iter().cloned()).collect();
    let (Ok(argv), Ok(env)) = (cstrings(&argv), cstrings(&process.env)) else {
        return ExecFailure { code: 126, message: "exec: argument or environment contains a NUL byte".into() };
    };
    let err = nix::unistd::fexecve(image.as_raw_fd(), &argv, &env).unwrap_err();
    let why = match err {
        // The loader of a dynamically linked kiln-ns is the host's, not in the container.
        nix::errno::Errno::ENOENT => "kiln-ns is not statically linked; build it with `npm run build:native`".to_string(),
        other => other.desc().to_lowercase(),
    };
    ExecFailure { code: 126, message: format!("exec of the init: {why}") }
}

/// The init's main: `args` is the command; never returns.
pub fn main(args: &[String]) -> ! {
    std::process::exit(match run(args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("{NAME}: {message}");
            crate::SETUP_FAILED
        }
    })
}

fn run(args: &[String]) -> Result<i32, String> {
    if args.is_empty() {
        return Err(format!("usage: {NAME} {SEPARATOR} COMMAND [ARG...]"));
    }
    // The memfd's name would be its comm otherwise.
    let comm = std::ffi::CString::new(NAME).expect("no NUL");
    unsafe { libc::prctl(libc::PR_SET_NAME, comm.as_ptr(), 0, 0, 0) };
    let env: Vec<String> = std::env::vars_os().map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy())).collect();
    let command = Command::new(args, &env);
    let set = forwarded();
    block_signals(&set).map_err(|e| format!("blocking signals: {e}"))?;
    match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Child => {
            let failure = match command {
                Ok(command) => match isolate() {
                    Ok(()) => command.exec(),
                    Err(message) => ExecFailure { code: crate::SETUP_FAILED, message },
                },
                Err(failure) => failure,
            };
            eprintln!("{NAME}: {}", failure.message);
            std::process::exit(failure.code);
        }
        ForkResult::Parent { child } => Ok(wait_forwarding(child, &set).map_err(|e| format!("waiting for the command: {e}"))?.code()),
    }
}

/// In the command's process: its own process group, the terminal's foreground one when there is a
/// terminal (so ^C reaches the command, not the init), then the signals as a fresh process has them.
fn isolate() -> Result<(), String> {
    setpgid(Pid::from_raw(0), Pid::from_raw(0)).map_err(|e| format!("setpgid: {e}"))?;
    // A background group setting the foreground one would be stopped by SIGTTOU.
    unsafe { signal(Signal::SIGTTOU, SigHandler::SigIgn) }.map_err(|e| format!("ignoring SIGTTOU: {e}"))?;
    match tcsetpgrp(std::io::stdin(), getpid()) {
        Ok(()) | Err(nix::errno::Errno::ENOTTY) | Err(nix::errno::Errno::ENXIO) | Err(nix::errno::Errno::EBADF) => {}
        Err(e) => return Err(format!("giving the terminal to the command: {e}")),
    }
    restore_signals().map_err(|e| format!("restoring signals: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwards_all_but_faults_and_what_cannot_be_caught() {
        let set = forwarded();
        for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP, Signal::SIGUSR1, Signal::SIGWINCH, Signal::SIGCHLD, Signal::SIGTSTP, Signal::SIGCONT] {
            assert!(set.contains(s), "{s:?} is forwarded");
        }
        for s in KEPT {
            assert!(!set.contains(s), "{s:?} is not");
        }
    }
}
