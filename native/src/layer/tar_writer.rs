//! Writes tar headers ourselves, in the ustar+PAX form Go's archive/tar (Docker, BuildKit) emits,
//! so exactly the fields we choose reach the layer: mtime only, never atime/ctime, no user names.

use super::entries::{Entry, Kind};
use std::io::{self, Read, Write};

const BLOCK: usize = 512;
const NAME_LEN: usize = 100;

/// Streams entries into a tar, padding data and closing it with two zero blocks.
pub struct TarWriter<W: Write> {
    out: W,
    entries: u64,
}

impl<W: Write> TarWriter<W> {
    /// A writer over `out`.
    pub fn new(out: W) -> Self {
        TarWriter { out, entries: 0 }
    }

    /// Writes one entry; `data` must yield exactly `entry.size` bytes for regular files.
    pub fn append(&mut self, entry: &Entry, data: Option<&mut dyn Read>) -> io::Result<()> {
        self.out.write_all(&header_blocks(entry))?;
        if entry.kind == Kind::File && entry.size > 0 {
            let data = data.ok_or_else(|| io::Error::other("regular file without data"))?;
            let copied = io::copy(&mut data.take(entry.size), &mut self.out)?;
            if copied != entry.size {
                return Err(io::Error::other(format!(
                    "file shrank while being read ({copied} of {} bytes)",
                    entry.size
                )));
            }
            let mut probe = [0u8; 1];
            if data.read(&mut probe)? != 0 {
                return Err(io::Error::other("file grew while being read"));
            }
            self.out.write_all(&[0u8; BLOCK][..padding(entry.size)])?;
        }
        self.entries += 1;
        Ok(())
    }

    /// Entries written so far (PAX headers not counted).
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// Writes the end-of-archive marker and gives back the sink.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(&[0u8; 2 * BLOCK])?;
        Ok(self.out)
    }
}

fn padding(size: u64) -> usize {
    (BLOCK - (size % BLOCK as u64) as usize) % BLOCK
}

/// The header block(s) of an entry: a PAX extended header first when a field does not fit ustar.
pub fn header_blocks(entry: &Entry) -> Vec<u8> {
    let mut name = entry.path.clone();
    if entry.kind == Kind::Dir {
        name.push(b'/');
    }
    let mut pax: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    if name.len() > NAME_LEN || !name.is_ascii() {
        pax.push((b"path".to_vec(), name.clone()));
    }
    if entry.link.len() > NAME_LEN || !entry.link.is_ascii() {
        pax.push((b"linkpath".to_vec(), entry.link.clone()));
    }
    let octal_fits = |digits: u32, v: u64| v < 1u64 << (3 * digits);
    if !octal_fits(7, entry.uid) {
        pax.push((b"uid".to_vec(), entry.uid.to_string().into_bytes()));
    }
    if !octal_fits(7, entry.gid) {
        pax.push((b"gid".to_vec(), entry.gid.to_string().into_bytes()));
    }
    if !octal_fits(11, entry.size) {
        pax.push((b"size".to_vec(), entry.size.to_string().into_bytes()));
    }
    if entry.mtime < 0 || !octal_fits(11, entry.mtime as u64) {
        pax.push((b"mtime".to_vec(), entry.mtime.to_string().into_bytes()));
    }
    for (k, v) in &entry.xattrs {
        pax.push(([b"SCHILY.xattr.", k.as_slice()].concat(), v.clone()));
    }
    let mut out = Vec::with_capacity(BLOCK * 3);
    if !pax.is_empty() {
        pax.sort();
        let records: Vec<u8> = pax.iter().flat_map(|(k, v)| pax_record(k, v)).collect();
        out.extend_from_slice(&raw_header(&pax_header_name(&name), b'x', records.len() as u64));
        out.extend_from_slice(&records);
        out.resize(out.len() + padding(records.len() as u64), 0);
    }
    out.extend_from_slice(&ustar_header(entry, &name));
    out
}

