//! The differ's rules on real trees: each step runs a shell script in a real overlay mount over
//! the layers before it (so whiteouts and opaque marks are the kernel's), then its upper dir is
//! diffed against those layers and the tar's entries are compared exactly.

use super::{diff_overlay, diff_trees};
use crate::layer::emit::Emitter;
use crate::layer::meta::read_xattrs;
use crate::mount::{mount_overlay, unmount, Overlay};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kiln-diff-{}-{}", name, std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

fn sh(dir: &Path, script: &str) {
    let out = Command::new("sh").arg("-ec").arg(script).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A stack of layer dirs, built bottom up; `layers()` is top-most first, as overlay wants them.
struct Stack {
    base: PathBuf,
    bottom_up: Vec<PathBuf>,
    steps: usize,
}

impl Stack {
    /// A bottom layer made by `script` in a plain dir, with every time at a whole second, as a
    /// layer unpacked from a tar has them; None (the test is skipped) when overlay cannot mount.
    fn new(name: &str, script: &str) -> Option<Self> {
        if !is_root() {
            eprintln!("skipping: overlay mounts need root");
            return None;
        }
        let base = scratch(name);
        let l0 = base.join("l0");
        fs::create_dir_all(&l0).unwrap();
        sh(&l0, script);
        sh(&l0, "find . -exec touch -h -d @1600000000 {} +");
        Some(Stack { base, bottom_up: vec![l0], steps: 0 })
    }

    fn layers(&self) -> Vec<PathBuf> {
        self.bottom_up.iter().rev().cloned().collect()
    }

    /// Runs `script` in an overlay of the stack and returns the new upper dir (not yet pushed).
    fn step(&mut self, script: &str) -> PathBuf {
        self.steps += 1;
        let n = self.steps;
        let [upper, work, merged] = ["l", "w", "m"].map(|d| self.base.join(format!("{d}{n}")));
        for d in [&upper, &work, &merged] {
            fs::create_dir_all(d).unwrap();
        }
        let o = Overlay { lowers: self.layers(), upper: Some(upper.clone()), work: Some(work), target: merged.clone() };
        mount_overlay(&o).unwrap();
        let run = Command::new("sh").arg("-ec").arg(script).current_dir(&merged).output();
        unmount(&merged, false).unwrap();
        let out = run.unwrap();
        assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
        upper
    }

    /// The entries of the layer of `upper` over the whole stack.
    fn diff(&self, upper: &Path) -> Vec<String> {
        let mut em = Emitter::new(Vec::new(), None);
        diff_overlay(upper, &self.layers(), &mut em).unwrap();
        listing(em.finish().unwrap().0)
    }

    fn push(&mut self, upper: PathBuf) {
        self.bottom_up.push(upper);
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.base);
    }
}

/// Tar paths (directories with a trailing `/`), hard links as `name => target`.
fn listing(tar_bytes: Vec<u8>) -> Vec<String> {
    let mut archive = tar::Archive::new(&tar_bytes[..]);
    let mut out = Vec::new();
    for e in archive.entries().unwrap() {
        let e = e.unwrap();
        let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
        match e.header().entry_type() {
            tar::EntryType::Link => {
                out.push(format!("{name} => {}", String::from_utf8_lossy(&e.link_name_bytes().unwrap())))
            }
            _ => out.push(name),
        }
    }
    out
}

fn opaque(dir: &Path) -> bool {
    read_xattrs(dir).unwrap().iter().any(|(k, v)| k == b"trusted.overlay.opaque" && v == b"y")
}

const BASE: &str = "mkdir -p etc tmp usr/sbin/sub bin && echo root > etc/passwd && echo x > usr/sbin/a \
                    && echo y > usr/sbin/b && echo z > usr/sbin/sub/c && echo tool > bin/tool";

#[test]
fn a_step_that_changes_nothing_but_times_gives_an_empty_layer() {
    let Some(mut stack) = Stack::new("empty", BASE) else { return };
    // A mount-point stub made and removed, a temp file, dir times, a file rewritten identically.
    let upper = stack.step(
        "touch etc/hosts && rm etc/hosts && touch tmp/x && rm tmp/x && touch etc usr/sbin \
         && echo root > etc/passwd && touch -d @1600000000 etc/passwd",
    );
    assert!(upper.join("etc/passwd").exists(), "the rewrite was copied up");
    assert_eq!(stack.diff(&upper), Vec::<String>::new());
}

#[test]
fn a_file_is_unchanged_only_with_same_metadata_and_whole_second_times_compare_content() {
    let Some(mut stack) = Stack::new("content", "for f in same other nanos mode; do echo aaaa > $f; done") else { return };
    let upper = stack.step(
        "echo aaaa > same && echo bbbb > other && echo aaaa > nanos && chmod 600 mode \
         && touch -d @1600000000 same other mode && touch -d @1600000000.5 nanos",
    );
    assert_eq!(stack.diff(&upper), ["mode", "nanos", "other"]);
}

#[test]
fn a_new_link_to_a_lower_file_is_a_plain_file_and_links_within_the_layer_are_tar_links() {
    let Some(mut stack) = Stack::new("links", BASE) else { return };
    let upper = stack.step("ln bin/tool bin/newlink && echo d > bin/d && ln bin/d bin/e");
    assert!(upper.join("bin/tool").exists(), "linking copied the lower file up");
    assert_eq!(stack.diff(&upper), ["bin/", "bin/d", "bin/e => bin/d", "bin/newlink"]);
}

