//! `tty: true`: a pseudo-terminal opened by the outer helper, whose slave becomes the container's
//! stdio while two threads copy between the helper's own stdin/stdout and the master.

use nix::pty::{openpty, OpenptyResult, Winsize};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;

pub fn open() -> Result<OpenptyResult, String> {
    let size = Winsize { ws_row: 24, ws_col: 80, ws_xpixel: 0, ws_ypixel: 0 };
    let pty = openpty(Some(&size), None).map_err(|e| format!("openpty: {e}"))?;
    // Only the container's stdio should hold the slave, and nothing in the container the master.
    for fd in [pty.master.as_raw_fd(), pty.slave.as_raw_fd()] {
        nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC)).map_err(|e| format!("pty cloexec: {e}"))?;
    }
    Ok(pty)
}

/// Makes the slave the calling process's stdin, stdout and stderr.
pub fn attach(slave: &OwnedFd) -> Result<(), String> {
    for fd in 0..3 {
        if unsafe { libc::dup2(slave.as_raw_fd(), fd) } < 0 {
            return Err(format!("dup2 pty: {}", std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

fn copy(mut from: File, mut to: File) {
    let mut buf = [0u8; 16 * 1024];
    // The master reads EIO once every slave fd is closed: that is the end of output, not an error.
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
}

/// Starts the relays; the returned handle finishes when the container's output ends. Must run
/// before unshare(CLONE_NEWPID), after which the kernel refuses new threads; it returns only once
/// both threads sit in read(2), so a fork after it cannot copy a lock one of them holds.
pub fn relay(master: OwnedFd) -> Result<JoinHandle<()>, String> {
    let master = File::from(master);
    let input = master.try_clone().map_err(|e| format!("dup pty master: {e}"))?;
    let stdin = File::from(nix::unistd::dup(0).map(|fd| unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) }).map_err(|e| format!("dup stdin: {e}"))?);
    let stdout = File::from(nix::unistd::dup(1).map(|fd| unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) }).map_err(|e| format!("dup stdout: {e}"))?);
    let ready = Arc::new(Barrier::new(3));
    let spawn = |from: File, to: File| {
        let ready = Arc::clone(&ready);
        std::thread::Builder::new().spawn(move || {
            ready.wait();
            copy(from, to)
        })
    };
    spawn(stdin, input).map_err(|e| format!("starting the pty relay: {e}"))?;
    let output = spawn(master, stdout).map_err(|e| format!("starting the pty relay: {e}"))?;
    ready.wait();
    Ok(output)
}
