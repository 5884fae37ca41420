//! The outer helper's side of a tty process: one thread polling the pty master, its own stdin and
//! stdout, the control fd (resizes from the runner) and a signalfd (the child's end, signals to pass
//! on). One thread, so forks and setns elsewhere in the helper never meet a lock another one holds.

use crate::pty;
use crate::spec::ConsoleSize;
use crate::supervise::{reap, watched, Ended, FORWARDED};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::unistd::Pid;
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

/// After the child ends, output still buffered in the pty is relayed until the master reports that
/// every slave is closed, or until it stays quiet this long (an exec'd process's background children
/// may keep the slave open).
const DRAIN_IDLE_MS: u16 = 250;

/// One line of the control fd: `resize ROWS COLUMNS`.
pub fn parse_control(line: &str) -> Option<ConsoleSize> {
    let mut words = line.split_whitespace();
    if words.next()? != "resize" {
        return None;
    }
    let rows = words.next()?.parse().ok()?;
    let columns = words.next()?.parse().ok()?;
    if words.next().is_some() || rows == 0 || columns == 0 {
        return None;
    }
    Some(ConsoleSize { rows, columns })
}

struct Relay {
    channel: Option<OwnedFd>,
    master: Option<File>,
    stdin: Option<File>,
    control: Option<File>,
    control_buf: String,
    /// Read from stdin, not yet taken by the master.
    pending: Vec<u8>,
    last_input: Option<u8>,
    size: Option<ConsoleSize>,
    stdout: File,
}

fn dup(fd: i32) -> Result<File, String> {
    let fd = unsafe { BorrowedFd::borrow_raw(fd) }.try_clone_to_owned().map_err(|e| format!("dup fd {fd}: {e}"))?;
    Ok(File::from(fd))
}

fn nonblocking(fd: &impl AsRawFd) -> Result<(), String> {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    let flags = OFlag::from_bits_truncate(fcntl(fd.as_raw_fd(), FcntlArg::F_GETFL).map_err(|e| format!("F_GETFL: {e}"))?);
    fcntl(fd.as_raw_fd(), FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK)).map_err(|e| format!("F_SETFL: {e}"))?;
    Ok(())
}

/// The terminal's EOF character; on a pty master, termios are the slave's, set by whoever runs there.
fn eof_char(master: i32) -> u8 {
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(master, &mut t) } == 0 && t.c_cc[libc::VEOF] != 0 {
        t.c_cc[libc::VEOF]
    } else {
        4
    }
}

impl Relay {
    fn got_master(&mut self, master: OwnedFd) -> Result<(), String> {
        nonblocking(&master)?;
        if let Some(size) = self.size {
            pty::set_size(master.as_raw_fd(), size)?;
        }
        self.master = Some(File::from(master));
        Ok(())
    }

    /// Copies what the master holds to stdout; false once every slave is closed.
    fn output(&mut self) -> bool {
        let Some(master) = self.master.as_mut() else { return false };
        let mut buf = [0u8; 16 * 1024];
        loop {
            match master.read(&mut buf) {
                // A gone reader of our stdout must not stop the container: its output is dropped.
                Ok(n) if n > 0 => drop(self.stdout.write_all(&buf[..n])),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                // EIO (or 0) once the last slave fd is closed: the end of output, not an error.
                _ => {
                    self.master = None;
                    return false;
                }
            }
        }
    }

