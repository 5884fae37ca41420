//! gzip on every core, as pigz does it: the input is cut into fixed-size blocks that worker
//! threads deflate independently, and the pieces are joined behind one gzip header and trailer.
//! Block boundaries depend only on the input, so the bytes are the same whatever the thread count.

use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use std::io::{self, Write};
use std::mem;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::{self, JoinHandle};

/// Fixed, never derived from the thread count: it decides where the deflate stream is cut.
const BLOCK: usize = 1 << 20;
/// Deflate's window: each block is primed with this much of the input before it, so cutting
/// costs almost no ratio.
const WINDOW: usize = 32 * 1024;
/// The level Docker writes (and flate2's default).
pub const LEVEL: u32 = 6;
/// Probes that decide whether a block is already compressed (see `level_for`).
const PROBE: usize = 64 * 1024;
/// Below this many bits of entropy per byte, a block is worth deflating without a probe.
const HIGH_ENTROPY: f64 = 7.99;
/// A probe that deflates to more than this share of its input found nothing worth the search.
const NO_GAIN: f64 = 0.99;
/// Exactly what flate2's `GzEncoder` writes at level 6: no name, mtime 0, XFL 0, OS unknown
/// (kept at other levels too: XFL is only a hint that readers ignore).
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];

/// One block to deflate, with the input before it as the dictionary.
struct Job {
    data: Vec<u8>,
    dict: Vec<u8>,
}

/// A deflated block and the CRC of its input.
struct Done {
    deflated: Vec<u8>,
    crc: Crc,
}

/// Deflates one block; all but the last end with a sync flush, so the raw pieces concatenate
/// into one valid deflate stream.
fn deflate(data: &[u8], dict: &[u8], last: bool, level: u32) -> io::Result<Done> {
    let mut z = Compress::new(Compression::new(level_for(data, level)), false);
    if !dict.is_empty() {
        z.set_dictionary(dict).map_err(io::Error::other)?;
    }
    let flush = if last { FlushCompress::Finish } else { FlushCompress::Sync };
    // Enough for incompressible input plus stored-block overhead, so one call usually does it.
    let mut deflated = Vec::with_capacity(data.len() + data.len() / 64 + 64);
    loop {
        let fed = z.total_in() as usize;
        let status = z.compress_vec(&data[fed..], &mut deflated, flush).map_err(io::Error::other)?;
        // zlib's rule: a flush is complete once it returns with output space to spare.
        let complete = if last {
            status == Status::StreamEnd
        } else {
            z.total_in() as usize == data.len() && deflated.len() < deflated.capacity()
        };
        if complete {
            break;
        }
        deflated.reserve(64 * 1024);
    }
    let mut crc = Crc::new();
    crc.update(data);
    Ok(Done { deflated, crc })
}

/// 0 (stored) for a block of already-compressed or random bytes, else `level`. Level 6 searches
/// such a block at about 30 MB/s per core and gains nothing (often it adds bytes); stored costs a
/// copy. Both tests read only the block, so the choice (and the output) stays deterministic: the
/// byte entropy of a sample must be near 8 bits, and level-1 probes at the start, middle and end
/// must all fail to shrink, which catches the repeats entropy cannot see.
fn level_for(data: &[u8], level: u32) -> u32 {
    if level == 0 || data.len() < 4 * PROBE || sampled_entropy(data) < HIGH_ENTROPY {
        return level;
    }
    let starts = [0, (data.len() - PROBE) / 2, data.len() - PROBE];
    let shrinks = starts.iter().any(|&at| {
        let mut z = Compress::new(Compression::new(1), false);
        let mut out = Vec::with_capacity(PROBE + PROBE / 8);
        let failed = z.compress_vec(&data[at..at + PROBE], &mut out, FlushCompress::Finish).is_err();
        failed || (out.len() as f64) < NO_GAIN * PROBE as f64
    });
    if shrinks {
        level
    } else {
        0
    }
}

