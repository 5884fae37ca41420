// The import graph of kiln's TypeScript sources, read from the files themselves (static `import`
// and `export … from`, type-only ones included, and dynamic `import('…')`), with each file's room
// as ../shared/DESIGN.md names them.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** Rooms in the order of DESIGN.md's table; a nested room (solver/llb) comes before its parent. */
export const ROOMS = ['errors', 'oci', 'patterns', 'native', 'snapshotter', 'registry', 'runner', 'solver/llb', 'solver', 'frontend', 'exporter', 'api', 'cli'] as const;
export type Room = (typeof ROOMS)[number];

export interface ImportEdge {
  from: string;
  to: string;
  typeOnly: boolean;
  line: number;
}

export function roomOf(file: string): Room | undefined {
  return ROOMS.find((r) => file === r || file.startsWith(r + '/'));
}

/** Every .ts source of the rooms (not tests, benches or generated files), relative to `repo`. */
export function sourceFiles(repo: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(repo, rel))) {
      const child = rel ? `${rel}/${name}` : name;
      if (name === 'node_modules' || name === 'target' || name === 'dist') continue;
      if (statSync(path.join(repo, child)).isDirectory()) walk(child);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(child);
    }
  };
  for (const room of new Set(ROOMS.map((r) => r.split('/')[0]!))) {
    try {
      walk(room);
    } catch {
      continue; // a room not created yet
    }
  }
  return out.sort();
}

const STATIC = /^\s*(import|export)\s+(type\s+)?(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
const DYNAMIC = /import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The edges out of one file, to other source files of ours (packages and node: builtins left out). */
export function importsOf(repo: string, file: string): ImportEdge[] {
  const text = readFileSync(path.join(repo, file), 'utf8');
  const lineAt = (index: number): number => text.slice(0, index).split('\n').length;
  const edges: ImportEdge[] = [];
  const add = (spec: string, typeOnly: boolean, index: number): void => {
    if (!spec.startsWith('.')) return;
    const to = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, '.ts');
    edges.push({ from: file, to, typeOnly, line: lineAt(index) });
  };
  for (const m of text.matchAll(STATIC)) add(m[3]!, m[2] !== undefined, m.index);
  for (const m of text.matchAll(DYNAMIC)) add(m[1]!, false, m.index);
  return edges;
}

/** File-level cycles (type-only edges included), each as the list of files around it. */
export function cycles(edges: ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 'open');
    stack.push(f);
    for (const t of next.get(f) ?? []) {
      if (state.get(t) === 'open') found.push(stack.slice(stack.indexOf(t)));
      else if (!state.has(t)) visit(t);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of [...next.keys()].sort()) if (!state.has(f)) visit(f);
  return found;
}
