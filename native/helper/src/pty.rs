//! `tty: true`: the pty comes from the container's own devpts instance. Whoever stands inside the
//! container (its PID 1, or an exec'd process, before it drops privileges) opens `/dev/ptmx` there,
//! keeps the slave for the process's stdio and passes the master out over a socketpair (SCM_RIGHTS)
//! to the outer helper, which relays it (relay.rs).

use crate::spec::{ConsoleSize, Process};
use nix::sys::socket::{recvmsg, sendmsg, socketpair, AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType};
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// A fresh pty's size when the caller has no terminal, as a VT100 had.
const DEFAULT_SIZE: ConsoleSize = ConsoleSize { rows: 24, columns: 80 };

fn os_err(what: &str) -> String {
    format!("{what}: {}", io::Error::last_os_error())
}

/// The channel the master travels through: `.0` stays with the outer helper, `.1` goes inside.
pub fn channel() -> Result<(OwnedFd, OwnedFd), String> {
    socketpair(AddressFamily::Unix, SockType::Stream, None, SockFlag::SOCK_CLOEXEC).map_err(|e| format!("socketpair for the pty: {e}"))
}

pub fn set_size(master: RawFd, size: ConsoleSize) -> Result<(), String> {
    let ws = libc::winsize { ws_row: size.rows, ws_col: size.columns, ws_xpixel: 0, ws_ypixel: 0 };
    if unsafe { libc::ioctl(master, libc::TIOCSWINSZ, &ws) } < 0 {
        return Err(os_err("setting the pty's window size"));
    }
    Ok(())
}

/// Opens a pty in the calling process's `/dev/ptmx` (the container's, once inside it), gives it the
/// process's size and owner, sends the master through `channel` and returns the slave.
pub fn open_inside(channel: &OwnedFd, process: &Process) -> Result<OwnedFd, String> {
    let fd = unsafe { libc::open(c"/dev/ptmx".as_ptr(), libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(os_err("opening the container's /dev/ptmx"));
    }
    let master = unsafe { OwnedFd::from_raw_fd(fd) };
    let unlock: libc::c_int = 0;
    if unsafe { libc::ioctl(fd, libc::TIOCSPTLCK, &unlock) } < 0 {
        return Err(os_err("unlocking the pty"));
    }
    // TIOCGPTPEER opens the slave of this very master, with no path lookup in /dev/pts to race.
    let slave = unsafe { libc::ioctl(fd, libc::TIOCGPTPEER, libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
    if slave < 0 {
        return Err(os_err("opening the pty's slave"));
    }
    let slave = unsafe { OwnedFd::from_raw_fd(slave) };
    set_size(fd, process.console_size.unwrap_or(DEFAULT_SIZE))?;
    // The process owns its terminal, as with runc: tools that re-open or chmod it need that.
    if unsafe { libc::fchown(slave.as_raw_fd(), process.uid, u32::MAX) } < 0 {
        return Err(os_err("giving the pty to the container's user"));
    }
    let fds = [master.as_raw_fd()];
    sendmsg::<()>(channel.as_raw_fd(), &[IoSlice::new(b"m")], &[ControlMessage::ScmRights(&fds)], MsgFlags::empty(), None)
        .map_err(|e| format!("passing the pty master out: {e}"))?;
    Ok(slave)
}

/// The master sent by `open_inside`; `None` when the other side closed without sending one (it
/// failed before, and reports why on its own).
pub fn receive(channel: &OwnedFd) -> Result<Option<OwnedFd>, String> {
    let mut byte = [0u8; 1];
    let mut iov = [IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let msg = recvmsg::<()>(channel.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC)
        .map_err(|e| format!("receiving the pty master: {e}"))?;
    for cmsg in msg.cmsgs().map_err(|e| format!("receiving the pty master: {e}"))? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            if let Some(&fd) = fds.first() {
                return Ok(Some(unsafe { OwnedFd::from_raw_fd(fd) }));
            }
        }
    }
    Ok(None)
}

/// Makes the slave the calling process's stdin, stdout and stderr.
pub fn attach(slave: &OwnedFd) -> Result<(), String> {
    for fd in 0..3 {
        if unsafe { libc::dup2(slave.as_raw_fd(), fd) } < 0 {
            return Err(os_err("dup2 pty"));
        }
    }
    Ok(())
}
