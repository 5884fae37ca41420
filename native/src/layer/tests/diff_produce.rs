//! `diff_to_layer` (diff + emit + produce) on trees made here: an overlay upper dir with a 0/0
//! whiteout and an opaque dir over a lower layer, and two full trees for the copy driver. The
//! layer's entries are read back with `list_layer` and applied again; the same input twice gives
//! the same bytes.

use super::{set_xattr, Scratch};
use crate::layer::apply::{apply_layer_file, Driver};
use crate::layer::compress::Compression;
use crate::layer::list::list_layer;
use crate::layer::produce::{compress_tar, diff_to_layer, DiffRequest};
use crate::layer::progress::Progress;
use std::fs;
use std::path::{Path, PathBuf};

fn put(root: &Path, rel: &str, data: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, data).unwrap();
}

fn diff(s: &Scratch, out: &str, upper: &Path, lowers: &[PathBuf], driver: Driver, c: Compression) -> (PathBuf, String) {
    let output = s.0.join(out);
    let req = DiffRequest { upper, lowers, driver, output: &output, compression: c, source_date_epoch: Some(1_700_000_000) };
    let info = diff_to_layer(&req, Progress::new(None)).unwrap_or_else(|e| panic!("{}", e.render("diff")));
    (output, info.diff_id)
}

fn listed(p: &Path) -> Vec<(String, &'static str)> {
    list_layer(p).unwrap().into_iter().map(|l| (l.path, l.kind.name())).collect()
}

fn pairs(v: &[(&str, &'static str)]) -> Vec<(String, &'static str)> {
    v.iter().map(|(p, k)| (p.to_string(), *k)).collect()
}

/// A lower layer with `gone`, `opq/old`, `keep/same`; an upper dir deleting `gone`, making
/// `opq` opaque with one new file, adding `new`.
fn overlay_trees(s: &Scratch) -> (PathBuf, PathBuf) {
    let lower = s.dir("lower");
    put(&lower, "gone", "g");
    put(&lower, "opq/old", "o");
    put(&lower, "keep/same", "k");
    let upper = s.dir("upper");
    nix::sys::stat::mknod(&upper.join("gone"), nix::sys::stat::SFlag::S_IFCHR, nix::sys::stat::Mode::empty(), 0).unwrap();
    put(&upper, "opq/fresh", "f");
    set_xattr(&upper.join("opq"), "trusted.overlay.opaque", b"y");
    put(&upper, "new", "n");
    (upper, lower)
}

#[test]
fn overlay_upper_becomes_whiteout_opaque_and_files() {
    let s = Scratch::new("diff-ov");
    let (upper, lower) = overlay_trees(&s);
    let lowers = [lower.clone()];
    let (layer, _) = diff(&s, "a.tar", &upper, &lowers, Driver::Overlay, Compression::None);
    assert_eq!(
        listed(&layer),
        // As BuildKit's overlay differ: an opaque dir lists a whiteout per lower name it hides.
        pairs(&[("gone", "whiteout"), ("new", "file"), ("opq", "dir"), ("opq/fresh", "file"), ("opq/old", "whiteout")])
    );
    // Applied over a copy of the lower tree, the layer gives the upper's view.
    let tree = s.dir("tree");
    std::process::Command::new("cp").args(["-a", "--"]).arg(lower.join(".")).arg(&tree).status().unwrap();
    apply_layer_file(&layer, &tree, Driver::Copy, Progress::new(None)).unwrap();
    assert_eq!(fs::read(tree.join("opq/fresh")).unwrap(), b"f");
    assert!(!tree.join("gone").exists());
    assert!(!tree.join("opq/old").exists());
}

#[test]
fn same_input_twice_gives_the_same_bytes_in_every_compression() {
    let s = Scratch::new("diff-det");
    let (upper, lower) = overlay_trees(&s);
    let lowers = [lower];
    for (i, c) in [Compression::None, Compression::Gzip(6), Compression::Zstd(3)].into_iter().enumerate() {
        let (a, ida) = diff(&s, &format!("{i}-a"), &upper, &lowers, Driver::Overlay, c);
        let (b, idb) = diff(&s, &format!("{i}-b"), &upper, &lowers, Driver::Overlay, c);
        assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap(), "compression {i}");
        assert_eq!(ida, idb);
    }
}

#[test]
fn copy_driver_diffs_two_full_trees() {
    let s = Scratch::new("diff-copy");
    let old = s.dir("old");
    put(&old, "a", "old a");
    put(&old, "b/x", "x");
    put(&old, "c", "c");
    put(&old, "same/s", "s");
    let new = s.dir("new");
    // Copy the parent with its times, then change it, as a copy-driver snapshot would.
    std::process::Command::new("cp").args(["-a", "--"]).arg(old.join(".")).arg(&new).status().unwrap();
    put(&new, "a", "new a, longer");
    fs::remove_file(new.join("b/x")).unwrap();
    put(&new, "b/y", "y");
    fs::remove_file(new.join("c")).unwrap();
    put(&new, "d/e", "e");
    let lowers = [old.clone()];
    let (layer, id1) = diff(&s, "l.tar", &new, &lowers, Driver::Copy, Compression::None);
    assert_eq!(
        listed(&layer),
        pairs(&[("a", "file"), ("b", "dir"), ("b/x", "whiteout"), ("b/y", "file"), ("c", "whiteout"), ("d", "dir"), ("d/e", "file")])
    );
    let (_, id2) = diff(&s, "l2.tar", &new, &lowers, Driver::Copy, Compression::None);
    assert_eq!(id1, id2);
    // Scratch parent: everything is new, nothing is a whiteout.
    let (full, _) = diff(&s, "full.tar", &new, &[], Driver::Copy, Compression::None);
    assert!(listed(&full).iter().all(|(_, k)| *k != "whiteout"));
    assert_eq!(listed(&full).len(), 7);
}

#[test]
fn compress_tar_keeps_the_diff_id_and_refuses_a_truncated_tar() {
    let s = Scratch::new("compress");
    let src = super::fixture("whiteouts.tar");
    let out = s.0.join("w.tar.gz");
    let info = compress_tar(&src, &out, Compression::Gzip(6), Progress::new(None)).unwrap();
    use sha2::Digest;
    assert_eq!(info.diff_id, format!("sha256:{}", hex::encode(sha2::Sha256::digest(fs::read(&src).unwrap()))));
    assert_eq!(info.entries, 6);
    assert_eq!(listed(&out).len(), 6);
    let e = compress_tar(&super::fixture("truncated.tar"), &s.0.join("t.gz"), Compression::Gzip(6), Progress::new(None))
        .expect_err("truncated");
    assert!(e.message.contains("reading tar") || e.corrupt, "{}", e.render("layer"));
}
