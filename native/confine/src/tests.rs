//! The confinement rule on real trees, each case answered by openat2 and by the walk alike.

use super::*;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiln-confine-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Both resolvers, which must agree.
fn both(root: &Path, path: &str, follow_last: bool) -> std::io::Result<PathBuf> {
    let kernel = resolve_in_root(root, path.as_bytes(), follow_last);
    let walked = resolve_in_root_by_walk(root, path.as_bytes(), follow_last);
    match (&kernel, &walked) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "openat2 and the walk disagree on {path}"),
        (Err(a), Err(b)) => assert_eq!(a.raw_os_error(), b.raw_os_error(), "{path}"),
        _ => panic!("openat2 {kernel:?} vs walk {walked:?} on {path}"),
    }
    kernel
}

#[test]
fn dotdot_chains_and_absolute_symlinks_stay_inside_the_root() {
    let root = tempdir("join");
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::create_dir_all(root.join("real/sub")).unwrap();
    fs::write(root.join("etc/passwd"), "x").unwrap();
    symlink("/etc/passwd", root.join("real/abs")).unwrap();
    symlink("../../../../../../etc", root.join("real/up")).unwrap();
    symlink("real", root.join("alias")).unwrap();
    symlink("/", root.join("real/sub/top")).unwrap();
    assert_eq!(both(&root, "/real/abs", true).unwrap(), root.join("etc/passwd"));
    assert_eq!(both(&root, "/real/abs", false).unwrap(), root.join("real/abs"));
    assert_eq!(both(&root, "/real/up/passwd", true).unwrap(), root.join("etc/passwd"));
    assert_eq!(both(&root, "/real/up/hosts", true).unwrap(), root.join("etc/hosts"));
    assert_eq!(both(&root, "/../../alias/sub", true).unwrap(), root.join("real/sub"));
    assert_eq!(both(&root, "../../../../etc/../../etc/passwd", true).unwrap(), root.join("etc/passwd"));
    assert_eq!(both(&root, "real/sub/../../etc", true).unwrap(), root.join("etc"));
    assert_eq!(both(&root, "alias/sub/top/etc", true).unwrap(), root.join("etc"));
    assert_eq!(both(&root, "/", true).unwrap(), root);
    assert_eq!(both(&root, "..", true).unwrap(), root);
    assert_eq!(both(&root, "missing/deeper", true).unwrap(), root.join("missing/deeper"));
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_missing_part_never_lets_a_later_symlink_escape() {
    let root = tempdir("missing");
    symlink("/etc", root.join("evil")).unwrap();
    // `missing/..` comes back to the root: `evil` is still a link to read inside it.
    assert_eq!(both(&root, "missing/../evil/passwd", true).unwrap(), root.join("etc/passwd"));
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_symlink_to_a_missing_target_resolves_to_where_it_would_be_created() {
    let root = tempdir("dangling");
    fs::create_dir_all(root.join("dir")).unwrap();
    symlink("/nowhere/file", root.join("abs")).unwrap();
    symlink("../../gone", root.join("dir/rel")).unwrap();
    assert_eq!(both(&root, "abs", true).unwrap(), root.join("nowhere/file"));
    assert_eq!(both(&root, "dir/rel", true).unwrap(), root.join("gone"));
    assert_eq!(both(&root, "dir/rel", false).unwrap(), root.join("dir/rel"));
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn symlink_loops_are_eloop() {
    let root = tempdir("loop");
    symlink("b", root.join("a")).unwrap();
    symlink("a", root.join("b")).unwrap();
    symlink("self/x", root.join("self")).unwrap();
    assert_eq!(both(&root, "/a", true).unwrap_err().raw_os_error(), Some(libc::ELOOP));
    assert_eq!(both(&root, "/self", true).unwrap_err().raw_os_error(), Some(libc::ELOOP));
    assert_eq!(both(&root, "/a", false).unwrap(), root.join("a"), "the last link is not read unless followed");
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn layers_take_the_topmost_entry_and_honour_whiteouts_and_opaque_dirs() {
    let base = tempdir("layers");
    let (upper, lower) = (base.join("upper"), base.join("lower"));
    for l in [&upper, &lower] {
        fs::create_dir_all(l.join("etc")).unwrap();
    }
    fs::create_dir_all(lower.join("opq")).unwrap();
    fs::create_dir_all(upper.join("opq")).unwrap();
    fs::write(lower.join("etc/passwd"), "lower").unwrap();
    fs::write(upper.join("etc/group"), "upper").unwrap();
    fs::write(lower.join("etc/shadow"), "hidden").unwrap();
    fs::write(lower.join("opq/old"), "hidden").unwrap();
    fs::create_dir_all(lower.join("data")).unwrap();
    fs::write(lower.join("data/real"), "inside").unwrap();
    symlink("../../../../data/real", upper.join("etc/climb")).unwrap();
    let c = std::ffi::CString::new(upper.join("etc/shadow").as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a NUL-terminated path; a 0/0 char device is overlay's whiteout.
    assert_eq!(unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR, 0) }, 0);
    let o = std::ffi::CString::new(upper.join("opq").as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: NUL-terminated path and name, a one-byte value.
    assert_eq!(unsafe { libc::setxattr(o.as_ptr(), c"trusted.overlay.opaque".as_ptr(), b"y".as_ptr().cast(), 1, 0) }, 0);
    let layers = [upper.clone(), lower.clone()];
    let r = |p: &str| resolve_in_layers(&layers, p.as_bytes(), true).unwrap();
    assert_eq!(r("/etc/passwd"), Some(lower.join("etc/passwd")));
    assert_eq!(r("/etc/group"), Some(upper.join("etc/group")));
    assert_eq!(r("/etc/shadow"), None);
    assert_eq!(r("/opq/old"), None);
    assert_eq!(r("/etc/climb"), Some(lower.join("data/real")));
    assert_eq!(r("/etc"), Some(upper.join("etc")));
    fs::remove_dir_all(&base).unwrap();
}

#[test]
fn cleans_like_docker() {
    let c = |p: &str| clean(p.as_bytes()).map(|v| v.into_iter().map(|x| String::from_utf8(x).unwrap()).collect::<Vec<_>>());
    assert_eq!(c("/etc/passwd").unwrap(), ["etc", "passwd"]);
    assert_eq!(c("./a//b/./c/").unwrap(), ["a", "b", "c"]);
    assert_eq!(c("a/../b").unwrap(), ["b"]);
    assert_eq!(c("./").unwrap(), Vec::<String>::new());
    assert!(c("../x").is_err());
    assert!(c("a/../../x").is_err());
    assert!(c("/../x").is_err());
    let clamped = |p: &str| clean_clamped(p.as_bytes()).into_iter().map(|x| String::from_utf8(x).unwrap()).collect::<Vec<_>>();
    assert_eq!(clamped("../x"), ["x"]);
    assert_eq!(clamped("a/../../../b/./c"), ["b", "c"]);
}

#[test]
fn nofollow_dirs_refuse_symlinked_parents_and_create_missing_ones() {
    let dir = tempdir("nofollow");
    fs::create_dir_all(dir.join("real/deep")).unwrap();
    symlink("real", dir.join("link")).unwrap();
    fs::write(dir.join("file"), b"x").unwrap();
    let root = NoFollowRoot::open(&dir).unwrap();
    let comps = |p: &str| clean(p.as_bytes()).unwrap();
    assert!(matches!(root.dir(&comps("link"), true), Err(DirError::Symlink(p)) if p == "link"));
    assert!(matches!(root.dir(&comps("link/deep"), true), Err(DirError::Symlink(p)) if p == "link"));
    assert!(matches!(root.dir(&comps("file/x"), true), Err(DirError::NotDir(p)) if p == "file"));
    assert!(root.dir(&comps("real/deep"), false).unwrap().is_some());
    assert!(root.dir(&comps("new/deep"), false).unwrap().is_none());
    assert!(root.dir(&comps("new/deep"), true).unwrap().is_some());
    assert!(dir.join("new/deep").is_dir());
    fs::remove_dir_all(&dir).unwrap();
}