#[test]
fn a_recreated_dir_gets_a_whiteout_for_each_name_it_lost_and_no_opaque_marker() {
    let Some(mut stack) = Stack::new("recreated", BASE) else { return };
    // `a` comes back identical, so it is neither written nor deleted.
    let upper = stack.step(
        "rm -rf usr/sbin && mkdir usr/sbin && touch usr/sbin/new && echo x > usr/sbin/a \
         && touch -d @1600000000 usr/sbin/a",
    );
    assert!(opaque(&upper.join("usr/sbin")), "the kernel marked the recreated dir opaque");
    assert_eq!(stack.diff(&upper), ["usr/", "usr/sbin/", "usr/sbin/.wh.b", "usr/sbin/new", "usr/sbin/.wh.sub"]);
    // Emptying a dir is plain deletions.
    let Some(mut emptied) = Stack::new("emptied", BASE) else { return };
    let upper = emptied.step("rm -rf usr/sbin/*");
    assert!(!opaque(&upper.join("usr/sbin")));
    assert_eq!(emptied.diff(&upper), ["usr/", "usr/sbin/", "usr/sbin/.wh.a", "usr/sbin/.wh.b", "usr/sbin/.wh.sub"]);
}

#[test]
fn a_dir_with_nothing_below_gets_no_marker_even_when_the_kernel_marked_it_opaque() {
    let Some(mut stack) = Stack::new("renamed", BASE) else { return };
    let upper = stack.step("mkdir n && touch n/a && mv n n2 && mkdir etc/new && touch etc/new/f");
    assert!(opaque(&upper.join("n2")), "the kernel marks a renamed dir opaque");
    assert_eq!(stack.diff(&upper), ["etc/", "etc/new/", "etc/new/f", "n2/", "n2/a"]);
}

#[test]
fn lookups_see_the_whole_stack_as_overlay_merges_it() {
    let bottom = "mkdir d e && echo x > d/x && echo y > d/y && echo z > e/z";
    let Some(mut stack) = Stack::new("stack", bottom) else { return };
    let l1 = stack.step("rm d/x && rm -rf e && mkdir e && echo w > e/w");
    stack.push(l1);
    // d/x and e/z are hidden below (a whiteout, an opaque dir), so making them again, identical
    // to the bottom layer's, adds them; d/y lives two layers down and e/w one, so deleting them
    // needs whiteouts.
    let upper = stack.step("echo x > d/x && echo z > e/z && touch -d @1600000000 d/x e/z && rm d/y e/w");
    assert_eq!(stack.diff(&upper), ["d/", "d/x", "d/.wh.y", "e/", "e/.wh.w", "e/z"]);
    // Recreating d deletes only the names the stack still shows there.
    let upper = stack.step("rm -rf d && mkdir d && touch d/new");
    assert_eq!(stack.diff(&upper), ["d/", "d/new", "d/.wh.y"]);
    // A deletion of a name a higher layer already deleted is no change.
    let upper = stack.base.join("hand-made");
    fs::create_dir_all(upper.join("d")).unwrap();
    sh(&upper, "mknod d/x c 0 0 && touch -d @1600000000 d");
    assert_eq!(stack.diff(&upper), Vec::<String>::new());
}

#[test]
fn a_whiteout_of_a_name_no_layer_has_is_no_change() {
    let Some(stack) = Stack::new("ghost", BASE) else { return };
    let upper = stack.base.join("hand-made");
    fs::create_dir_all(upper.join("etc")).unwrap();
    sh(&upper, "mknod ghost c 0 0 && mknod etc/passwd c 0 0 && mknod etc/never c 0 0");
    assert_eq!(stack.diff(&upper), ["etc/", "etc/.wh.passwd"]);
    // Without parents nothing can be deleted, and everything else is new.
    let mut em = Emitter::new(Vec::new(), None);
    diff_overlay(&upper, &[], &mut em).unwrap();
    assert_eq!(listing(em.finish().unwrap().0), ["etc/"]);
}

#[test]
fn the_copy_driver_follows_the_same_rules_on_full_trees() {
    let base = scratch("copy");
    let parent = base.join("parent");
    fs::create_dir_all(&parent).unwrap();
    sh(&parent, BASE);
    sh(&parent, "find . -exec touch -h -d @1600000000 {} +");
    let next = base.join("next");
    sh(&base, "cp -a parent next");
    sh(
        &next,
        "touch etc usr && echo root > etc/passwd && touch -d @1600000000 etc/passwd && ln bin/tool bin/newlink \
         && rm -rf usr/sbin && mkdir usr/sbin && touch usr/sbin/new && touch tmp/x && rm tmp/x",
    );
    let mut em = Emitter::new(Vec::new(), None);
    diff_trees(&next, Some(&parent), &mut em).unwrap();
    assert_eq!(
        listing(em.finish().unwrap().0),
        [
            "bin/", "bin/newlink", "usr/", "usr/sbin/", "usr/sbin/.wh.a", "usr/sbin/.wh.b", "usr/sbin/new",
            "usr/sbin/.wh.sub"
        ]
    );
    fs::remove_dir_all(&base).unwrap();
}
