//! Resolving container paths inside the rootfs on the host side, before pivot_root: symlinks in an
//! image are followed as the container would see them, so they can never point a mount outside it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// `root` joined with `path`, with every symlink resolved relative to `root` and `..` clamped at it
/// (kiln-confine's rule, the one the solver and the runner use too). Components that do not exist
/// yet are kept literally.
pub fn secure_join(root: &Path, path: &str) -> io::Result<PathBuf> {
    kiln_confine::resolve_in_root(root, path.as_bytes(), true)
}

/// Makes sure `target` (already resolved under `root`) exists as a directory or an empty file, so
/// something can be mounted on it. Returns what was created, relative to `root` and parents first, so
/// the runner can remove these stubs after the run and leave the rootfs as it found it.
pub fn ensure_mountpoint(root: &Path, target: &Path, dir: bool) -> io::Result<Vec<String>> {
    let rel = target.strip_prefix(root).map_err(|_| io::Error::other("mount target escapes the rootfs"))?;
    let mut created = Vec::new();
    let mut cur = root.to_path_buf();
    let parts: Vec<_> = rel.components().collect();
    for (i, part) in parts.iter().enumerate() {
        cur.push(part);
        let last = i + 1 == parts.len();
        if fs::symlink_metadata(&cur).is_ok() {
            continue;
        }
        if last && !dir {
            fs::OpenOptions::new().write(true).create_new(true).open(&cur)?;
        } else {
            fs::create_dir(&cur)?;
        }
        created.push(cur.strip_prefix(root).unwrap().to_string_lossy().into_owned());
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tempdir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kiln-ns-test-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn mountpoints_report_only_what_they_created() {
        let root = tempdir("stub");
        fs::create_dir_all(root.join("etc")).unwrap();
        let created = ensure_mountpoint(&root, &root.join("etc/hosts"), false).unwrap();
        assert_eq!(created, vec!["etc/hosts"]);
        assert!(root.join("etc/hosts").is_file());
        let created = ensure_mountpoint(&root, &root.join("a/b"), true).unwrap();
        assert_eq!(created, vec!["a", "a/b"]);
        assert!(ensure_mountpoint(&root, &root.join("a/b"), true).unwrap().is_empty());
        fs::remove_dir_all(&root).unwrap();
    }
}
