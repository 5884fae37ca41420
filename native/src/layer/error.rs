//! The one error type of the layer engine: what went wrong and, when known, at which entry.

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
}

impl LayerError {
    /// An error about one entry.
    pub fn at(entry: &[u8], message: impl fmt::Display) -> Self {
        LayerError { entry: Some(entry.to_vec()), message: message.to_string() }
    }

    /// An error about the layer as a whole.
    pub fn whole(message: impl fmt::Display) -> Self {
        LayerError { entry: None, message: message.to_string() }
    }

    /// Renders the error under a subject, e.g. `layer sha256:…: entry "etc/x": …`.
    pub fn render(&self, subject: &str) -> String {
        match &self.entry {
            Some(e) => format!("{subject}: entry \"{}\": {}", String::from_utf8_lossy(e), self.message),
            None => format!("{subject}: {}", self.message),
        }
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

impl<T, E: fmt::Display> AtEntry<T> for Result<T, E> {
    fn at(self, entry: &[u8]) -> Result<T, LayerError> {
        self.map_err(|e| LayerError::at(entry, e))
    }
}