/// Shannon entropy, in bits per byte, of every 16th byte: enough samples to tell uniform bytes
/// from anything deflate can use, at a sixteenth of the cost of a full count.
fn sampled_entropy(data: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    let mut n = 0u32;
    for &b in data.iter().step_by(16) {
        counts[b as usize] += 1;
        n += 1;
    }
    let n = f64::from(n);
    counts.iter().filter(|&&c| c > 0).map(|&c| -(f64::from(c) / n) * (f64::from(c) / n).log2()).sum()
}

/// Worker threads; block `n` goes to worker `n % workers`, so each worker's results come back
/// in order on its own channel and no reordering is needed.
struct Pool {
    jobs: Vec<Sender<Job>>,
    done: Vec<Receiver<io::Result<Done>>>,
    threads: Vec<JoinHandle<()>>,
}

impl Pool {
    fn start(workers: usize, level: u32) -> io::Result<Pool> {
        let mut pool = Pool { jobs: Vec::new(), done: Vec::new(), threads: Vec::new() };
        for i in 0..workers {
            let (job_tx, job_rx) = mpsc::channel::<Job>();
            let (done_tx, done_rx) = mpsc::channel();
            let thread = thread::Builder::new().name(format!("kiln-gzip-{i}")).spawn(move || {
                for job in job_rx {
                    if done_tx.send(deflate(&job.data, &job.dict, false, level)).is_err() {
                        break;
                    }
                }
            })?;
            pool.jobs.push(job_tx);
            pool.done.push(done_rx);
            pool.threads.push(thread);
        }
        Ok(pool)
    }

    fn send(&self, seq: u64, job: Job) -> io::Result<()> {
        let worker = (seq % self.jobs.len() as u64) as usize;
        self.jobs[worker].send(job).map_err(|_| worker_lost())
    }

    fn recv(&self, seq: u64) -> io::Result<Done> {
        let worker = (seq % self.done.len() as u64) as usize;
        self.done[worker].recv().map_err(|_| worker_lost())?
    }
}

