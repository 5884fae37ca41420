# Two archives git cannot hold as written: a `../up` entry, a `.wh.` name (an ordinary file in an
# archive, not a whiteout) and a file written through a symlink to a directory inside the archive.
python3 - <<'PY'
import io, tarfile
def add(t, name, body=None, link=None, kind=tarfile.REGTYPE):
    i = tarfile.TarInfo(name); i.mtime = 1500000000; i.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    if link is not None:
        i.type, i.linkname = tarfile.SYMTYPE, link
    else:
        i.type = kind
    data = None if body is None else io.BytesIO(body)
    if body is not None: i.size = len(body)
    t.addfile(i, data)
for mode, name in (('w:bz2', 'a.tar.bz2'), ('w:xz', 'a.tar.xz')):
    with tarfile.open(name, mode, format=tarfile.GNU_FORMAT) as t:
        add(t, 'pkg/', kind=tarfile.DIRTYPE)
        add(t, 'pkg/bin', b'binary\n')
        add(t, 'pkg/.wh.kept', b'not a whiteout\n')
        add(t, '../up', b'clamped\n')
        add(t, 'alias', link='/pkg')
        add(t, 'alias/through', b'through\n')
PY
