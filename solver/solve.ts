// Runs a Definition: cache keys for every vertex, cache lookups, then the missing vertices on a
// bounded queue as soon as their inputs are done; the first failure cancels the rest.
import { availableParallelism } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import PQueue from 'p-queue';
import type { Definition, Op } from './llb/types.js';
import type { OpExecutor, OpResult, SolveEnv, SolveEvent } from './types.js';
import { buildSharedGraph, type GraphVertex } from './graph.js';
import { cacheKey } from './cachekey.js';
import { CacheIndex } from './cache-index.js';
import { SolveCancelledError, SolveError } from './errors.js';
import { executorFor } from './executors/index.js';
import { LeasedSnapshotter } from '../snapshotter/leased-snapshotter.js';
import { asDiskFull } from '../snapshotter/disk-full.js';
import { isUserError } from '../errors/kiln-error.js';
import { assertCanRun } from '../runner/binfmt.js';
import type { Platform } from '../oci/image-spec.js';
import { fromPbPlatform } from './llb/platform.js';

export interface SolveOptions {
  /** How many vertices run at once (default: the machine's cores, at least 2). */
  parallelism?: number;
  /** Skip cache lookups (results are still recorded for the next build). */
  noCache?: boolean;
  /** The op behaviour; defaults to solver/executors. */
  executors?: (op: Op) => OpExecutor;
}

export interface SolveRun {
  result: OpResult;
  /** Every event emitted, in order (they also went to env.emit as they happened). */
  events: SolveEvent[];
}

const TAIL_LINES = 10;

export async function solve(def: Definition, env: SolveEnv, opts: SolveOptions = {}): Promise<SolveRun> {
  const { results, events } = await solveAll([def], env, opts);
  return { result: results[0]!, events };
}

export interface SharedSolveRun {
  /** One result per definition, in order. */
  results: OpResult[];
  events: SolveEvent[];
}

/**
 * Solves several definitions as one build (a multi-platform build's, one per platform): one graph,
 * one queue and one cache lookup, so a vertex they share (a `FROM --platform=$BUILDPLATFORM`
 * stage, the context) runs once; the first failure in any of them cancels all.
 */
export async function solveAll(defs: readonly Definition[], env: SolveEnv, opts: SolveOptions = {}): Promise<SharedSolveRun> {
  const events: SolveEvent[] = [];
  const emit = (e: SolveEvent): void => {
    events.push(e);
    env.emit(e);
  };
  const graph = buildSharedGraph(defs);
  if (graph.results.every((r) => r === null)) return { results: defs.map(() => ({ snapshot: null })), events };
  const run = new Run(graph.vertices, env, emit, opts.executors ?? executorFor, await CacheIndex.open(env.root), opts);
  return { results: await run.solve(graph.results), events };
}

/** Cancels a solve: the first failure, or the caller's signal (Ctrl-C). */
interface Failure {
  vertex?: GraphVertex;
  error: unknown;
}

class Run {
  private readonly ctrl = new AbortController();
  private readonly queue: PQueue;
  private readonly venv: SolveEnv;
  private readonly keys = new Map<GraphVertex, Promise<string>>();
  private readonly hits = new Map<GraphVertex, OpResult[]>();
  private readonly results = new Map<GraphVertex, Promise<OpResult[]>>();
  private readonly tails = new Map<GraphVertex, Tail>();
  /** Work that has started, so a failure waits for it to release its mounts before returning. */
  private readonly running = new Set<Promise<unknown>>();
  private failure: Failure | undefined;

  constructor(
    private readonly vertices: GraphVertex[],
    private readonly env: SolveEnv,
    private readonly emit: (e: SolveEvent) => void,
    private readonly executorFor: (op: Op) => OpExecutor,
    private readonly cache: CacheIndex,
    private readonly opts: SolveOptions,
  ) {
    this.queue = new PQueue({ concurrency: opts.parallelism ?? Math.max(2, availableParallelism()) });
    const snapshotter = new LeasedSnapshotter(env.snapshotter, env.store.leases, env.lease);
    this.venv = { ...env, snapshotter, signal: this.ctrl.signal, emit };
  }

