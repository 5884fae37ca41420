//! Messages to the runner on the report fd, one JSON object per line: setup errors, the mount
//! stubs the helper created in the rootfs, the start of the command and how it ended.

use serde_json::{json, Value};
use std::os::fd::RawFd;

#[derive(Clone, Copy)]
pub struct Reporter {
    fd: Option<RawFd>,
}

impl Reporter {
    pub fn new(fd: Option<RawFd>) -> Self {
        Reporter { fd }
    }

    fn send(&self, value: Value) {
        let Some(fd) = self.fd else { return };
        let mut line = value.to_string();
        line.push('\n');
        // One write per line keeps lines whole when PID 1 and the outer helper both report (pipe
        // writes below PIPE_BUF are atomic); a failed report must not change the container's fate.
        let _ = nix::unistd::write(unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) }, line.as_bytes());
    }

    pub fn error(&self, message: &str) {
        self.send(json!({ "type": "error", "message": message }));
    }

    pub fn stubs(&self, paths: &[String]) {
        if !paths.is_empty() {
            self.send(json!({ "type": "stubs", "paths": paths }));
        }
    }

    /// The command runs (PID 1 exec'd it, or the init): `pid` is PID 1 as the host sees it.
    pub fn started(&self, pid: i32) {
        self.send(json!({ "type": "started", "pid": pid }));
    }

    pub fn signaled(&self, signal: i32) {
        self.send(json!({ "type": "signaled", "signal": signal }));
    }
}
