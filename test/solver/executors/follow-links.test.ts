// followLinks (solver/executors/follow-links.ts) over hand-made scans, case by case against
// fsutil's FollowLinks: links named, met on the way, matched by wildcards, chained, cyclic,
// absolute or climbing past the context root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TreeEntry } from '../../../native/scan-tree.js';
import { followLinks, indexTree } from '../../../solver/executors/follow-links.js';

/** A scan from `dir/` (directory), `name -> target` (symlink) and plain names (files). */
function tree(...specs: string[]): ReturnType<typeof indexTree> {
  const entries = specs.map((s): TreeEntry => {
    const [rel, target] = s.split(' -> ') as [string, string | undefined];
    const kind = target !== undefined ? 'symlink' : rel.endsWith('/') ? 'dir' : 'file';
    return { rel: rel.replace(/\/$/, ''), kind, mode: 0o644, uid: 0, gid: 0, size: 0, mtimeMs: 0, atimeMs: 0, ino: 0, nlink: 1, rdev: 0, linkTarget: target };
  });
  return indexTree(entries);
}

const ctx = tree('real', 'good -> real', 'chain -> good', 'abs -> /real', 'd/', 'd/f', 'd/flink -> f', 'dlink -> d', 'sub/', 'sub/up -> ../good', 'out -> ../../outside', 'loop -> loop', 'a -> b', 'b -> a', 'root -> /');

test('paths without links come back as they are, sorted, with paths under another dropped', () => {
  assert.deepEqual(followLinks(ctx, ['real', 'd/f', 'd', 'missing/x']), ['d', 'missing/x', 'real']);
  assert.deepEqual(followLinks(ctx, ['/d/./f', 'sub/../real']), ['d/f', 'real']);
});

test('a named link brings its target; chains are followed to the end', () => {
  assert.deepEqual(followLinks(ctx, ['good']), ['good', 'real']);
  assert.deepEqual(followLinks(ctx, ['chain']), ['chain', 'good', 'real']);
});

test('a link on the way to a path is kept, and the path is taken through its target', () => {
  assert.deepEqual(followLinks(ctx, ['dlink/f']), ['d/f', 'dlink']);
  assert.deepEqual(followLinks(ctx, ['sub/up']), ['good', 'real', 'sub/up']);
});

test('absolute targets and targets climbing past the root resolve inside the context', () => {
  assert.deepEqual(followLinks(ctx, ['abs']), ['abs', 'real']);
  assert.deepEqual(followLinks(ctx, ['out']), ['out', 'outside']);
  assert.deepEqual(followLinks(ctx, ['../real']), ['real']);
});

test('wildcards stay patterns, and the links they match bring their targets', () => {
  assert.deepEqual(followLinks(ctx, ['g*']), ['g*', 'real']);
  assert.deepEqual(followLinks(ctx, ['dlink/*']), ['d/*', 'd/f', 'dlink']);
  assert.deepEqual(followLinks(ctx, ['re*']), ['re*'], 'no link matched: the pattern alone');
});

test('cycles end; a link to the root, or the root itself, selects the whole context', () => {
  assert.deepEqual(followLinks(ctx, ['loop']), ['loop']);
  assert.deepEqual(followLinks(ctx, ['a']), ['a', 'b']);
  assert.equal(followLinks(ctx, ['root']), undefined);
  assert.equal(followLinks(ctx, ['.']), undefined);
});
