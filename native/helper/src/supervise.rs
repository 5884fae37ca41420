//! Waiting for a child while forwarding the signals a caller uses to stop it: the same loop runs in
//! the outer helper (child = the container's PID 1), in `--exec` (child = the exec'd process) and in
//! the init (child = the container's command), each with its own set of forwarded signals.

use nix::sys::signal::{kill, sigaction, SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

/// What the outer helper passes on: the signals kiln stops or resizes a container with.
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

/// The signals a waiter takes: SIGCHLD and the forwarded ones.
pub fn watched(forwarded: &[Signal]) -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGCHLD);
    for s in forwarded {
        set.add(*s);
    }
    set
}

/// Blocks `set` so its signals queue for `wait_forwarding`. They also get a no-op handler: the
/// kernel drops a default-action signal sent to a PID namespace's init from outside, blocked or not.
pub fn block_signals(set: &SigSet) -> nix::Result<()> {
    let action = SigAction::new(SigHandler::Handler(ignore), SaFlags::SA_RESTART, SigSet::empty());
    for s in set.iter() {
        unsafe { sigaction(s, &action) }?;
    }
    set.thread_block()
}

/// In a child about to exec: every signal back to its default action, then none blocked (defaults
/// first, so nothing queued meanwhile is lost), as a container's process starts under runc.
pub fn restore_signals() -> nix::Result<()> {
    let action = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    for s in Signal::iterator().filter(|s| !matches!(s, Signal::SIGKILL | Signal::SIGSTOP)) {
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

/// Waits until `child` ends, reaping every other child and passing each signal of `set` but
/// SIGCHLD on to it; `set` must be blocked (`block_signals`).
pub fn wait_forwarding(child: Pid, set: &SigSet) -> nix::Result<Ended> {
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
