//! Resolving container paths inside the rootfs on the host side, before pivot_root: symlinks in an
//! image are followed as the container would see them, so they can never point a mount outside it.

use std::collections::VecDeque;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

const MAX_SYMLINKS: usize = 40;

/// `root` joined with `path`, with every symlink resolved relative to `root` and `..` clamped at it.
/// Components that do not exist yet are kept literally.
pub fn secure_join(root: &Path, path: &str) -> io::Result<PathBuf> {
    let mut todo: VecDeque<String> = split(path);
    let mut done: Vec<String> = Vec::new();
    let mut links = 0;
    while let Some(part) = todo.pop_front() {
        if part == ".." {
            done.pop();
            continue;
        }
        let candidate = root.join(done.join("/")).join(&part);
        match fs::symlink_metadata(&candidate) {
            Ok(meta) if meta.file_type().is_symlink() => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(io::Error::other(format!("too many symlinks resolving {path}")));
                }
                let target = fs::read_link(&candidate)?;
                let target = target.to_string_lossy();
                if target.starts_with('/') {
                    done.clear();
                }
                for (i, p) in split(&target).into_iter().enumerate() {
                    todo.insert(i, p);
                }
            }
            _ => done.push(part),
        }
    }
    Ok(root.join(done.join("/")))
}

fn split(path: &str) -> VecDeque<String> {
    Path::new(path)
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect()
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
    use std::os::unix::fs::symlink;

    fn tempdir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kiln-ns-test-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn absolute_and_dotdot_symlinks_stay_inside_the_root() {
        let root = tempdir("join");
        fs::create_dir_all(root.join("etc")).unwrap();
        fs::create_dir_all(root.join("real")).unwrap();
        symlink("/etc/passwd", root.join("real/abs")).unwrap();
        symlink("../../../../../../etc", root.join("real/up")).unwrap();
        symlink("real", root.join("alias")).unwrap();
        assert_eq!(secure_join(&root, "/real/abs").unwrap(), root.join("etc/passwd"));
        assert_eq!(secure_join(&root, "/real/up/hosts").unwrap(), root.join("etc/hosts"));
        assert_eq!(secure_join(&root, "/../../alias/x").unwrap(), root.join("real/x"));
        assert_eq!(secure_join(&root, "missing/deeper").unwrap(), root.join("missing/deeper"));
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn symlink_loops_are_an_error() {
        let root = tempdir("loop");
        symlink("b", root.join("a")).unwrap();
        symlink("a", root.join("b")).unwrap();
        assert!(secure_join(&root, "/a").is_err());
        fs::remove_dir_all(&root).unwrap();
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
