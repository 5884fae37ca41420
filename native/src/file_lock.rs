//! Advisory whole-file locks (flock) for the store's lock files: the kernel drops one when its
//! descriptor closes or its process dies, and taking one writes nothing, so locking works on a
//! full disk and never leaves a stale holder behind.
use crate::error::NativeError;
use napi::Env;
use napi_derive::napi;
use std::io;

/// Tries to take an exclusive lock on `fd` without waiting: true when taken, false when another
/// open file description (this process's or another's) holds one.
pub fn try_lock_exclusive(fd: i32) -> io::Result<bool> {
    loop {
        // SAFETY: flock reads only its two integer arguments; a bad descriptor is EBADF.
        if unsafe { libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EWOULDBLOCK) => return Ok(false),
            Some(libc::EINTR) => continue,
            _ => return Err(e),
        }
    }
}

/// `tryLockFile(fd)`: see try_lock_exclusive. Synchronous: the call never waits.
#[napi(js_name = "tryLockFile")]
pub fn try_lock_file_js(env: Env, fd: i32) -> napi::Result<bool> {
    try_lock_exclusive(fd).map_err(|e| NativeError::io(format_args!("flock descriptor {fd}"), &e).into_napi(&env))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::OpenOptions;
    use std::os::fd::AsRawFd;

    #[test]
    fn one_holder_at_a_time_and_released_on_close() {
        let path = std::env::temp_dir().join(format!("kiln-flock-test-{}", std::process::id()));
        let open = || OpenOptions::new().create(true).append(true).open(&path).unwrap();
        let first = open();
        let second = open();
        assert!(try_lock_exclusive(first.as_raw_fd()).unwrap());
        assert!(!try_lock_exclusive(second.as_raw_fd()).unwrap(), "a second description must wait");
        drop(first);
        assert!(try_lock_exclusive(second.as_raw_fd()).unwrap(), "closing the holder releases it");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "locking writes nothing");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_bad_descriptor_is_an_error() {
        assert!(try_lock_exclusive(-1).is_err());
    }
}