  async solve(wanted: ({ vertex: GraphVertex; index: number } | null)[]): Promise<OpResult[]> {
    const outer = this.env.signal;
    const onOuterAbort = (): void => this.fail(undefined, new SolveCancelledError());
    if (outer.aborted) throw new SolveCancelledError();
    outer.addEventListener('abort', onOuterAbort, { once: true });
    try {
      // Keys of every vertex first: a hit on the result needs nothing else to run.
      await Promise.all(this.vertices.map((v) => this.keyOf(v)));
      await this.lookupAll();
      await this.checkPlatforms(wanted.flatMap((w) => (w === null ? [] : [w.vertex])));
      return await Promise.all(wanted.map(async (w) => {
        if (w === null) return { snapshot: null };
        const results = await this.resultsOf(w.vertex);
        const r = results[w.index];
        if (!r) throw new Error(`${w.vertex.name} returned ${results.length} results; output ${w.index} was asked for`);
        return r;
      }));
    } catch (err) {
      throw this.failure ? this.report(this.failure) : err;
    } finally {
      outer.removeEventListener('abort', onOuterAbort);
      while (this.running.size) await Promise.allSettled([...this.running]);
    }
  }

  /**
   * The step's failure as the user reads it: only what a user caused (a typed user error, a full
   * disk) becomes a SolveError naming the step; anything else is a bug and keeps its own stack.
   */
  private report(f: Failure): Error {
    const error = asDiskFull(f.error, this.env.root, f.vertex ? 'running this step' : 'building');
    if (!f.vertex || !isUserError(error)) return error instanceof Error ? error : new Error(String(error));
    const step = { name: f.vertex.name, digest: f.vertex.digest, output: this.tails.get(f.vertex)?.lines() ?? [] };
    return new SolveError({ ...step, ...(f.vertex.location ? { location: f.vertex.location } : {}), ...(f.vertex.source ? { source: f.vertex.source } : {}) }, error);
  }

  private fail(vertex: GraphVertex | undefined, error: unknown): void {
    if (this.failure) return;
    this.failure = vertex ? { vertex, error } : { error };
    this.ctrl.abort(error);
  }

  private keyOf(v: GraphVertex): Promise<string> {
    let p = this.keys.get(v);
    if (!p) {
      p = (async () => {
        const inputs = await Promise.all(v.inputs.map(async (i) => ({ key: await this.keyOf(i.vertex), index: i.index })));
        const exec = this.executorOf(v);
        const content = exec.contentKey ? await this.task(v, false, () => exec.contentKey!(v, this.venv)) : undefined;
        return cacheKey(v.digest, inputs, content);
      })();
      settleQuietly(p);
      this.keys.set(v, p);
    }
    return p;
  }

  /** An op kind nothing runs is that vertex's failure, reported like any other. */
  private executorOf(v: GraphVertex): OpExecutor {
    try {
      return this.executorFor(v.op);
    } catch (err) {
      this.fail(v, err);
      this.emit({ type: 'vertex.error', digest: v.digest, name: v.name, time: Date.now(), error: err instanceof Error ? err.message : String(err) });
      throw err;
    }
  }

  /**
   * Looks every vertex up at once (each reads snapshot records), then reports the hits in graph
   * order. What the index names is leased first (one write), so a hit found here stays.
   */
  private async lookupAll(): Promise<void> {
    const keys = await Promise.all(this.vertices.map((v) => (this.opts.noCache || v.metadata.ignoreCache ? undefined : this.keyOf(v))));
    const named = keys.flatMap((k) => (k === undefined ? [] : this.cache.snapshotsOf(k)));
    await this.env.store.leases.add(this.env.lease, ...named.map((key) => ({ kind: 'snapshot' as const, key })));
    const hits = await Promise.all(keys.map((k) => (k === undefined ? undefined : this.cache.lookup(k, this.env.snapshotter))));
    this.vertices.forEach((v, i) => {
      const hit = hits[i];
      if (!hit) return;
      this.hits.set(v, hit);
      this.emit({ type: 'vertex.cached', digest: v.digest, name: v.name, inputs: inputDigests(v), time: Date.now() });
    });
  }