/// One `"<len> <key>=<value>\n"` record, where len counts the whole record including itself.
fn pax_record(key: &[u8], value: &[u8]) -> Vec<u8> {
    let body = key.len() + value.len() + 3;
    let mut len = body + body.to_string().len();
    if len.to_string().len() + body != len {
        len = body + len.to_string().len();
    }
    [len.to_string().as_bytes(), b" ", key, b"=", value, b"\n"].concat()
}

/// Go's choice: `<dir>/PaxHeaders.0/<base>`, ASCII only, cut to 100 bytes.
fn pax_header_name(name: &[u8]) -> Vec<u8> {
    let trimmed = name.strip_suffix(b"/").unwrap_or(name);
    let (dir, base) = match trimmed.iter().rposition(|&b| b == b'/') {
        Some(i) => (&trimmed[..=i], &trimmed[i + 1..]),
        None => (&b""[..], trimmed),
    };
    let mut full: Vec<u8> = [dir, b"PaxHeaders.0/", base].concat();
    full.retain(|b| b.is_ascii() && *b != 0);
    full.truncate(NAME_LEN);
    while full.last() == Some(&b'/') {
        full.pop();
    }
    full
}

fn raw_header(name: &[u8], typeflag: u8, size: u64) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    put_str(&mut h[0..100], name);
    put_octal(&mut h[100..108], 0);
    put_octal(&mut h[108..116], 0);
    put_octal(&mut h[116..124], 0);
    put_octal(&mut h[124..136], size);
    put_octal(&mut h[136..148], 0);
    h[156] = typeflag;
    finish_ustar(&mut h);
    h
}

fn ustar_header(entry: &Entry, name: &[u8]) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    put_str(&mut h[0..100], &ascii_prefix(name));
    put_octal(&mut h[100..108], u64::from(entry.mode & 0o7777));
    put_octal(&mut h[108..116], entry.uid);
    put_octal(&mut h[116..124], entry.gid);
    put_octal(&mut h[124..136], entry.size);
    put_octal(&mut h[136..148], u64::try_from(entry.mtime).unwrap_or(0));
    h[156] = match entry.kind {
        Kind::File => b'0',
        Kind::HardLink => b'1',
        Kind::Symlink => b'2',
        Kind::Char => b'3',
        Kind::Block => b'4',
        Kind::Dir => b'5',
        Kind::Fifo => b'6',
    };
    put_str(&mut h[157..257], &ascii_prefix(&entry.link));
    put_octal(&mut h[329..337], u64::from(entry.dev_major));
    put_octal(&mut h[337..345], u64::from(entry.dev_minor));
    finish_ustar(&mut h);
    h
}

/// What a ustar string field holds when the real value lives in a PAX record.
fn ascii_prefix(s: &[u8]) -> Vec<u8> {
    let mut v: Vec<u8> = s.iter().copied().filter(|b| b.is_ascii() && *b != 0).collect();
    v.truncate(NAME_LEN);
    v
}

fn put_str(field: &mut [u8], s: &[u8]) {
    let n = s.len().min(field.len());
    field[..n].copy_from_slice(&s[..n]);
}

/// Zero-padded octal with a NUL terminator; values too large (carried by PAX) become 0.
fn put_octal(field: &mut [u8], v: u64) {
    let digits = field.len() - 1;
    let v = if v < 1u64 << (3 * digits as u32) { v } else { 0 };
    let s = format!("{v:0digits$o}");
    field[..digits].copy_from_slice(s.as_bytes());
    field[digits] = 0;
}

