//! Running independent per-item work on all cores: the file-by-file jobs (hashing a context,
//! copying a tree) are latency-bound syscalls, so several in flight beat one at a time.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Worker threads for file work: the cores, but at least 2 (I/O waits overlap even on one core)
/// and at most 8 (beyond that a disk queue, not the CPU, is the limit).
pub fn workers() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(2, 8)
}

/// Calls `f(i)` for every `i` in `0..count` on up to `workers()` threads and collects the results
/// in index order. The first error stops the remaining items and is returned.
pub fn map_indexed<T, E, F>(count: usize, f: F) -> Result<Vec<T>, E>
where
    T: Send,
    E: Send,
    F: Fn(usize) -> Result<T, E> + Sync,
{
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let first_error: Mutex<Option<(usize, E)>> = Mutex::new(None);
    let threads = workers().min(count.max(1));
    let mut slots: Vec<Option<T>> = Vec::with_capacity(count);
    slots.resize_with(count, || None);
    let slots = Mutex::new(slots);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut done: Vec<(usize, T)> = Vec::new();
                while !failed.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    match f(i) {
                        Ok(v) => done.push((i, v)),
                        Err(e) => {
                            failed.store(true, Ordering::Relaxed);
                            let mut slot = first_error.lock().unwrap_or_else(|p| p.into_inner());
                            // Report the lowest-numbered failure seen, so the error is stable-ish.
                            if slot.as_ref().map_or(true, |(j, _)| i < *j) {
                                *slot = Some((i, e));
                            }
                        }
                    }
                }
                let mut slots = slots.lock().unwrap_or_else(|p| p.into_inner());
                for (i, v) in done {
                    slots[i] = Some(v);
                }
            });
        }
    });
    if let Some((_, e)) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    Ok(slots
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|v| v.expect("every index ran"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_index_order() {
        let out: Vec<usize> = map_indexed(1000, |i| Ok::<_, ()>(i * 2)).unwrap();
        assert_eq!(out, (0..1000).map(|i| i * 2).collect::<Vec<_>>());
        assert!(map_indexed(0, |_| Ok::<u8, ()>(1)).unwrap().is_empty());
    }

    #[test]
    fn an_error_is_returned_and_stops_the_rest() {
        let ran = AtomicUsize::new(0);
        let r: Result<Vec<()>, String> = map_indexed(100_000, |i| {
            ran.fetch_add(1, Ordering::Relaxed);
            if i == 10 { Err(format!("item {i}")) } else { Ok(()) }
        });
        assert_eq!(r.unwrap_err(), "item 10");
        assert!(ran.load(Ordering::Relaxed) < 100_000);
    }
}