  /**
   * Every RUN that will execute (not a cache hit, needed by the result) must be of a platform this
   * machine runs, natively or through QEMU: checked before anything runs, so a missing emulator
   * is one message with its fix, not a failure half-way through with snapshots made.
   */
  private async checkPlatforms(results: GraphVertex[]): Promise<void> {
    const platforms: Platform[] = [];
    const seen = new Set<GraphVertex>();
    const visit = (v: GraphVertex): void => {
      if (seen.has(v) || this.hits.has(v)) return;
      seen.add(v);
      if (v.op.exec) platforms.push(fromPbPlatform(v.op.platform) ?? this.env.platform);
      for (const i of v.inputs) visit(i.vertex);
    };
    results.forEach(visit);
    await assertCanRun(platforms);
  }

  private resultsOf(v: GraphVertex): Promise<OpResult[]> {
    let p = this.results.get(v);
    if (!p) {
      const hit = this.hits.get(v);
      p = hit ? Promise.resolve(hit) : this.execute(v);
      settleQuietly(p);
      this.results.set(v, p);
    }
    return p;
  }

  private async execute(v: GraphVertex): Promise<OpResult[]> {
    const inputs = await Promise.all(v.inputs.map(async (i) => this.pick(v, i.vertex, await this.resultsOf(i.vertex), i.index)));
    const key = await this.keyOf(v);
    const exec = this.executorOf(v);
    return this.task(v, true, async () => {
      const started = Date.now();
      this.emit({ type: 'vertex.start', digest: v.digest, name: v.name, inputs: inputDigests(v), time: started });
      const results = await exec.run(v, inputs, this.venv, (stream, chunk) => this.log(v, stream, chunk));
      await this.cache.record(key, results);
      const now = Date.now();
      this.emit({ type: 'vertex.done', digest: v.digest, name: v.name, time: now, durationMs: now - started });
      return results;
    });
  }

  private pick(v: GraphVertex, from: GraphVertex, results: OpResult[], index: number): OpResult {
    const r = results[index];
    if (!r) throw new Error(`${v.name} reads output ${index} of ${from.name}, which returned ${results.length}`);
    return r;
  }

  /** Queued work for `v`: it does not start once the solve is cancelled, and its failure cancels the solve. */
  private task<T>(v: GraphVertex, announced: boolean, fn: () => Promise<T>): Promise<T> {
    return this.queue.add(async () => {
      this.ctrl.signal.throwIfAborted();
      const work = fn();
      this.running.add(work);
      try {
        return await work;
      } catch (err) {
        const cancelled = this.ctrl.signal.aborted;
        this.fail(v, err);
        const message = cancelled ? 'cancelled' : err instanceof Error ? err.message : String(err);
        if (announced || !cancelled) this.emit({ type: 'vertex.error', digest: v.digest, name: v.name, time: Date.now(), error: message });
        throw err;
      } finally {
        this.running.delete(work);
      }
    }, { throwOnTimeout: true });
  }

  private log(v: GraphVertex, stream: 'stdout' | 'stderr', chunk: Buffer): void {
    let tail = this.tails.get(v);
    if (!tail) this.tails.set(v, (tail = new Tail()));
    const data = tail.push(stream, chunk);
    if (data) this.emit({ type: 'vertex.log', digest: v.digest, stream, data, time: Date.now() });
  }
}

/** The distinct vertices `v` reads, in input order. */
function inputDigests(v: GraphVertex): string[] {
  return [...new Set(v.inputs.map((i) => i.vertex.digest))];
}

/** A rejected promise nobody awaits yet must not crash the process; awaiting it still throws. */
function settleQuietly(p: Promise<unknown>): void {
  p.catch(() => undefined);
}

/** The last lines a step wrote (both streams), for the error report; decodes UTF-8 across chunks. */
class Tail {
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  private readonly partial = { stdout: '', stderr: '' };
  private readonly done: string[] = [];

  push(stream: 'stdout' | 'stderr', chunk: Buffer): string {
    const text = this.decoders[stream].write(chunk);
    const parts = (this.partial[stream] + text).split('\n');
    this.partial[stream] = parts.pop() ?? '';
    this.done.push(...parts);
    if (this.done.length > TAIL_LINES) this.done.splice(0, this.done.length - TAIL_LINES);
    return text;
  }

  lines(): string[] {
    const open = [this.partial.stdout, this.partial.stderr].filter((s) => s !== '');
    return [...this.done, ...open].slice(-TAIL_LINES);
  }
}