    fn input(&mut self) {
        let Some(stdin) = self.stdin.as_mut() else { return };
        let mut buf = [0u8; 4096];
        match stdin.read(&mut buf) {
            Ok(n) if n > 0 => {
                self.pending.extend_from_slice(&buf[..n]);
                self.last_input = Some(buf[n - 1]);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted || e.kind() == ErrorKind::WouldBlock => {}
            // End of input reaches the process as a terminal user gives it: the EOF character (^D),
            // twice after a partial line, since the first only hands that line to the reader.
            _ => {
                self.stdin = None;
                if let Some(master) = &self.master {
                    let eof = eof_char(master.as_raw_fd());
                    let times = if self.last_input.is_none_or(|b| b == b'\n') { 1 } else { 2 };
                    self.pending.extend(std::iter::repeat(eof).take(times));
                }
            }
        }
    }

    fn flush_input(&mut self) {
        let Some(master) = self.master.as_mut() else { return };
        match master.write(&self.pending) {
            Ok(n) => drop(self.pending.drain(..n)),
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => {}
            Err(_) => self.pending.clear(),
        }
    }

    fn control(&mut self) -> Result<(), String> {
        let Some(control) = self.control.as_mut() else { return Ok(()) };
        let mut buf = [0u8; 512];
        match control.read(&mut buf) {
            Ok(n) if n > 0 => self.control_buf.push_str(&String::from_utf8_lossy(&buf[..n])),
            Err(e) if e.kind() == ErrorKind::Interrupted || e.kind() == ErrorKind::WouldBlock => {}
            _ => self.control = None,
        }
        while let Some(nl) = self.control_buf.find('\n') {
            let line: String = self.control_buf.drain(..=nl).collect();
            if let Some(size) = parse_control(&line) {
                self.size = Some(size);
                if let Some(master) = &self.master {
                    pty::set_size(master.as_raw_fd(), size)?;
                }
            }
        }
        Ok(())
    }
}

/// Waits for `child` while relaying its pty (whose master arrives on `channel`) and forwarding the
/// watched signals (blocked by the caller) to it.
pub fn serve(child: Pid, channel: OwnedFd, control: Option<OwnedFd>) -> Result<Ended, String> {
    let signals = SignalFd::with_flags(&watched(&FORWARDED), SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK).map_err(|e| format!("signalfd: {e}"))?;
    let mut r = Relay {
        channel: Some(channel),
        master: None,
        stdin: Some(dup(0)?),
        control: control.map(File::from),
        control_buf: String::new(),
        pending: Vec::new(),
        last_input: None,
        size: None,
        stdout: dup(1)?,
    };
    let mut ended: Option<Ended> = None;
    loop {
        if ended.is_some() && r.master.is_none() {
            return Ok(ended.unwrap());
        }
        let want_input = ended.is_none() && r.master.is_some() && r.pending.is_empty();
        // Each slot is (fd, events); None keeps the index stable for the checks below.
        let slots: [Option<(BorrowedFd, PollFlags)>; 5] = [
            Some((signals.as_fd(), PollFlags::POLLIN)),
            r.channel.as_ref().map(|c| (c.as_fd(), PollFlags::POLLIN)),
            r.master.as_ref().map(|m| (m.as_fd(), if r.pending.is_empty() { PollFlags::POLLIN } else { PollFlags::POLLIN | PollFlags::POLLOUT })),
            r.stdin.as_ref().filter(|_| want_input).map(|s| (s.as_fd(), PollFlags::POLLIN)),
            r.control.as_ref().filter(|_| ended.is_none()).map(|c| (c.as_fd(), PollFlags::POLLIN)),
        ];
        let index: Vec<usize> = (0..slots.len()).filter(|&i| slots[i].is_some()).collect();
        let mut fds: Vec<PollFd> = slots.iter().flatten().map(|(fd, ev)| PollFd::new(*fd, *ev)).collect();
        let timeout = if ended.is_some() { PollTimeout::from(DRAIN_IDLE_MS) } else { PollTimeout::NONE };
        let n = match poll(&mut fds, timeout) {
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(format!("poll: {e}")),
        };
        if n == 0 {
            // Quiet since the child ended: whatever still holds the slave is not ours to wait for.
            return Ok(ended.unwrap_or(Ended::Exited(0)));
        }
        let ready: Vec<(usize, PollFlags)> = fds.iter().zip(&index).filter_map(|(fd, &i)| fd.revents().filter(|r| !r.is_empty()).map(|r| (i, r))).collect();
        drop(fds);
        for (slot, revents) in ready {
            match slot {
                0 => {
                    while let Ok(Some(info)) = signals.read_signal() {
                        let sig = Signal::try_from(info.ssi_signo as i32).ok();
                        if sig == Some(Signal::SIGCHLD) {
                            if let Some(e) = reap(child).map_err(|e| format!("waiting for the container's process: {e}"))? {
                                ended = Some(e);
                            }
                        } else if let Some(sig) = sig {
                            let _ = kill(child, sig);
                        }
                    }
                }
                1 => {
                    let channel = r.channel.take().expect("polled");
                    if let Some(master) = pty::receive(&channel)? {
                        r.got_master(master)?;
                    }
                }
                2 => {
                    if revents.contains(PollFlags::POLLOUT) {
                        r.flush_input();
                    }
                    if revents.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR) {
                        r.output();
                    }
                }
                3 => r.input(),
                4 => r.control()?,
                _ => unreachable!(),
            }
        }
        if !r.pending.is_empty() {
            r.flush_input();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_lines_parse_into_sizes() {
        assert_eq!(parse_control("resize 30 100\n"), Some(ConsoleSize { rows: 30, columns: 100 }));
        assert_eq!(parse_control("resize 0 100"), None);
        assert_eq!(parse_control("resize 30"), None);
        assert_eq!(parse_control("resize 30 100 7"), None);
        assert_eq!(parse_control("resize -1 100"), None);
        assert_eq!(parse_control("hello"), None);
    }
}
