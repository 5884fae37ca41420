//! A blob arriving in pieces (a registry download), hashed and written on a thread of its own:
//! the JS thread only hands the chunks over, while this thread runs sha256 (SHA-NI where the CPU
//! has it, through the sha2 crate's runtime detection) and writes the file, starting its
//! write-back as data arrives so that the fsync before the commit finds little left to do.

use crate::error::{Coded, Job, NativeError, KILN_INVALID_ARG, KILN_NATIVE};
use crate::hash::{FileDigest, JsFileDigest};
use napi::bindgen_prelude::{AsyncTask, Buffer};
use napi::Env;
use napi_derive::napi;
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Chunks queued for the writer thread before `write` blocks (undici hands 64 KiB at most: 16 MiB).
const QUEUE: usize = 256;
/// Write-back is started for every this many bytes written, and the window before it waited for,
/// so dirty pages stay bounded and the final fsync is short.
const WINDOW: u64 = 8 << 20;

enum Piece {
    Data(Vec<u8>),
    /// The source started over from its first byte.
    Reset,
}

/// Starts the write-back of `[from, from+len)` and, once `from` is past the first window, waits
/// for the window before it; errors surface at the fsync, so they are ignored here.
fn write_behind(file: &File, from: u64) {
    let fd = file.as_raw_fd();
    // SAFETY: sync_file_range only reads the descriptor and the numbers given.
    unsafe {
        libc::sync_file_range(fd, from as i64, WINDOW as i64, libc::SYNC_FILE_RANGE_WRITE);
        if from >= WINDOW {
            let flags = libc::SYNC_FILE_RANGE_WAIT_BEFORE | libc::SYNC_FILE_RANGE_WRITE | libc::SYNC_FILE_RANGE_WAIT_AFTER;
            libc::sync_file_range(fd, (from - WINDOW) as i64, WINDOW as i64, flags);
        }
    }
}

fn drain(mut file: File, rx: Receiver<Piece>) -> io::Result<FileDigest> {
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut behind = 0u64;
    for piece in rx {
        match piece {
            Piece::Data(bytes) => {
                hasher.update(&bytes);
                file.write_all(&bytes)?;
                size += bytes.len() as u64;
                while size - behind >= WINDOW {
                    write_behind(&file, behind);
                    behind += WINDOW;
                }
            }
            Piece::Reset => {
                file.set_len(0)?;
                file.seek(SeekFrom::Start(0))?;
                hasher = Sha256::new();
                size = 0;
                behind = 0;
            }
        }
    }
    // containerd's content writer syncs on commit too: the rename that follows must not make a
    // blob visible whose bytes a crash could still lose.
    file.sync_all()?;
    Ok(FileDigest { digest: format!("sha256:{}", hex::encode(hasher.finalize())), size })
}

/// One blob being ingested into a temp file; see the module doc.
#[napi]
pub struct BlobIngest {
    path: String,
    queue: Option<SyncSender<Piece>>,
    thread: Option<JoinHandle<io::Result<FileDigest>>>,
}

#[napi]
impl BlobIngest {
    /// Creates `path` (which must not exist, mode 0644) and the thread that writes it.
    #[napi(factory)]
    pub fn create(env: Env, path: String) -> napi::Result<Self> {
        let file = OpenOptions::new().write(true).create_new(true).mode(0o644).open(&path)
            .map_err(|e| NativeError::io(format_args!("creating {path}"), &e).into_napi(&env))?;
        let (tx, rx) = sync_channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("kiln-ingest".into())
            .spawn(move || drain(file, rx))
            .map_err(|e| NativeError::io("starting the ingest thread", &e).into_napi(&env))?;
        Ok(BlobIngest { path, queue: Some(tx), thread: Some(thread) })
    }

    /// Queues a copy of `chunk`; blocks while the queue is full (the disk is behind). False when
    /// the writer thread failed: it takes no more, and `finish` rejects with its error.
    #[napi]
    pub fn write(&self, chunk: Buffer) -> bool {
        self.queue.as_ref().is_some_and(|q| q.send(Piece::Data(chunk.to_vec())).is_ok())
    }

    /// Drops what was written so far: the source starts over.
    #[napi]
    pub fn reset(&self) {
        if let Some(q) = &self.queue {
            let _ = q.send(Piece::Reset);
        }
    }

    /// Ends the input; resolves, once every byte is written and synced, to the sha256 and size of
    /// what was written. Call once.
    #[napi(ts_return_type = "Promise<FileDigest>")]
    pub fn finish(&mut self) -> AsyncTask<Coded<FinishTask>> {
        self.queue = None;
        AsyncTask::new(Coded::new(FinishTask { path: self.path.clone(), thread: self.thread.take() }))
    }
}

/// Waits for the writer thread off the event loop.
pub struct FinishTask {
    path: String,
    thread: Option<JoinHandle<io::Result<FileDigest>>>,
}

impl Job for FinishTask {
    type Output = FileDigest;
    type JsValue = JsFileDigest;

    fn run(&mut self) -> Result<FileDigest, NativeError> {
        let path = &self.path;
        let thread = self.thread.take().ok_or_else(|| NativeError::new(KILN_INVALID_ARG, None, format!("{path}: finished twice")))?;
        let written = thread.join().map_err(|_| NativeError::new(KILN_NATIVE, None, format!("writing {path}: the ingest thread panicked")))?;
        written.map_err(|e| NativeError::io(format_args!("writing {path}"), &e))
    }

    fn resolve(&mut self, _env: Env, out: FileDigest) -> napi::Result<JsFileDigest> {
        Ok(JsFileDigest { digest: out.digest, size: out.size as f64 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ingest(path: &std::path::Path, pieces: Vec<Piece>) -> io::Result<FileDigest> {
        let file = OpenOptions::new().write(true).create_new(true).open(path)?;
        let (tx, rx) = sync_channel(4);
        let t = std::thread::spawn(move || drain(file, rx));
        for p in pieces {
            tx.send(p).unwrap();
        }
        drop(tx);
        t.join().unwrap()
    }

    #[test]
    fn hashes_and_writes_across_windows_and_a_reset() {
        let dir = std::env::temp_dir().join(format!("kiln-ingest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("blob");
        let big: Vec<u8> = (0..(WINDOW as usize * 2 + 12345)).map(|i| (i * 7 % 251) as u8).collect();
        let pieces = vec![
            Piece::Data(b"thrown away".to_vec()),
            Piece::Reset,
            Piece::Data(big[..5_000_000].to_vec()),
            Piece::Data(big[5_000_000..].to_vec()),
        ];
        let w = ingest(&p, pieces).unwrap();
        assert_eq!(w.size, big.len() as u64);
        assert_eq!(w.digest, format!("sha256:{}", hex::encode(Sha256::digest(&big))));
        assert_eq!(std::fs::read(&p).unwrap(), big);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
