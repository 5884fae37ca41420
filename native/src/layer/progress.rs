//! Throttled progress reports: bytes done so far, at most once per 64 KiB and per 10 ms.

use std::time::{Duration, Instant};

const MIN_BYTES: u64 = 64 * 1024;
const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// A progress callback, called from the worker thread.
pub type ProgressFn = Box<dyn FnMut(u64) + Send>;

/// Decides when a byte count is worth reporting, so JS is not flooded with calls.
pub struct Progress {
    report: Option<ProgressFn>,
    last_bytes: u64,
    last_time: Instant,
}

impl Progress {
    /// A reporter; `None` makes every call a no-op.
    pub fn new(report: Option<ProgressFn>) -> Self {
        Progress { report, last_bytes: 0, last_time: Instant::now() }
    }

    /// Reports `total` if enough bytes and time passed since the last report.
    pub fn update(&mut self, total: u64) {
        let Some(report) = self.report.as_mut() else { return };
        if total.saturating_sub(self.last_bytes) < MIN_BYTES || self.last_time.elapsed() < MIN_INTERVAL {
            return;
        }
        report(total);
        self.last_bytes = total;
        self.last_time = Instant::now();
    }

    /// Reports the final count unconditionally, so callers always see 100%.
    pub fn finish(&mut self, total: u64) {
        if let Some(report) = self.report.as_mut() {
            report(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn throttles_by_bytes_and_time_and_always_reports_the_end() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let mut p = Progress::new(Some(Box::new(move |b| s.lock().unwrap().push(b))));
        std::thread::sleep(MIN_INTERVAL);
        p.update(1000); // too few bytes
        p.update(MIN_BYTES + 1);
        p.update(3 * MIN_BYTES); // too soon
        p.finish(3 * MIN_BYTES + 5);
        assert_eq!(*seen.lock().unwrap(), vec![MIN_BYTES + 1, 3 * MIN_BYTES + 5]);
    }
}
