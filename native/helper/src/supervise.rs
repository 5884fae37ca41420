//! Waiting for a child while forwarding the signals a caller uses to stop it: the same loop runs in
//! the outer helper (child = the container's init) and in the init (child = the container's process).

use nix::sys::signal::{kill, sigaction, SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

/// Signals passed on to the child; SIGWINCH too, so a resized terminal reaches a tty process.
pub const FORWARDED: [Signal; 7] = [
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];

extern "C" fn ignore(_: libc::c_int) {}

/// The signals the helper waits on: SIGCHLD and the forwarded ones.
pub fn watched() -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGCHLD);
    for s in FORWARDED {
        set.add(s);
    }
    set
}

/// Blocks the watched signals so they queue for `wait_forwarding`. They also get a no-op handler:
/// the kernel drops a default-action signal sent to a PID namespace's init from outside, blocked or not.
pub fn block_signals() -> nix::Result<()> {
    let action = SigAction::new(SigHandler::Handler(ignore), SaFlags::SA_RESTART, SigSet::empty());
    for s in watched().iter() {
        unsafe { sigaction(s, &action) }?;
    }
    watched().thread_block()
}

/// Undoes `block_signals` in a child about to exec, default handlers first so nothing queued is lost.
pub fn restore_signals() -> nix::Result<()> {
    let action = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    for s in watched().iter() {
        unsafe { sigaction(s, &action) }?;
    }
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)
}

/// How a child ended: its exit code, or the signal that killed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Exited(i32),
    Signaled(i32),
}

impl Ended {
    /// The shell's convention, which Docker follows: a process killed by signal N ends with 128+N.
    pub fn code(self) -> i32 {
        match self {
            Ended::Exited(code) => code,
            Ended::Signaled(sig) => 128 + sig,
        }
    }
}

/// Reaps every child that has ended (an init inherits orphans); `child`'s end, once it comes.
pub fn reap(child: Pid) -> nix::Result<Option<Ended>> {
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) if pid == child => return Ok(Some(Ended::Exited(code))),
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == child => return Ok(Some(Ended::Signaled(sig as i32))),
            Ok(WaitStatus::StillAlive) | Err(nix::errno::Errno::ECHILD) => return Ok(None),
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Waits until `child` ends, reaping every other child and forwarding watched signals to it.
pub fn wait_forwarding(child: Pid) -> nix::Result<Ended> {
    let set = watched();
    loop {
        let sig = set.wait()?;
        if sig != Signal::SIGCHLD {
            let _ = kill(child, sig);
            continue;
        }
        if let Some(ended) = reap(child)? {
            return Ok(ended);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signaled_maps_to_128_plus_signal() {
        assert_eq!(Ended::Signaled(9).code(), 137);
        assert_eq!(Ended::Signaled(15).code(), 143);
        assert_eq!(Ended::Exited(3).code(), 3);
    }
}
