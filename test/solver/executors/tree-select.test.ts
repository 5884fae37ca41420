// selectEntries (solver/executors/tree-select.ts): hand-written cases, then a brute-force check on
// random trees so any shortcut (inheriting a directory's verdict) that strays from the plain
// definition fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PatternMatcher } from '../../../patterns/matcher.js';
import type { TreeEntry } from '../../../native/scan-tree.js';
import { selectEntries } from '../../../solver/executors/tree-select.js';

function entry(rel: string, kind: TreeEntry['kind']): TreeEntry {
  return { rel, kind, mode: 0o644, uid: 0, gid: 0, size: 0, mtimeMs: 0, atimeMs: 0, ino: 0, nlink: 1, rdev: 0 };
}

/** A pre-order list from `dir/` (trailing slash = directory), `name@` symlink, `name|` fifo. */
function tree(...specs: string[]): TreeEntry[] {
  return specs.map((s) =>
    s.endsWith('/') ? entry(s.slice(0, -1), 'dir') : s.endsWith('@') ? entry(s.slice(0, -1), 'symlink') : s.endsWith('|') ? entry(s.slice(0, -1), 'fifo') : entry(s, 'file'),
  );
}

interface Patterns { include?: string[]; exclude?: string[] }
const matchers = (p: Patterns) => ({
  ...(p.include ? { include: new PatternMatcher(p.include) } : {}),
  ...(p.exclude ? { exclude: new PatternMatcher(p.exclude) } : {}),
});

/** The definition, entry by entry, with no inheritance: O(n²) on purpose. */
function reference(entries: TreeEntry[], p: Patterns): TreeEntry[] {
  const { include, exclude } = matchers(p);
  const selected = (e: TreeEntry) => (include ? include.matches(e.rel) : true) && !(exclude?.matches(e.rel) ?? false);
  const memo = new Map<string, boolean>(); // only so the recursion stays O(n²)
  const kept = (e: TreeEntry): boolean => {
    let k = memo.get(e.rel);
    if (k === undefined) {
      k = selected(e) || (e.kind === 'dir' && entries.some((d) => d.rel.startsWith(e.rel + '/') && kept(d)));
      memo.set(e.rel, k);
    }
    return k;
  };
  return entries.filter(kept);
}

function select(entries: TreeEntry[], p: Patterns): string[] {
  const got = selectEntries(entries, matchers(p)).map((e) => e.rel);
  assert.deepEqual(got, reference(entries, p).map((e) => e.rel), `reference disagrees for ${JSON.stringify(p)}`);
  return got;
}

const sample = tree(
  'README.md', 'app/', 'app/main.go', 'app/lib/', 'app/lib/util.go', 'app/lib/notes.md', 'app/pipe|',
  'docs/', 'docs/guide.md', 'docs/keep.md', 'docs/img/', 'docs/img/a.png',
  'empty/', 'link@', 'node_modules/', 'node_modules/x/', 'node_modules/x/index.js', 'node_modules/x/README.md',
  'sock|', 'src/', 'src/cmd/', 'src/cmd/tool.go', 'src/z.txt',
);

test('no filters keep everything, fifos and sockets too (BuildKit carries them)', () => {
  const got = select(sample, {});
  assert.deepEqual(got, sample.map((e) => e.rel));
  assert.ok(got.includes('app/pipe') && got.includes('sock'));
  assert.ok(got.includes('empty') && got.includes('link'));
});

test('include of a directory keeps it and everything below, nothing else', () => {
  assert.deepEqual(select(sample, { include: ['app'] }), ['app', 'app/main.go', 'app/lib', 'app/lib/util.go', 'app/lib/notes.md', 'app/pipe']);
});

test('include *.md keeps matching top-level files and only the dirs leading to a match', () => {
  // `*.md` has no `/`, so only top-level names match it (Go filepath.Match semantics).
  assert.deepEqual(select(sample, { include: ['*.md'] }), ['README.md']);
  assert.deepEqual(select(sample, { include: ['**/*.md'] }), [
    'README.md', 'app', 'app/lib', 'app/lib/notes.md', 'docs', 'docs/guide.md', 'docs/keep.md',
    'node_modules', 'node_modules/x', 'node_modules/x/README.md',
  ]);
});

