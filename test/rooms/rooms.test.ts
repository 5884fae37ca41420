// The room rule of ../shared/DESIGN.md, checked on the tree: a room imports only the rooms its
// row allows (cli/ may import any room's types, and api/), and no file-level import cycle
// exists, type-only imports included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { repoRoot } from '../helpers/kiln-cli.js';
import { cycles, importsOf, roomOf, sourceFiles, type ImportEdge, type Room } from './import-graph.js';

const ALLOWED: Record<Room, readonly Room[]> = {
  errors: [],
  oci: ['errors'],
  patterns: ['errors'],
  native: ['errors', 'oci'],
  snapshotter: ['errors', 'oci', 'native'],
  registry: ['errors', 'oci', 'native'],
  runner: ['errors', 'oci', 'native', 'snapshotter'],
  'solver/llb': ['errors', 'oci'],
  solver: ['errors', 'oci', 'patterns', 'native', 'snapshotter', 'runner', 'registry', 'solver/llb'],
  frontend: ['errors', 'oci', 'patterns', 'solver/llb'],
  exporter: ['errors', 'oci', 'native', 'snapshotter', 'registry'],
  api: ['errors', 'oci', 'patterns', 'native', 'snapshotter', 'registry', 'runner', 'solver/llb', 'solver', 'frontend', 'exporter'],
  cli: ['errors', 'api'],
};

const files = sourceFiles(repoRoot);
const edges = files.flatMap((f) => importsOf(repoRoot, f));

function breaksRule(e: ImportEdge): boolean {
  const from = roomOf(e.from);
  const to = roomOf(e.to);
  if (from === undefined || to === undefined || from === to) return false;
  if (from === 'cli' && e.typeOnly) return false;
  return !ALLOWED[from].includes(to);
}

test('every import follows the room table of DESIGN.md', () => {
  const broken = edges.filter(breaksRule);
  assert.deepEqual(broken.map((e) => `${e.from}:${e.line} imports ${e.to} (${roomOf(e.from)} may not import ${roomOf(e.to)})`), []);
});

test('no file-level import cycle, type-only imports included', () => {
  assert.deepEqual(cycles(edges).map((c) => [...c, c[0]].join(' -> ')), []);
});

test('the import reader sees what it must: static, type-only, re-exports and dynamic imports', () => {
  const build = edges.filter((e) => e.from === 'cli/commands/build.ts');
  assert.ok(build.length > 5, 'cli/commands/build.ts imports several files');
  assert.ok(edges.some((e) => e.typeOnly), 'type-only imports are read');
  assert.ok(edges.some((e) => e.from === 'cli/commands/index.ts'), 'the lazily loaded command table is read');
});
