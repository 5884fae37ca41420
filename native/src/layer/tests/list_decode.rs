//! `list_layer` and the decoder on the fixtures: kinds, markers, sizes, compressions, and
//! errors for what is not a layer.

use super::{fixture, Scratch};
use crate::layer::decode::{archive_format, open_layer, open_tar, Accept, Format};
use crate::layer::list::{list_layer, ListedKind};
use crate::layer::progress::Progress;
use std::fs;
use std::io::{Read, Write};

fn listing(name: &str) -> Vec<(String, &'static str, u64)> {
    list_layer(&fixture(name)).unwrap().into_iter().map(|l| (l.path, l.kind.name(), l.size)).collect()
}

#[test]
fn lists_markers_as_the_paths_they_act_on() {
    assert_eq!(
        listing("whiteouts.tar"),
        [
            ("gone".into(), "dir", 0),
            ("gone/old".into(), "whiteout", 0),
            ("opq".into(), "dir", 0),
            ("opq".into(), "opaque", 0),
            ("opq/new".into(), "file", 4),
            ("top".into(), "whiteout", 0),
        ]
    );
}

#[test]
fn lists_every_kind() {
    assert_eq!(listing("devices.tar"), [("null".into(), "char", 0), ("sda".into(), "block", 0), ("pipe".into(), "fifo", 0)]);
    assert_eq!(listing("hardlinks.tar"), [("a".into(), "file", 7), ("b".into(), "hardlink", 0), ("c".into(), "hardlink", 0)]);
    let long = listing("longname-pax.tar");
    assert_eq!(long.len(), 3);
    assert_eq!((long[1].0.len(), long[1].1), (155, "file"));
    assert_eq!(long[2].1, "symlink");
    assert_eq!(listing("absolute.tar"), [("etc/kiln-abs".into(), "file", 4)], "leading / dropped");
    assert_eq!(listing("duplicates.tar").len(), 5, "duplicates are listed as they come");
}

#[test]
fn sparse_lists_its_real_size() {
    assert_eq!(listing("sparse-gnu.tar"), [("sparse".into(), "file", 1 << 20)]);
}

#[test]
fn truncated_listing_fails_as_a_whole() {
    let e = list_layer(&fixture("truncated.tar")).expect_err("truncated");
    assert!(e.entry.is_none() && e.message.starts_with("reading tar"), "{}", e.render("layer"));
}

#[test]
fn gzip_and_zstd_decode_to_the_same_stream_and_diff_id() {
    let s = Scratch::new("decode");
    let raw = fs::read(fixture("xattrs.tar")).unwrap();
    let gz = s.0.join("x.tar.gz");
    let mut enc = flate2::write::GzEncoder::new(fs::File::create(&gz).unwrap(), flate2::Compression::default());
    enc.write_all(&raw).unwrap();
    enc.finish().unwrap();
    let zs = s.0.join("x.tar.zst");
    fs::write(&zs, zstd::encode_all(&raw[..], 3).unwrap()).unwrap();
    let mut ids = Vec::new();
    for p in [fixture("xattrs.tar"), gz.clone(), zs.clone()] {
        let mut r = open_layer(&p, Progress::new(None)).unwrap();
        let mut head = vec![0; 512];
        r.read_exact(&mut head).unwrap();
        assert_eq!(head, raw[..512]);
        ids.push(r.finish().unwrap());
    }
    assert!(ids.iter().all(|i| i == &ids[0]) && ids[0].1 == raw.len() as u64, "{ids:?}");
    assert_eq!(list_layer(&zs).unwrap().len(), 2);
    assert_eq!(archive_format(&gz).unwrap(), Some(Format::Gzip));
    assert_eq!(archive_format(&fixture("devices.tar")).unwrap(), Some(Format::Plain));
}

#[test]
fn xz_and_bzip2_only_as_archives_and_non_tars_are_not_archives() {
    let s = Scratch::new("decode2");
    let bz = s.0.join("x.tar.bz2");
    let mut enc = bzip2::write::BzEncoder::new(fs::File::create(&bz).unwrap(), bzip2::Compression::default());
    enc.write_all(&fs::read(fixture("hardlinks.tar")).unwrap()).unwrap();
    enc.finish().unwrap();
    let e = open_tar(&bz, Progress::new(None), Accept::Layer).err().expect("bzip2 layer refused");
    assert!(e.to_string().contains("recompress as gzip or zstd"), "{e}");
    assert_eq!(open_tar(&bz, Progress::new(None), Accept::Archive).unwrap().1, Format::Bzip2);
    let text = s.0.join("notes.txt");
    fs::write(&text, "just text, not a tar\n".repeat(40)).unwrap();
    assert_eq!(archive_format(&text).unwrap(), None);
    let badgz = s.0.join("bad.gz");
    fs::write(&badgz, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff]).unwrap();
    assert_eq!(archive_format(&badgz).unwrap(), None, "a corrupt stream is copied, not extracted");
    assert_eq!(ListedKind::Opaque.name(), "opaque");
}
