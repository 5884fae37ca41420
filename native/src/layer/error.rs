//! The one error type of the layer engine: what went wrong, at which entry when known, and the
//! errno behind it when the kernel gave one (so a full disk reaches JavaScript as `ENOSPC`).

use crate::error::{errno_of, errno_name, NativeError, KILN_LAYER_ENTRY, KILN_NATIVE};
use std::fmt;
use std::io;

/// An error while producing, applying or reading a layer; `entry` is the tar path (or tree path)
/// being handled, so the message can say which file made the layer fail.
#[derive(Debug)]
pub struct LayerError {
    /// Path of the entry being handled, if the error belongs to one.
    pub entry: Option<Vec<u8>>,
    /// What went wrong.
    pub message: String,
    /// The kernel's errno, when a syscall failed.
    pub errno: Option<i32>,
    /// An I/O error the kernel did not name: the archive's bytes are broken (cut short, bad
    /// compression), which is not the entry's fault.
    pub corrupt: bool,
}

/// A failure while handling one entry, before the entry's path is attached: the errno survives.
#[derive(Debug)]
pub struct Fault {
    /// What went wrong.
    pub message: String,
    /// The kernel's errno; none for what the layer itself got wrong (a `..` path, a symlinked parent).
    pub errno: Option<i32>,
    /// See [`LayerError::corrupt`].
    pub corrupt: bool,
}

impl Fault {
    /// `what` failed with `e`.
    pub fn io(what: impl fmt::Display, e: &io::Error) -> Self {
        Fault { message: format!("{what}: {e}"), errno: errno_of(e), corrupt: errno_of(e).is_none() }
    }
}

impl From<String> for Fault {
    fn from(message: String) -> Self {
        Fault { message, errno: None, corrupt: false }
    }
}

impl From<&str> for Fault {
    fn from(message: &str) -> Self {
        Fault { message: message.to_string(), errno: None, corrupt: false }
    }
}

impl From<io::Error> for Fault {
    fn from(e: io::Error) -> Self {
        Fault { message: e.to_string(), errno: errno_of(&e), corrupt: errno_of(&e).is_none() }
    }
}

impl LayerError {
    /// An error about one entry.
    pub fn at(entry: &[u8], fault: impl Into<Fault>) -> Self {
        let f = fault.into();
        LayerError { entry: Some(entry.to_vec()), message: f.message, errno: f.errno, corrupt: f.corrupt }
    }

    /// An error about the layer as a whole.
    pub fn whole(fault: impl Into<Fault>) -> Self {
        let f = fault.into();
        LayerError { entry: None, message: f.message, errno: f.errno, corrupt: f.corrupt }
    }

    /// Renders the error under a subject, e.g. `layer sha256:…: entry "etc/x": …`.
    pub fn render(&self, subject: &str) -> String {
        match &self.entry {
            Some(e) => format!("{subject}: entry \"{}\": {}", String::from_utf8_lossy(e), self.message),
            None => format!("{subject}: {}", self.message),
        }
    }

    /// The error for JavaScript: the errno's name when the kernel failed, `KILN_LAYER_ENTRY` for
    /// an entry the layer got wrong, `KILN_NATIVE` for the rest (a corrupt stream, even while an
    /// entry was being read).
    pub fn to_native(&self, subject: &str) -> NativeError {
        let code = match (self.errno, &self.entry) {
            (Some(n), _) => errno_name(n),
            (None, Some(_)) if !self.corrupt => KILN_LAYER_ENTRY.to_string(),
            (None, _) => KILN_NATIVE.to_string(),
        };
        let entry = self.entry.as_ref().map(|e| String::from_utf8_lossy(e).into_owned());
        NativeError { entry, ..NativeError::new(&code, self.errno, self.render(subject)) }
    }
}

impl From<io::Error> for LayerError {
    fn from(e: io::Error) -> Self {
        LayerError::whole(e)
    }
}

/// Attaches an entry path to io results.
pub trait AtEntry<T> {
    /// Maps the error to a [`LayerError`] naming `entry`.
    fn at(self, entry: &[u8]) -> Result<T, LayerError>;
}

impl<T> AtEntry<T> for io::Result<T> {
    fn at(self, entry: &[u8]) -> Result<T, LayerError> {
        self.map_err(|e| LayerError::at(entry, e))
    }
}
