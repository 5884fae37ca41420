// The scheduler, cache keys and cache index on a real store and real snapshots. The op behaviour
// here is a test double (sleep on a timer, write one file into a new snapshot); what is under
// test is the solver: ordering, overlap, dedup, cancellation and cache hits and misses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { marshalOp, opDigest } from '../../solver/llb/marshal.js';
import type { Definition, Op, OpMetadata } from '../../solver/llb/types.js';
import { solve, solveAll, type SolveOptions } from '../../solver/solve.js';
import { buildGraph } from '../../solver/graph.js';
import { cacheKey } from '../../solver/cachekey.js';
import { GraphError, SolveError } from '../../solver/errors.js';
import { renderError } from '../../cli/errors.js';
import type { OpExecutor, SolveEnv, SolveEvent, VertexInfo } from '../../solver/types.js';
import { Store } from '../../snapshotter/store.js';
import type { Snapshotter } from '../../snapshotter/snapshots.js';
import { openSnapshotter } from '../../snapshotter/open-snapshotter.js';
import { hostPlatform } from '../../oci/platform.js';
import { UserError } from '../../errors/kiln-error.js';

// ---- a tiny graph language: sources and steps that name their inputs ----

interface Node {
  bytes: Uint8Array;
  digest: string;
  name: string;
}

function source(name: string): Node {
  const bytes = marshalOp({ source: { identifier: `test://${name}` } });
  return { bytes, digest: opDigest(bytes), name };
}

function step(name: string, ...inputs: Node[]): Node {
  const op: Op = {
    inputs: inputs.map((i) => ({ digest: i.digest, index: 0 })),
    file: { actions: [{ input: inputs.length ? 0 : -1, secondaryInput: -1, output: 0, mkfile: { path: `/${name}`, mode: 0o644 } }] },
  };
  const bytes = marshalOp(op);
  return { bytes, digest: opDigest(bytes), name };
}

/** Ops in the order given (inputs first), named by customname, closed by the terminal op. */
function def(nodes: Node[], result: Node): Definition {
  const metadata: Record<string, OpMetadata> = {};
  for (const n of nodes) metadata[n.digest] = { description: { 'llb.customname': n.name } };
  return { def: [...nodes.map((n) => n.bytes), marshalOp({ inputs: [{ digest: result.digest, index: 0 }] })], metadata };
}

// ---- the op double ----

/** A step's failure the user caused, as executors report one (a RUN's exit code, a missing file). */
class StepFailedError extends UserError {
  readonly code = 'TEST_STEP_FAILED';
}

interface Behaviour {
  delayMs: number;
  fail?: string;
  /** Run into a real bug of the step's own code (a TypeError) instead of finishing. */
  bug?: boolean;
  contentKey?: string;
  output?: string[];
}

class Ops {
  readonly behaviour = new Map<string, Behaviour>();
  readonly runs: string[] = [];
  readonly aborted: string[] = [];

  set(name: string, b: Partial<Behaviour>): void {
    this.behaviour.set(name, { delayMs: 20, ...this.behaviour.get(name), ...b });
  }

  private of(v: VertexInfo): Behaviour {
    return this.behaviour.get(v.name) ?? { delayMs: 20 };
  }

  executorFor = (_op: Op): OpExecutor => ({
    contentKey: async (v) => this.of(v).contentKey,
    run: async (v, inputs, env, log) => {
      const b = this.of(v);
      this.runs.push(v.name);
      for (const line of b.output ?? []) log('stdout', Buffer.from(line + '\n'));
      await sleep(b.delayMs, env.signal).catch((err: unknown) => {
        this.aborted.push(v.name);
        throw err;
      });
      if (b.fail) throw new StepFailedError(b.fail);
      if (b.bug) (v as unknown as { missing: { field: number } }).missing.field++;
      // A real snapshot on the first input, holding one file named for the vertex.
      const active = `test-active-${randomUUID()}`;
      await env.snapshotter.prepare(active, inputs[0]?.snapshot ?? undefined);
      const m = await env.snapshotter.mount(active);
      try {
        await writeFile(path.join(m.dir, v.name), v.name);
      } finally {
        await m.release();
      }
      const key = `test-${randomUUID()}`;
      await env.snapshotter.commit(key, active);
      return [{ snapshot: key }];
    },
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      reject(new Error('aborted'));
    }, { once: true });
  });
}

