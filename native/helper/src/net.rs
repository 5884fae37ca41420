//! The one piece of networking a `none` network needs: its loopback interface up.

use std::io;

pub fn loopback_up() -> Result<(), String> {
    let fail = |what: &str| format!("bringing lo up: {what}: {}", io::Error::last_os_error());
    let sock = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if sock < 0 {
        return Err(fail("socket"));
    }
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    let result = (|| {
        if unsafe { libc::ioctl(sock, libc::SIOCGIFFLAGS, &mut req) } < 0 {
            return Err(fail("SIOCGIFFLAGS"));
        }
        unsafe { req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short };
        if unsafe { libc::ioctl(sock, libc::SIOCSIFFLAGS, &req) } < 0 {
            return Err(fail("SIOCSIFFLAGS"));
        }
        Ok(())
    })();
    unsafe { libc::close(sock) };
    result
}