fn worker_lost() -> io::Error {
    io::Error::other("a gzip worker thread stopped")
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Results first: a worker then stops at its next send instead of draining queued blocks.
        self.done.clear();
        self.jobs.clear();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// A gzip stream written by `workers` threads; [`GzipWriter::finish`] writes the trailer.
pub struct GzipWriter<W: Write> {
    out: W,
    workers: usize,
    level: u32,
    /// Started at the first full block, so a layer smaller than a block never spawns a thread.
    pool: Option<Pool>,
    /// Input not yet handed to a worker; the last block is deflated by `finish` itself.
    block: Vec<u8>,
    /// The last `WINDOW` bytes before `block`.
    dict: Vec<u8>,
    sent: u64,
    written: u64,
    /// Of the input written out so far; its amount is the size mod 2^32 the trailer wants.
    crc: Crc,
}

impl<W: Write> GzipWriter<W> {
    /// Writes the gzip header to `out`; `level` is deflate's (0-9); `workers` (at least 1)
    /// never changes the bytes.
    pub fn new(mut out: W, level: u32, workers: usize) -> io::Result<Self> {
        out.write_all(&HEADER)?;
        Ok(GzipWriter {
            out,
            workers: workers.max(1),
            level,
            pool: None,
            block: Vec::with_capacity(BLOCK),
            dict: Vec::new(),
            sent: 0,
            written: 0,
            crc: Crc::new(),
        })
    }

    /// Hands the full block to a worker, first writing out the oldest result when
    /// 2 × workers blocks are already in flight, which bounds memory.
    fn dispatch(&mut self) -> io::Result<()> {
        if self.sent - self.written == 2 * self.workers as u64 {
            self.write_oldest()?;
        }
        let data = mem::replace(&mut self.block, Vec::with_capacity(BLOCK));
        let dict = mem::replace(&mut self.dict, data[data.len() - WINDOW..].to_vec());
        let pool = match &self.pool {
            Some(pool) => pool,
            None => self.pool.insert(Pool::start(self.workers, self.level)?),
        };
        pool.send(self.sent, Job { data, dict })?;
        self.sent += 1;
        Ok(())
    }

    fn write_oldest(&mut self) -> io::Result<()> {
        let pool = self.pool.as_ref().ok_or_else(worker_lost)?;
        let done = pool.recv(self.written)?;
        self.append(done)?;
        self.written += 1;
        Ok(())
    }

    fn append(&mut self, done: Done) -> io::Result<()> {
        self.out.write_all(&done.deflated)?;
        self.crc.combine(&done.crc);
        Ok(())
    }

    /// Deflates the last block here while the workers drain, then writes the trailer
    /// (CRC32 and size mod 2^32 of all the input).
    pub fn finish(mut self) -> io::Result<W> {
        let last = deflate(&self.block, &self.dict, true, self.level)?;
        while self.written < self.sent {
            self.write_oldest()?;
        }
        self.append(last)?;
        self.out.write_all(&self.crc.sum().to_le_bytes())?;
        self.out.write_all(&self.crc.amount().to_le_bytes())?;
        Ok(self.out)
    }
}

impl<W: Write> Write for GzipWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // A full block leaves only once more input arrives: the last block must be the one
        // `finish` deflates with the final flag, and an empty write must not move a boundary.
        if self.block.len() == BLOCK {
            self.dispatch()?;
        }
        let n = buf.len().min(BLOCK - self.block.len());
        self.block.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    /// Flushes only what is already written: cutting a block early would make the bytes
    /// depend on when flush was called.
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read;
    use std::process::{Command, Stdio};
    use std::time::Instant;

    /// xorshift: reproducible incompressible bytes without a rand dependency.
    fn random(len: usize, mut seed: u64) -> Vec<u8> {
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect()
    }

    /// Text-like bytes that deflate well but not trivially.
    fn compressible(len: usize) -> Vec<u8> {
        let words = ["layer", "tar", "usr/bin/", "lib", "0644", "root", "\n", "kiln", "sha256:"];
        let mut out = Vec::with_capacity(len);
        let mut i = 0usize;
        while out.len() < len {
            out.extend_from_slice(words[(i * 7 + i / 3) % words.len()].as_bytes());
            out.extend_from_slice(i.to_string().as_bytes());
            i += 1;
        }
        out.truncate(len);
        out
    }

    fn gzip(data: &[u8], workers: usize, chunk: usize) -> Vec<u8> {
        gzip_at(data, LEVEL, workers, chunk)
    }

    fn gzip_at(data: &[u8], level: u32, workers: usize, chunk: usize) -> Vec<u8> {
        let mut w = GzipWriter::new(Vec::new(), level, workers).unwrap();
        for piece in data.chunks(chunk.max(1)) {
            w.write_all(piece).unwrap();
        }
        w.finish().unwrap()
    }

    fn gunzip(gz: &[u8]) -> Vec<u8> {
        // GzDecoder stops after the first member: equality below proves there is only one.
        let mut plain = Vec::new();
        GzDecoder::new(gz).read_to_end(&mut plain).unwrap();
        plain
    }

    fn cases() -> Vec<(&'static str, Vec<u8>)> {
        vec![
            ("empty", Vec::new()),
            ("one byte", vec![42]),
            ("one block", random(BLOCK, 1)),
            ("block + 1", random(BLOCK + 1, 2)),
            ("random", random(5 * BLOCK + 12_345, 3)),
            ("compressible", compressible(6 * BLOCK + 777)),
        ]
    }

    #[test]
    fn round_trips_as_one_member() {
        for (name, data) in cases() {
            for workers in [1, 3] {
                let gz = gzip(&data, workers, 8192);
                assert_eq!(gunzip(&gz), data, "{name}, {workers} workers");
                assert_eq!(&gz[..10], &HEADER);
            }
        }
    }

    #[test]
    fn incompressible_blocks_are_stored_and_the_rest_deflated() {
        let noise = random(BLOCK, 7);
        assert_eq!(level_for(&noise, LEVEL), 0);
        assert_eq!(level_for(&compressible(BLOCK), LEVEL), LEVEL);
        assert_eq!(level_for(&compressible(BLOCK), 9), 9);
        // Uniform bytes that repeat within deflate's window: entropy cannot tell, the probes can.
        let repeats: Vec<u8> = noise[..30_001].iter().copied().cycle().take(BLOCK).collect();
        assert!(sampled_entropy(&repeats) >= HIGH_ENTROPY);
        assert_eq!(level_for(&repeats, LEVEL), LEVEL);
        // Random data then text: the last probe finds the text.
        let mut mixed = noise[..BLOCK - 100 * 1024].to_vec();
        mixed.extend_from_slice(&compressible(100 * 1024));
        assert_eq!(level_for(&mixed, LEVEL), LEVEL);
        let data = random(3 * BLOCK, 8);
        let gz = gzip(&data, 2, 65536);
        assert!(gz.len() < data.len() + data.len() / 1000, "stored, not expanded: {} for {}", gz.len(), data.len());
        assert_eq!(gunzip(&gz), data);
    }

    #[test]
    fn the_level_is_deflate_s_and_does_not_depend_on_the_workers() {
        let data = compressible(3 * BLOCK + 5);
        let (fast, best, stored) = (gzip_at(&data, 1, 2, 65536), gzip_at(&data, 9, 2, 65536), gzip_at(&data, 0, 2, 65536));
        assert!(best.len() < fast.len(), "level 9 {} < level 1 {}", best.len(), fast.len());
        assert!(stored.len() > data.len(), "level 0 stores");
        assert_eq!(gzip_at(&data, 9, 1, data.len()), best);
        for gz in [fast, best, stored] {
            assert_eq!(gunzip(&gz), data);
        }
    }

    #[test]
    fn header_is_the_one_flate2_wrote() {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default()).finish().unwrap();
        assert_eq!(&gz[..10], &HEADER);
    }

    #[test]
    fn same_bytes_whatever_the_workers_and_write_sizes() {
        for (name, data) in cases() {
            let one = gzip(&data, 1, data.len());
            assert_eq!(gzip(&data, 4, 8192), one, "{name}");
            assert_eq!(gzip(&data, 2, 1000), one, "{name}");
        }
    }

    #[test]
    fn small_input_spawns_no_thread() {
        let mut w = GzipWriter::new(Vec::new(), LEVEL, 4).unwrap();
        w.write_all(&random(BLOCK, 5)).unwrap();
        assert!(w.pool.is_none());
        w.finish().unwrap();
    }

    #[test]
    fn dropping_an_unfinished_stream_stops_the_workers() {
        let mut w = GzipWriter::new(Vec::new(), LEVEL, 2).unwrap();
        w.write_all(&random(6 * BLOCK, 6)).unwrap();
        assert!(w.pool.is_some());
        drop(w); // joins the workers: returning at all is the check
    }

    #[test]
    fn gzip_tool_accepts_it() {
        let data = compressible(3 * BLOCK + 5);
        let gz = gzip(&data, 2, 65536);
        let path = std::env::temp_dir().join(format!("kiln-gzip-tool-{}.gz", std::process::id()));
        std::fs::write(&path, &gz).unwrap();
        let test = Command::new("gzip").arg("-t").arg(&path).stderr(Stdio::inherit()).status();
        let Ok(test) = test else {
            std::fs::remove_file(&path).unwrap();
            return; // no gzip on PATH
        };
        let plain = Command::new("gzip").arg("-dc").arg(&path).output().unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(test.success());
        assert!(plain.status.success());
        assert_eq!(plain.stdout, data);
    }

    /// `cargo test --release -- --ignored --nocapture gzip_throughput`
    #[test]
    #[ignore]
    fn gzip_throughput() {
        let all = thread::available_parallelism().map_or(1, |n| n.get());
        for (name, data) in [("random", random(200 << 20, 9)), ("compressible", compressible(200 << 20))] {
            for workers in [1, all] {
                let start = Instant::now();
                let gz = gzip(&data, workers, 8192);
                let secs = start.elapsed().as_secs_f64();
                let mb = data.len() as f64 / 1e6;
                println!(
                    "{name}: {workers} workers {:.0} MB/s, ratio {:.3}",
                    mb / secs,
                    gz.len() as f64 / data.len() as f64
                );
            }
        }
    }
}