test('exclude node_modules drops its whole subtree', () => {
  const got = select(sample, { exclude: ['node_modules'] });
  assert.ok(!got.some((r) => r.startsWith('node_modules')));
  assert.ok(got.includes('app/main.go') && got.includes('empty'));
});

test('an exclude with a ! re-include keeps that file and the directory leading to it', () => {
  const got = select(sample, { exclude: ['docs', '!docs/keep.md'] });
  assert.deepEqual(got.filter((r) => r.startsWith('docs')), ['docs', 'docs/keep.md']);
});

test('include and exclude together, and **/*.go', () => {
  assert.deepEqual(select(sample, { include: ['app', 'docs'], exclude: ['**/*.md'] }), ['app', 'app/main.go', 'app/lib', 'app/lib/util.go', 'app/pipe', 'docs', 'docs/img', 'docs/img/a.png']);
  assert.deepEqual(select(sample, { include: ['**/*.go'] }), ['app', 'app/main.go', 'app/lib', 'app/lib/util.go', 'src', 'src/cmd', 'src/cmd/tool.go']);
});

// ---- random trees against the reference -----------------------------------------------------

/** mulberry32: a seeded PRNG, so a failure reproduces. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = ['a', 'app', 'b', 'docs', 'keep.md', 'lib', 'main.go', 'node_modules', 'notes.md', 'src', 'x.go', 'z.txt'];

function randomTree(seed: number, target: number): TreeEntry[] {
  const r = rng(seed);
  const out: TreeEntry[] = [];
  const fill = (prefix: string, depth: number) => {
    const names = NAMES.filter(() => r() < 0.45).sort();
    for (const name of names) {
      if (out.length >= target) return;
      const rel = prefix === '' ? name : `${prefix}/${name}`;
      const roll = r();
      const kind: TreeEntry['kind'] = depth < 5 && roll < 0.4 ? 'dir' : roll < 0.85 ? 'file' : roll < 0.95 ? 'symlink' : 'fifo';
      out.push(entry(rel, kind));
      if (kind === 'dir') fill(rel, depth + 1);
    }
  };
  fill('', 0);
  // More top-level directories until the tree is big enough (`r*` names match no pattern but `r*`).
  for (let i = 0; out.length < target; i++) {
    out.push(entry(`r${i}`, 'dir'));
    fill(`r${i}`, 0);
  }
  return out;
}

const PATTERN_SETS: Patterns[] = [
  {},
  { include: ['app'] },
  { include: ['*.md'] },
  { include: ['**/*.go'] },
  { include: ['**/lib', 'docs'] },
  { include: ['a', '!a/b'] },
  // An include with `!` under an included dir: its verdict must not be inherited from the parent.
  { include: ['*', '!*/lib', '!**/x.go'] },
  { exclude: ['node_modules'] },
  { exclude: ['**/node_modules'] },
  { exclude: ['docs', '!docs/keep.md'] },
  { exclude: ['**', '!**/*.go'] },
  { exclude: ['*/*/*', '!**/src'] },
  { exclude: ['**/*.md', '!**/keep.md', 'b'] },
  { include: ['app', 'src', 'r*'], exclude: ['**/*.go'] },
  { include: ['**/docs'], exclude: ['**/docs/**/lib', '!**/lib/keep.md'] },
  { include: ['*/a/*'], exclude: ['**/z.txt'] },
];

test('selectEntries equals the brute-force definition on random trees', () => {
  for (const seed of [1, 2, 3, 4]) {
    const entries = randomTree(seed, 500);
    assert.equal(entries.length, 500);
    assert.ok(entries.some((e) => e.kind === 'fifo') && entries.some((e) => e.rel.split('/').length >= 4), 'tree exercises fifos and depth');
    for (const p of PATTERN_SETS) {
      const got = select(entries, p); // asserts against the reference
      // Patterns that match something keep something: guard against a degenerate tree.
      if (p.include === undefined) assert.ok(got.length > 0, `${seed} ${JSON.stringify(p)}`);
    }
  }
});
