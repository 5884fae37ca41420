//! `entry_for` and the xattr helpers: what a file on disk becomes as a layer entry.

use super::{set_xattr, Scratch};
use crate::layer::entries::Kind;
use crate::layer::meta::{entry_for, is_whiteout, layer_xattrs, read_xattrs};
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};

fn entry(p: &std::path::Path, epoch: Option<i64>) -> Option<crate::layer::entries::Entry> {
    let md = fs::symlink_metadata(p).unwrap();
    entry_for(p, b"rel".to_vec(), &md, &read_xattrs(p).unwrap(), epoch).unwrap()
}

#[test]
fn files_links_devices_and_sockets() {
    let s = Scratch::new("meta");
    let f = s.0.join("f");
    fs::write(&f, b"12345").unwrap();
    std::os::unix::fs::chown(&f, Some(7), Some(8)).unwrap();
    fs::set_permissions(&f, fs::Permissions::from_mode(0o4751)).unwrap();
    let e = entry(&f, None).unwrap();
    assert_eq!((e.kind, e.mode, e.uid, e.gid, e.size), (Kind::File, 0o4751, 7, 8, 5));
    let l = s.0.join("l");
    symlink("../t", &l).unwrap();
    let e = entry(&l, None).unwrap();
    assert_eq!((e.kind, e.link.as_slice(), e.size), (Kind::Symlink, &b"../t"[..], 0));
    let c = s.0.join("c");
    nix::sys::stat::mknod(&c, nix::sys::stat::SFlag::S_IFCHR, nix::sys::stat::Mode::from_bits_truncate(0o600), libc::makedev(4, 5)).unwrap();
    let e = entry(&c, None).unwrap();
    assert_eq!((e.kind, e.dev_major, e.dev_minor), (Kind::Char, 4, 5));
    assert!(!is_whiteout(&fs::symlink_metadata(&c).unwrap()));
    let w = s.0.join("w");
    nix::sys::stat::mknod(&w, nix::sys::stat::SFlag::S_IFCHR, nix::sys::stat::Mode::empty(), 0).unwrap();
    assert!(is_whiteout(&fs::symlink_metadata(&w).unwrap()));
    let sock = std::os::unix::net::UnixListener::bind(s.0.join("sock")).unwrap();
    assert!(entry(&s.0.join("sock"), None).is_none(), "sockets are no layer entry");
    drop(sock);
}

#[test]
fn epoch_clamps_mtime_only_downwards() {
    let s = Scratch::new("meta-epoch");
    let f = s.0.join("f");
    fs::write(&f, b"x").unwrap();
    let now = entry(&f, None).unwrap().mtime;
    assert_eq!(entry(&f, Some(1000)).unwrap().mtime, 1000);
    assert_eq!(entry(&f, Some(now + 1000)).unwrap().mtime, now);
}

#[test]
fn overlay_xattrs_never_reach_a_layer_and_xattrs_are_sorted() {
    let s = Scratch::new("meta-x");
    let f = s.0.join("f");
    fs::write(&f, b"x").unwrap();
    for (k, v) in [("user.b", "2"), ("trusted.overlay.opaque", "y"), ("user.a", "1")] {
        set_xattr(&f, k, v.as_bytes());
    }
    let all = read_xattrs(&f).unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(layer_xattrs(&all), vec![(b"user.a".to_vec(), b"1".to_vec()), (b"user.b".to_vec(), b"2".to_vec())]);
    assert_eq!(entry(&f, None).unwrap().xattrs, layer_xattrs(&all));
}
