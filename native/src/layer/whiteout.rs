//! Whiteout conventions: how deletions and opaque directories are spelled in OCI layers and in
//! overlayfs upper dirs.

/// Prefix of a tar entry that deletes its sibling `<name>`.
pub const PREFIX: &[u8] = b".wh.";
/// Base name of the tar entry that hides everything a lower layer had in its directory.
pub const OPAQUE: &[u8] = b".wh..wh..opq";
/// Prefix of aufs bookkeeping names (`.wh..wh.plnk`, `.wh..wh.aufs`), never real content.
const META_PREFIX: &[u8] = b".wh..wh.";
/// The xattr overlayfs sets on a directory that hides its lower layers.
pub const OVERLAY_OPAQUE_XATTR: &str = "trusted.overlay.opaque";
/// overlayfs' private xattrs: never copied into a layer, never applied from one.
pub const OVERLAY_XATTR_PREFIX: &[u8] = b"trusted.overlay.";

/// What a tar entry's base name means.
#[derive(Debug, PartialEq, Eq)]
pub enum Marker<'a> {
    /// A normal entry.
    None,
    /// `.wh.<name>`: `<name>` is deleted.
    Whiteout(&'a [u8]),
    /// `.wh..wh..opq`: the directory is opaque.
    Opaque,
    /// Other `.wh..wh.*` bookkeeping, skipped as Docker does.
    Meta,
}

/// Classifies a base name.
pub fn classify(base: &[u8]) -> Marker<'_> {
    if base == OPAQUE {
        Marker::Opaque
    } else if base.starts_with(META_PREFIX) {
        Marker::Meta
    } else if let Some(name) = base.strip_prefix(PREFIX) {
        Marker::Whiteout(name)
    } else {
        Marker::None
    }
}

/// The tar base name that deletes `name`.
pub fn whiteout_name(name: &[u8]) -> Vec<u8> {
    [PREFIX, name].concat()
}

/// Joins a parent path (possibly empty, for the root) and a base name.
pub fn join(parent: &[u8], name: &[u8]) -> Vec<u8> {
    if parent.is_empty() {
        name.to_vec()
    } else {
        [parent, b"/", name].concat()
    }
}

/// Whether an xattr belongs to overlayfs itself rather than to the file.
pub fn is_overlay_xattr(name: &[u8]) -> bool {
    name.starts_with(OVERLAY_XATTR_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_markers() {
        assert_eq!(classify(b".wh..wh..opq"), Marker::Opaque);
        assert_eq!(classify(b".wh.foo"), Marker::Whiteout(b"foo"));
        assert_eq!(classify(b".wh..wh.plnk"), Marker::Meta);
        assert_eq!(classify(b".whfoo"), Marker::None);
        assert_eq!(classify(b"foo.wh.bar"), Marker::None);
        assert_eq!(join(b"", b"a"), b"a");
        assert_eq!(join(b"a/b", b".wh.c"), b"a/b/.wh.c");
        assert_eq!(whiteout_name(b"x"), b".wh.x");
    }
}
