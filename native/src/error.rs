//! The errors the addon throws: each JS error has a stable `code` (the errno name such as
//! `ENOENT`, or a `KILN_*` name for kiln's own conditions) and, when the kernel gave one, an
//! `errno` (negative, as Node's own fs errors have it), so TypeScript branches on codes and never
//! on message text.

use napi::bindgen_prelude::{JsValue, ToNapiValue, TypeName};
use napi::{Env, Task};
use std::fmt;
use std::io;

/// The code of a failure the kernel did not name, e.g. a corrupt tar header.
pub const KILN_NATIVE: &str = "KILN_NATIVE";
/// `unmount` of a path that is not a mount point (umount2's EINVAL).
pub const KILN_NOT_A_MOUNT: &str = "KILN_NOT_A_MOUNT";
/// A layer entry refused: outside the target, through a symlink, or malformed.
pub const KILN_LAYER_ENTRY: &str = "KILN_LAYER_ENTRY";
/// Options from JavaScript that make no sense (an unknown driver or compression).
pub const KILN_INVALID_ARG: &str = "KILN_INVALID_ARG";

/// What an io::Error carries when a context message or a kiln code was added to it: the errno
/// survives the wrapping, so the code reaches JavaScript.
#[derive(Debug)]
struct Tagged {
    code: Option<&'static str>,
    errno: Option<i32>,
    message: String,
}

impl fmt::Display for Tagged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Tagged {}

fn tagged(e: &io::Error) -> Option<&Tagged> {
    e.get_ref().and_then(|inner| inner.downcast_ref::<Tagged>())
}

/// The errno behind `e`, through any context added with [`context`] and any wrapping error
/// whose `source()` leads to it (tar's errors do).
pub fn errno_of(e: &io::Error) -> Option<i32> {
    if let Some(n) = e.raw_os_error().or_else(|| tagged(e).and_then(|t| t.errno)) {
        return Some(n);
    }
    let mut cur: Option<&(dyn std::error::Error + 'static)> = e.get_ref().map(|inner| inner as _);
    while let Some(err) = cur {
        if let Some(n) = err.downcast_ref::<io::Error>().and_then(errno_of) {
            return Some(n);
        }
        cur = err.source();
    }
    None
}

/// `e` with `message` as its text, keeping its errno and code.
pub fn context(e: io::Error, message: impl Into<String>) -> io::Error {
    let (code, errno) = (tagged(&e).and_then(|t| t.code), errno_of(&e));
    io::Error::new(e.kind(), Tagged { code, errno, message: message.into() })
}

/// An io::Error with a kiln code (and the errno it stands for, if any).
pub fn coded(code: &'static str, errno: Option<i32>, message: impl Into<String>) -> io::Error {
    let kind = errno.map_or(io::ErrorKind::Other, |n| io::Error::from_raw_os_error(n).kind());
    io::Error::new(kind, Tagged { code: Some(code), errno, message: message.into() })
}

/// The errno's name (`ENOENT`), as Node names them.
pub fn errno_name(errno: i32) -> String {
    format!("{:?}", nix::errno::Errno::from_raw(errno))
}

/// An error on its way to JavaScript.
#[derive(Debug)]
pub struct NativeError {
    /// `ENOENT`…, or a `KILN_*` code.
    pub code: String,
    /// The kernel's errno (positive), when there was one.
    pub errno: Option<i32>,
    /// The message, naming what failed where.
    pub message: String,
    /// The layer or archive entry being handled, when the failure belongs to one.
    pub entry: Option<String>,
}

impl NativeError {
    /// An error with a kiln code.
    pub fn new(code: &str, errno: Option<i32>, message: impl Into<String>) -> Self {
        NativeError { code: code.to_string(), errno, message: message.into(), entry: None }
    }

    /// `e` under `subject` (`"unmount /x: …"`): its kiln code if it has one, else its errno's name.
    pub fn io(subject: impl fmt::Display, e: &io::Error) -> Self {
        NativeError { message: format!("{subject}: {e}"), ..NativeError::bare(e) }
    }

    /// `e` as it is, for errors whose text already names what failed where.
    pub fn bare(e: &io::Error) -> Self {
        let errno = errno_of(e);
        let code = match (tagged(e).and_then(|t| t.code), errno) {
            (Some(c), _) => c.to_string(),
            (None, Some(n)) => errno_name(n),
            (None, None) => KILN_NATIVE.to_string(),
        };
        NativeError { code, errno, message: e.to_string(), entry: None }
    }

    /// The JS error: an `Error` with `message`, `code`, `errno` and `entry` set.
    pub fn into_napi(self, env: &Env) -> napi::Error {
        let build = || -> napi::Result<napi::Error> {
            let mut obj = env.create_error(napi::Error::from_reason(self.message.clone()))?;
            obj.set("code", self.code.as_str())?;
            if let Some(n) = self.errno {
                obj.set("errno", -n)?;
            }
            if let Some(entry) = &self.entry {
                obj.set("entry", entry.as_str())?;
            }
            Ok(napi::Error::from(obj.to_unknown()))
        };
        build().unwrap_or_else(|e| e)
    }
}

/// The work of an async addon call: `run` on libuv's pool, `resolve` back on the JS thread.
pub trait Job: Send + Sized {
    /// What `run` produces.
    type Output: Send + Sized + 'static;
    /// What the promise resolves to.
    type JsValue: ToNapiValue + TypeName;
    /// The work itself, off the event loop.
    fn run(&mut self) -> Result<Self::Output, NativeError>;
    /// Turns the output into the JS value.
    fn resolve(&mut self, env: Env, out: Self::Output) -> napi::Result<Self::JsValue>;
}

/// A [`Job`] as a napi task whose promise rejects with a coded error: the failure is kept here
/// between `compute` (pool thread) and `reject` (JS thread), where the JS error can be built.
pub struct Coded<J: Job> {
    job: J,
    failure: Option<NativeError>,
}

impl<J: Job> Coded<J> {
    /// Wraps `job`.
    pub fn new(job: J) -> Self {
        Coded { job, failure: None }
    }
}

impl<J: Job> Task for Coded<J> {
    type Output = J::Output;
    type JsValue = J::JsValue;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        self.job.run().map_err(|e| {
            let reason = e.message.clone();
            self.failure = Some(e);
            napi::Error::from_reason(reason)
        })
    }

    fn resolve(&mut self, env: Env, out: Self::Output) -> napi::Result<Self::JsValue> {
        self.job.resolve(env, out)
    }

    fn reject(&mut self, env: Env, err: napi::Error) -> napi::Result<Self::JsValue> {
        Err(match self.failure.take() {
            Some(f) => f.into_napi(&env),
            None => err,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_keeps_the_errno_and_the_code() {
        let e = context(io::Error::from_raw_os_error(libc::ENOSPC), "writing x: no space");
        assert_eq!(errno_of(&e), Some(libc::ENOSPC));
        let n = NativeError::io("diff", &context(e, "again"));
        assert_eq!((n.code.as_str(), n.errno, n.message.as_str()), ("ENOSPC", Some(libc::ENOSPC), "diff: again"));
        let k = NativeError::io("unmount /x", &context(coded(KILN_NOT_A_MOUNT, Some(libc::EINVAL), "not one"), "/x: not one"));
        assert_eq!((k.code.as_str(), k.errno), (KILN_NOT_A_MOUNT, Some(libc::EINVAL)));
        assert_eq!(NativeError::io("x", &io::Error::other("odd")).code, KILN_NATIVE);
        assert_eq!(errno_name(libc::ENOENT), "ENOENT");
    }
}