// ---- a real store per test ----

interface Ctx {
  root: string;
  store: Store;
  snapshotter: Snapshotter;
  run(d: Definition, ops: Ops, opts?: SolveOptions & { signal?: AbortSignal }): Promise<{ snapshot: string | null; events: SolveEvent[] }>;
}

async function withStore(body: (ctx: Ctx) => Promise<void>): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), 'kiln-solve-'));
  try {
    const store = await Store.open(root);
    const snapshotter = await openSnapshotter(root, { log: () => undefined });
    const run: Ctx['run'] = async (d, ops, opts = {}) => {
      const env: SolveEnv = {
        store,
        snapshotter,
        lease: await store.leases.create({ owned: true }),
        root,
        contextDir: root,
        secrets: new Map(),
        signal: opts.signal ?? new AbortController().signal,
        platform: hostPlatform(),
        emit: () => undefined,
      };
      const { result, events } = await solve(d, env, { executors: ops.executorFor, ...opts });
      return { snapshot: result.snapshot, events };
    };
    await body({ root, store, snapshotter, run });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function names(events: SolveEvent[], type: SolveEvent['type']): string[] {
  return events.filter((e) => e.type === type).map((e) => ('name' in e ? e.name : '')).sort();
}

function span(events: SolveEvent[], name: string): { start: number; end: number } {
  const start = events.find((e) => e.type === 'vertex.start' && e.name === name);
  const done = events.find((e) => e.type === 'vertex.done' && e.name === name);
  assert.ok(start && done, `${name} ran`);
  return { start: start.time, end: done.time };
}

// ---- tests ----

test('independent chains run at overlapping times; parallelism 1 serialises them', async () => {
  await withStore(async (ctx) => {
    const a1 = source('a1'), a2 = step('a2', a1), b1 = source('b1'), b2 = step('b2', b1), j = step('join', a2, b2);
    const d = def([a1, a2, b1, b2, j], j);
    const ops = new Ops();
    for (const n of ['a1', 'a2', 'b1', 'b2']) ops.set(n, { delayMs: 250 });
    const { events } = await ctx.run(d, ops, { parallelism: 4 });
    const [sa1, sb1, sa2, sb2, sj] = ['a1', 'b1', 'a2', 'b2', 'join'].map((n) => span(events, n));
    assert.ok(sa1!.start < sb1!.end && sb1!.start < sa1!.end, 'a1 and b1 overlap');
    assert.ok(sa2!.start < sb2!.end && sb2!.start < sa2!.end, 'a2 and b2 overlap');
    // Inputs before readers.
    assert.ok(sa2!.start >= sa1!.end && sb2!.start >= sb1!.end);
    assert.ok(sj!.start >= Math.max(sa2!.end, sb2!.end), 'join waits for both chains');

    const serial = new Ops();
    for (const n of ['a1', 'a2', 'b1', 'b2']) serial.set(n, { delayMs: 100 });
    const again = await ctx.run(d, serial, { parallelism: 1, noCache: true });
    const spans = ['a1', 'b1', 'a2', 'b2', 'join'].map((n) => span(again.events, n)).sort((x, y) => x.start - y.start);
    for (let i = 1; i < spans.length; i++) assert.ok(spans[i]!.start >= spans[i - 1]!.end, 'no two vertices at once with parallelism 1');
  });
});

test('solveAll: definitions that share vertices (a multi-platform build) run them once, each gets its own result', async () => {
  await withStore(async (ctx) => {
    const tool = source('tool'), compile = step('compile', tool), amd = step('amd64', compile), arm = step('arm64', compile);
    const ops = new Ops();
    ops.set('compile', { delayMs: 150 });
    const events: SolveEvent[] = [];
    const env: SolveEnv = {
      store: ctx.store, snapshotter: ctx.snapshotter, lease: await ctx.store.leases.create({ owned: true }), root: ctx.root, contextDir: ctx.root,
      secrets: new Map(), signal: new AbortController().signal, platform: hostPlatform(), emit: (e) => events.push(e),
    };
    const { results } = await solveAll([def([tool, compile, amd], amd), def([tool, compile, arm], arm), { def: [], metadata: {} }], env, { executors: ops.executorFor });
    assert.deepEqual(ops.runs.filter((n) => n === 'compile' || n === 'tool'), ['tool', 'compile'], 'the shared chain ran once');
    assert.deepEqual(names(events, 'vertex.start'), ['amd64', 'arm64', 'compile', 'tool']);
    assert.equal(results.length, 3);
    assert.equal(results[2]!.snapshot, null, 'an empty definition is scratch');
    const [a, b] = await Promise.all(results.slice(0, 2).map((r) => ctx.snapshotter.stat(r.snapshot!)));
    assert.notEqual(a!.key, b!.key);
    assert.equal(a!.parent, b!.parent, 'both stand on the one compile snapshot');

    const failing = new Ops();
    failing.set('arm64', { fail: 'arm64 broke', delayMs: 10 });
    failing.set('amd64', { delayMs: 2000 });
    const other = step('other', tool), x = step('amd64', other), y = step('arm64', other);
    await assert.rejects(solveAll([def([tool, other, x], x), def([tool, other, y], y)], { ...env, emit: () => undefined }, { executors: failing.executorFor, noCache: true }), SolveError);
    assert.deepEqual(failing.aborted, ['amd64'], 'a failure in one definition cancels the others');
  });
});

test('a vertex several others read runs once, also when the definition lists it twice', async () => {
  await withStore(async (ctx) => {
    const shared = source('shared'), x = step('x', shared), y = step('y', shared), j = step('join', x, y);
    const d = def([shared, x, y, j], j);
    d.def.splice(2, 0, shared.bytes);
    const ops = new Ops();
    ops.set('shared', { delayMs: 100 });
    const { events } = await ctx.run(d, ops);
    assert.deepEqual(ops.runs.filter((n) => n === 'shared'), ['shared']);
    assert.deepEqual(names(events, 'vertex.start'), ['join', 'shared', 'x', 'y']);
  });
});

test('a failure aborts a running sibling through its signal, keeps finished work cached, and names the step', async () => {
  await withStore(async (ctx) => {
    const quick = source('quick'), bad = step('bad', quick), slow = source('slow'), j = step('join', bad, slow);
    const d = def([quick, bad, slow, j], j);
    const ops = new Ops();
    ops.set('quick', { delayMs: 10 });
    ops.set('bad', { delayMs: 50, fail: 'exit code 3', output: ['compiling', 'oops: missing thing'] });
    ops.set('slow', { delayMs: 10_000 });
    const t0 = Date.now();
    const err = await ctx.run(d, ops).then(
      () => assert.fail('the solve must fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof SolveError, String(err));
    assert.equal(err.userFacing, true);
    assert.equal(err.code, 'KILN_BUILD_STEP');
    assert.equal(err.step.name, 'bad');
    assert.deepEqual(err.step.output, ['compiling', 'oops: missing thing']);
    assert.match(err.message, /^bad: exit code 3/);
    assert.match(err.detail, /^------\n > bad:\ncompiling\noops: missing thing\n------\n$/);
    assert.deepEqual(ops.aborted, ['slow'], "slow's signal fired");
    assert.ok(Date.now() - t0 < 5_000, 'the sibling did not run to its end');
    assert.ok(!ops.runs.includes('join'));

    const fixed = new Ops();
    fixed.set('slow', { delayMs: 10 });
    const { events } = await ctx.run(d, fixed);
    assert.deepEqual(names(events, 'vertex.cached'), ['quick'], 'work done before the failure stays cached');
    assert.deepEqual(fixed.runs.sort(), ['bad', 'join', 'slow']);
  });
});

test('a bug inside a step is not made a user error: the solve rejects with the TypeError itself, its stack kept', async () => {
  await withStore(async (ctx) => {
    const ok = source('ok'), buggy = step('buggy', ok);
    const ops = new Ops();
    ops.set('buggy', { bug: true });
    const err = await ctx.run(def([ok, buggy], buggy), ops).then(
      () => assert.fail('the solve must fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof TypeError, `the TypeError reaches the caller, not a SolveError: ${String(err)}`);
    assert.match(err.message, /Cannot read properties of undefined/);
    assert.match(err.stack ?? '', /\n\s+at .*solve\.test\.js/, 'the stack points into the step that broke');
    assert.equal(renderError(err).split('\n')[0], 'internal error (a bug in kiln; please report it):');
    assert.match(renderError(err), /TypeError: Cannot read properties of undefined[^\n]*\n\s+at /);
  });
});

test('a user error inside a step stays one line naming the step', async () => {
  await withStore(async (ctx) => {
    const s = source('s'), bad = step('bad', s);
    const ops = new Ops();
    ops.set('bad', { fail: 'exit code 3' });
    const err = await ctx.run(def([s, bad], bad), ops).then(
      () => assert.fail('the solve must fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof SolveError, String(err));
    assert.ok(err.cause instanceof StepFailedError);
    assert.equal(renderError(err), `${err.detail}error: bad: exit code 3\n`);
  });
});

test('a cancelled caller signal stops the solve and reports cancellation', async () => {
  await withStore(async (ctx) => {
    const s = source('s');
    const ops = new Ops();
    ops.set('s', { delayMs: 10_000 });
    const ctrl = new AbortController();
    setTimeout(() => ctrl.abort(), 50);
    await assert.rejects(ctx.run(def([s], s), ops, { signal: ctrl.signal }), { code: 'KILN_BUILD_CANCELLED' });
    assert.deepEqual(ops.aborted, ['s']);
  });
});

test('a second solve is all cached; a changed content key re-runs exactly that vertex and its dependents', async () => {
  await withStore(async (ctx) => {
    const a = source('a'), b = source('b'), a2 = step('a2', a), b2 = step('b2', b), j = step('join', a2, b2);
    const d = def([a, b, a2, b2, j], j);
    const ops = new Ops();
    ops.set('a', { contentKey: 'v1' });
    const first = await ctx.run(d, ops);
    assert.deepEqual(names(first.events, 'vertex.cached'), []);
    assert.ok(first.snapshot);

    const second = new Ops();
    second.set('a', { contentKey: 'v1' });
    const again = await ctx.run(d, second);
    assert.deepEqual(names(again.events, 'vertex.cached'), ['a', 'a2', 'b', 'b2', 'join']);
    assert.deepEqual(second.runs, []);
    assert.equal(again.snapshot, first.snapshot, 'the cached result is the same snapshot');

    const edited = new Ops();
    edited.set('a', { contentKey: 'v2' });
    const third = await ctx.run(d, edited);
    assert.deepEqual(names(third.events, 'vertex.start'), ['a', 'a2', 'join']);
    assert.deepEqual(names(third.events, 'vertex.cached'), ['b', 'b2']);

    const nocache = new Ops();
    nocache.set('a', { contentKey: 'v2' });
    const forced = await ctx.run(d, nocache, { noCache: true });
    assert.deepEqual(names(forced.events, 'vertex.start'), ['a', 'a2', 'b', 'b2', 'join']);
  });
});

test('an entry whose snapshot is gone is a miss', async () => {
  await withStore(async (ctx) => {
    const a = source('a');
    const first = await ctx.run(def([a], a), new Ops());
    await ctx.snapshotter.remove(first.snapshot!);
    const ops = new Ops();
    const again = await ctx.run(def([a], a), ops);
    assert.deepEqual(ops.runs, ['a']);
    assert.notEqual(again.snapshot, first.snapshot);
  });
});

test('renaming a step keeps its cache; the index survives a new process view of the store', async () => {
  await withStore(async (ctx) => {
    const a = source('a');
    await ctx.run(def([a], a), new Ops());
    const renamed = def([a], a);
    renamed.metadata[a.digest] = { description: { 'llb.customname': 'another name' } };
    const ops = new Ops();
    const { events } = await ctx.run(renamed, ops);
    assert.deepEqual(names(events, 'vertex.cached'), ['another name']);
    assert.deepEqual(ops.runs, []);
  });
});

test('an empty definition solves to scratch without running anything', async () => {
  await withStore(async (ctx) => {
    const ops = new Ops();
    const r = await ctx.run({ def: [], metadata: {} }, ops);
    assert.equal(r.snapshot, null);
    assert.deepEqual(ops.runs, []);
  });
});

test('graph: names from customname or derived, inputs linked, dangling inputs refused', () => {
  const img = marshalOp({ source: { identifier: 'docker-image://docker.io/library/busybox:latest' } });
  const run = marshalOp({ inputs: [{ digest: opDigest(img) }], exec: { meta: { args: ['/bin/sh', '-c', 'echo hi'] }, mounts: [{ dest: '/' }] } });
  const g = buildGraph({ def: [img, run, marshalOp({ inputs: [{ digest: opDigest(run) }] })], metadata: {} });
  assert.deepEqual(g.vertices.map((v) => v.name), ['FROM docker.io/library/busybox:latest', 'echo hi']);
  assert.equal(g.result?.vertex.digest, opDigest(run));
  assert.equal(g.result?.vertex.inputs[0]?.vertex.digest, opDigest(img));

  const located = buildGraph({
    def: [img, marshalOp({ inputs: [{ digest: opDigest(img) }] })],
    metadata: {},
    source: { infos: [{ filename: 'app/Dockerfile' }], locations: { [opDigest(img)]: { locations: [{ sourceIndex: 0, ranges: [{ start: { line: 4 } }] }] } } },
  });
  assert.equal(located.vertices[0]?.location, 'app/Dockerfile:4');

  assert.throws(() => buildGraph({ def: [run, marshalOp({ inputs: [{ digest: opDigest(run) }] })], metadata: {} }), GraphError);
});

test('cache keys change with any input key, output index or content key, and only with them', () => {
  const base = cacheKey('sha256:op', [{ key: 'sha256:k1', index: 0 }], 'c1');
  assert.equal(base, cacheKey('sha256:op', [{ key: 'sha256:k1', index: 0 }], 'c1'));
  const variants = [
    cacheKey('sha256:op2', [{ key: 'sha256:k1', index: 0 }], 'c1'),
    cacheKey('sha256:op', [{ key: 'sha256:k2', index: 0 }], 'c1'),
    cacheKey('sha256:op', [{ key: 'sha256:k1', index: 1 }], 'c1'),
    cacheKey('sha256:op', [{ key: 'sha256:k1', index: 0 }], 'c2'),
    cacheKey('sha256:op', [{ key: 'sha256:k1', index: 0 }]),
    cacheKey('sha256:op', [{ key: 'sha256:k1', index: 0 }, { key: 'sha256:k1', index: 0 }], 'c1'),
  ];
  assert.equal(new Set([base, ...variants]).size, variants.length + 1);
  assert.notEqual(cacheKey('sha256:op', [{ key: 'a', index: 0 }, { key: 'b', index: 0 }]), cacheKey('sha256:op', [{ key: 'b', index: 0 }, { key: 'a', index: 0 }]));
});
