//! How many bytes an apply may write: the free space of the target's filesystem when it starts,
//! less a reserve. A layer or archive that expands past it (a decompression bomb: a few KB of
//! zstd can hold gigabytes of zeros) fails with ENOSPC before the disk is full, so the store and
//! every other process on that filesystem keep the reserve to go on (and to clean up).

use super::error::Fault;
use nix::sys::statvfs::statvfs;
use std::io;
use std::path::Path;

/// The reserve: a twentieth of the filesystem, at most this much.
const MAX_RESERVE: u64 = 256 << 20;

/// Bytes left to write in one apply.
pub struct SpaceBudget {
    left: u64,
    free: u64,
    reserve: u64,
}

impl SpaceBudget {
    /// The budget for writing below `target`.
    pub fn of(target: &Path) -> Result<Self, Fault> {
        let s = statvfs(target).map_err(|e| Fault::io(format!("statfs {}", target.display()), &io::Error::from(e)))?;
        let block = s.fragment_size() as u64;
        let free = s.blocks_available() as u64 * block;
        let reserve = (s.blocks() as u64 * block / 20).min(MAX_RESERVE);
        Ok(SpaceBudget { left: free.saturating_sub(reserve), free, reserve })
    }

    /// Takes `bytes` of file data from the budget, or fails as a full disk would.
    pub fn take(&mut self, bytes: u64) -> Result<(), Fault> {
        if bytes > self.left {
            let mib = |b: u64| b >> 20;
            return Err(Fault::io(
                format!(
                    "the layer expands past the free space ({} MiB free, {} MiB kept in reserve): a decompression bomb, or a disk too full for it",
                    mib(self.free),
                    mib(self.reserve)
                ),
                &io::Error::from_raw_os_error(libc::ENOSPC),
            ));
        }
        self.left -= bytes;
        Ok(())
    }
}
