//! What one layer entry says, independent of whether it was read from a tree or from a tar.

/// The type of a layer entry, as tar knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Regular file (its data follows the header).
    File,
    /// Directory.
    Dir,
    /// Symbolic link (`link` is its target).
    Symlink,
    /// Hard link (`link` is the path of the first entry of the same inode).
    HardLink,
    /// Character device.
    Char,
    /// Block device.
    Block,
    /// Named pipe.
    Fifo,
}

/// One entry of a layer tar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative, `/`-separated, without leading `./` or `/` and without trailing `/`.
    pub path: Vec<u8>,
    /// Entry type.
    pub kind: Kind,
    /// Permission bits with setuid/setgid/sticky (`mode & 0o7777`).
    pub mode: u32,
    /// Numeric owner.
    pub uid: u64,
    /// Numeric group.
    pub gid: u64,
    /// Modification time, whole seconds since the epoch.
    pub mtime: i64,
    /// Data size; 0 for everything but regular files.
    pub size: u64,
    /// Symlink target or hard-link target; empty otherwise.
    pub link: Vec<u8>,
    /// Device major number (char/block only).
    pub dev_major: u32,
    /// Device minor number (char/block only).
    pub dev_minor: u32,
    /// Extended attributes, sorted by name so output is deterministic.
    pub xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Entry {
    /// An empty regular file owned by root with mode 0 and mtime 0: the form of whiteout markers,
    /// whose metadata nobody reads and which must not make layers differ.
    pub fn marker(path: Vec<u8>) -> Self {
        Entry {
            path,
            kind: Kind::File,
            mode: 0,
            uid: 0,
            gid: 0,
            mtime: 0,
            size: 0,
            link: Vec::new(),
            dev_major: 0,
            dev_minor: 0,
            xattrs: Vec::new(),
        }
    }
}