fn finish_ustar(h: &mut [u8; BLOCK]) {
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    let s = format!("{sum:06o}");
    h[148..154].copy_from_slice(s.as_bytes());
    h[154] = 0;
    h[155] = b' ';
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> Entry {
        Entry { mode: 0o644, uid: 1000, gid: 1000, mtime: 1_700_000_000, ..Entry::marker(path.as_bytes().to_vec()) }
    }

    #[test]
    fn pax_record_length_counts_itself() {
        assert_eq!(pax_record(b"path", b"a"), b"9 path=a\n");
        // 9 bytes plus one digit would be 10, which takes two digits: the record must say 11.
        assert_eq!(pax_record(b"path", b"aa"), b"11 path=aa\n");
        let long = vec![b'x'; 95];
        let r = pax_record(b"path", &long);
        assert_eq!(r.len(), 105);
        assert!(r.starts_with(b"105 path="));
    }

    #[test]
    fn short_ascii_entry_is_plain_ustar() {
        let h = header_blocks(&file("etc/hosts"));
        assert_eq!(h.len(), 512);
        assert_eq!(&h[0..10], b"etc/hosts\0");
        assert_eq!(&h[100..108], b"0000644\0");
        assert_eq!(&h[108..116], b"0001750\0");
        assert_eq!(&h[136..148], b"14524770400\0");
        assert_eq!(h[156], b'0');
        assert_eq!(&h[257..265], b"ustar\000");
        assert!(h[265..345].iter().take(64).all(|&b| b == 0), "uname/gname must stay empty");
        // The checksum is the sum of the header with the checksum field read as spaces.
        let mut copy = h.clone();
        copy[148..156].fill(b' ');
        let sum: u32 = copy.iter().map(|&b| u32::from(b)).sum();
        assert_eq!(std::str::from_utf8(&h[148..154]).unwrap(), format!("{sum:06o}"));
    }

    #[test]
    fn long_and_non_ascii_names_and_big_ids_go_to_pax() {
        let long = format!("d/{}", "n".repeat(120));
        let mut e = file(&long);
        e.uid = 5_000_000;
        let h = header_blocks(&e);
        assert_eq!(h[156], b'x');
        assert!(h.starts_with(b"d/PaxHeaders.0/nnn"));
        let body = String::from_utf8_lossy(&h[512..1024]);
        assert!(body.contains(&format!(" path={long}\n")));
        assert!(body.contains(" uid=5000000\n"));
        let main = &h[1024..1536];
        assert_eq!(&main[108..116], b"0000000\0", "a uid carried by PAX is 0 in ustar");
        let h = header_blocks(&file("caf\u{e9}"));
        assert!(String::from_utf8_lossy(&h[512..1024]).contains(" path=caf\u{e9}\n"));
        assert_eq!(&h[1024..1028], b"caf\0");
    }

    #[test]
    fn xattrs_are_sorted_schily_records() {
        let mut e = file("bin/ping");
        e.xattrs = vec![(b"security.capability".to_vec(), vec![1, 0, 0, 2]), (b"user.a".to_vec(), b"b".to_vec())];
        let h = header_blocks(&e);
        let body = &h[512..1024];
        let s = String::from_utf8_lossy(body);
        assert!(s.contains(" SCHILY.xattr.security.capability="));
        assert!(s.find("security.capability").unwrap() < s.find("SCHILY.xattr.user.a=b\n").unwrap());
        assert!(body.windows(4).any(|w| w == [1, 0, 0, 2]), "binary values are kept raw");
    }

    #[test]
    fn dirs_get_a_trailing_slash_and_data_is_padded() {
        let mut d = file("usr/lib");
        d.kind = Kind::Dir;
        assert_eq!(&header_blocks(&d)[0..8], b"usr/lib/");
        let mut w = TarWriter::new(Vec::new());
        let mut f = file("a");
        f.size = 3;
        w.append(&f, Some(&mut &b"abc"[..])).unwrap();
        let out = w.finish().unwrap();
        assert_eq!(out.len(), 512 + 512 + 1024);
        assert_eq!(&out[512..516], b"abc\0");
        let mut w = TarWriter::new(Vec::new());
        assert!(w.append(&f, Some(&mut &b"ab"[..])).is_err(), "short data must fail");
        assert!(TarWriter::new(Vec::new()).append(&f, Some(&mut &b"abcd"[..])).is_err(), "long data must fail");
    }
}
