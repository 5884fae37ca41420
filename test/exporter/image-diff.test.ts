// `kiln diff`'s change computation: from layer listings (B = A + layers) and from two real trees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { diffImages, formatChanges, layerChanges, treeChanges, type LayerEntry } from '../../exporter/image-diff.js';
import { storeImageFromTars, tarOf, withStore } from './image-fixture.js';

const f = (p: string): LayerEntry => ({ path: p, kind: 'file' });
const d = (p: string): LayerEntry => ({ path: p, kind: 'dir' });

const base: LayerEntry[] = [d('bin'), f('bin/sh'), d('etc'), f('etc/passwd'), f('etc/group'), d('var'), d('var/log'), f('var/log/a'), f('var/log/b')];

test('added, changed and deleted files, with their existing parent directories marked changed', () => {
  const layer: LayerEntry[] = [d('etc'), f('etc/passwd'), f('etc/.wh.group'), d('srv'), f('srv/app')];
  assert.equal(
    formatChanges(layerChanges([base], [layer])),
    'C /etc\nD /etc/group\nC /etc/passwd\nA /srv\nA /srv/app\n',
  );
});

test('whiteouts listed by the deleted path, a deleted directory as one line, an opaque directory', () => {
  const layer1: LayerEntry[] = [{ path: 'var/log', kind: 'whiteout' }];
  assert.deepEqual(layerChanges([base], [layer1]), [{ kind: 'C', path: '/var' }, { kind: 'D', path: '/var/log' }]);
  const opaque: LayerEntry[] = [{ path: 'var/log/.wh..wh..opq', kind: 'opaque' }, f('var/log/c')];
  assert.equal(formatChanges(layerChanges([base], [opaque])), 'C /var\nC /var/log\nD /var/log/a\nD /var/log/b\nA /var/log/c\n');
});

test('later layers override earlier ones: added then deleted is no change, deleted then re-added is changed', () => {
  const add = [f('tmpfile'), f('etc/new')];
  const del = [{ path: '.wh.tmpfile', kind: 'whiteout' as const }, { path: 'etc/passwd', kind: 'whiteout' as const }];
  const back = [f('etc/passwd')];
  assert.equal(formatChanges(layerChanges([base], [add, del, back])), 'C /etc\nA /etc/new\nC /etc/passwd\n');
});

test('no extra layers: no changes; whiteouts inside the base are applied before comparing', () => {
  assert.deepEqual(layerChanges([base], []), []);
  const base2 = [{ path: 'etc/.wh.group', kind: 'whiteout' as const }];
  assert.equal(formatChanges(layerChanges([base, base2], [[f('etc/group')]])), 'C /etc\nA /etc/group\n');
});

test('treeChanges compares two real trees by type, mode, link target and content', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-treediff-'));
  try {
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    for (const root of [a, b]) {
      await mkdir(path.join(root, 'etc'), { recursive: true });
      await mkdir(path.join(root, 'bin'));
      await writeFile(path.join(root, 'etc/same'), 'same');
      await writeFile(path.join(root, 'bin/tool'), 'v1');
    }
    await writeFile(path.join(b, 'bin/tool'), 'v2'); // same size, other content
    await writeFile(path.join(a, 'etc/gone'), 'x');
    await mkdir(path.join(a, 'old/deep'), { recursive: true });
    await writeFile(path.join(a, 'old/deep/f'), 'x');
    await symlink('same', path.join(a, 'etc/link'));
    await symlink('other', path.join(b, 'etc/link'));
    await mkdir(path.join(b, 'new'));
    await writeFile(path.join(b, 'new/f'), 'n');
    await writeFile(path.join(b, 'etc/mode'), 'm');
    await writeFile(path.join(a, 'etc/mode'), 'm');
    await chmod(path.join(b, 'etc/mode'), 0o600);
    assert.equal(
      formatChanges(await treeChanges(a, b)),
      ['C /bin', 'C /bin/tool', 'C /etc', 'D /etc/gone', 'C /etc/link', 'C /etc/mode', 'A /new', 'A /new/f', 'D /old', ''].join('\n'),
    );
    assert.deepEqual(await treeChanges(a, a), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('diffImages: B built on A is read from its extra layers; unrelated images are unpacked and compared', async () => {
  await withStore(async (store) => {
    const baseTar = await tarOf([
      { name: 'etc/', type: 'directory' }, { name: 'etc/passwd', body: 'root' }, { name: 'etc/group', body: 'g' },
      { name: 'bin/', type: 'directory' }, { name: 'bin/sh', body: 'sh' }, { name: 'bin/ls', type: 'symlink', linkname: 'sh' },
    ]);
    const topTar = await tarOf([
      { name: 'etc/', type: 'directory' }, { name: 'etc/.wh.group' }, { name: 'etc/passwd', body: 'root2' },
      { name: 'opt/', type: 'directory' }, { name: 'opt/tool', body: 't' },
    ]);
    await storeImageFromTars(store, 'kiln.local/a:1', [baseTar]);
    await storeImageFromTars(store, 'kiln.local/b:1', [baseTar, topTar], { gzip: false });
    const expected = 'C /etc\nD /etc/group\nC /etc/passwd\nA /opt\nA /opt/tool\n';
    assert.equal(formatChanges(await diffImages(store, 'kiln.local/a:1', 'kiln.local/b:1')), expected);
    // The same content as one squashed layer shares no layer with A: the tree comparison agrees.
    const squashed = await tarOf([
      { name: 'etc/', type: 'directory' }, { name: 'etc/passwd', body: 'root2' },
      { name: 'bin/', type: 'directory' }, { name: 'bin/sh', body: 'sh' }, { name: 'bin/ls', type: 'symlink', linkname: 'sh' },
      { name: 'opt/', type: 'directory' }, { name: 'opt/tool', body: 't' },
    ]);
    await storeImageFromTars(store, 'kiln.local/c:1', [squashed]);
    assert.equal(formatChanges(await diffImages(store, 'kiln.local/a:1', 'kiln.local/c:1')), expected);
    // Reversed, the layered pair is no longer "B on A": D and A swap.
    assert.equal(
      formatChanges(await diffImages(store, 'kiln.local/b:1', 'kiln.local/a:1')),
      'C /etc\nA /etc/group\nC /etc/passwd\nD /opt\n',
    );
  });
});
