// `build()`: a Dockerfile (or a Definition) and its context become an image in the store and the
// outputs asked for. The whole orchestration: base images from the store or pulled, the solve
// over its snapshots, the export, the outputs and pushes, all under one lease that ends with the process.
import path from 'node:path';
import { MediaType, type ImageConfig, type Platform } from '../oci/image-spec.js';
import type { Snapshotter } from '../snapshotter/snapshots.js';
import type { Store } from '../snapshotter/store.js';
import { normalizeName } from '../snapshotter/image-read.js';
import { solve } from '../solver/solve.js';
import type { SolveEvent } from '../solver/types.js';
import { startContextScan } from '../solver/executors/context-files.js';
import { exportImage, type ExportedImage } from '../exporter/image-export.js';
import type { Definition } from '../solver/llb/types.js';
import { emptyConfig } from '../frontend/image-config.js';
import { parseOutputSpecs, pushNames, storeNames, outputNames, type OutputSpec } from './output-spec.js';
import { buildMetadata, type BuildMetadata } from '../exporter/build-metadata.js';
import { hostPlatform } from '../oci/platform.js';
import { baseImages } from './base-images.js';
import { compileBuild } from './compile.js';
import { push } from './push.js';
import { openRegistries, type RegistryAccess } from './registry-session.js';
import { registryProgress } from './registry-progress.js';

export type { OutputSpec };

/** What a build reports as it goes: the solve's events, and the frontend's warnings first. */
export type BuildEvent = SolveEvent | { type: 'warning'; message: string; time: number };

export interface BuildOptions extends Omit<RegistryAccess, 'registries'> {
  store: Store;
  snapshotter: Snapshotter;
  /** The build context folder (relative to `cwd`). */
  context: string;
  cwd?: string;
  /** The Dockerfile (relative to `cwd`; default: the context's Dockerfile). */
  file?: string;
  /** Names the Dockerfile in messages instead of its path (one read from stdin). */
  fileName?: string;
  /** A Definition to solve instead of a Dockerfile, and its image's config (default: empty but for the platform). */
  llb?: { definition: Definition; config?: ImageConfig };
  target?: string;
  buildArgs?: Map<string, string>;
  /** Default: this machine's. */
  platform?: Platform;
  noCache?: boolean;
  /** id → bytes (see readSecrets), for RUN --mount=type=secret. */
  secrets?: Map<string, Buffer>;
  labels?: Record<string, string>;
  /** Where the image goes (see buildOutputs); default: the store, under no name. */
  outputs?: OutputSpec[];
  /** Resolve base image tags at their registries even when the store has them (`--pull`). */
  pull?: boolean;
  /** The image's creation time and the clamp of its files' times (seconds). */
  sourceDateEpoch?: number;
  /** Steps run at once (default: the machine's cores). */
  parallelism?: number;
  /** Aborting cancels the running steps; finished ones stay cached. */
  signal?: AbortSignal;
  /** Where an output with `dest=-` streams (default: process.stdout). */
  stdout?: NodeJS.WritableStream;
  onEvent?: (e: BuildEvent) => void;
}

export interface BuildResult {
  /** The image made; undefined when every output is `type=cacheonly`. */
  image?: ExportedImage;
  /** What buildx writes to --metadata-file for this build. */
  metadata?: BuildMetadata;
}

/** `--output` specs (buildx's syntax) with the `-t` names, as `build` takes them. */
export function buildOutputs(specs: readonly string[], tags: readonly string[], cwd = process.cwd()): OutputSpec[] {
  return parseOutputSpecs(specs, { tags, cwd, normalize: normalizeName });
}

interface Plan {
  definition: Definition;
  config: ImageConfig;
  platform: Platform;
  contextDir: string;
}

export async function build(opts: BuildOptions): Promise<BuildResult> {
  const cwd = opts.cwd ?? process.cwd();
  const emit = opts.onEvent ?? (() => undefined);
  const outputs = opts.outputs ?? [{ type: 'image', names: [] }];
  const platform = opts.platform ?? hostPlatform();
  const contextDir = path.resolve(cwd, opts.context);
  // The context's walk overlaps compiling (not for a Definition, which may read no context).
  const contextScan = opts.llb === undefined ? startContextScan(contextDir) : undefined;
  const { registries, done } = openRegistries(opts);
  try {
    return await buildWith({ ...opts, registries }, { cwd, emit, outputs, platform, contextDir, contextScan });
  } finally {
    await done();
  }
}

interface Prepared {
  cwd: string;
  emit: (e: BuildEvent) => void;
  outputs: OutputSpec[];
  platform: Platform;
  contextDir: string;
  contextScan: ReturnType<typeof startContextScan> | undefined;
}

/**
 * The image each output writes: the built one, or for an output with compression keys the image
 * converted to them (image outputs' names are recorded in the store at the converted manifest).
 */
async function convertedImages(store: Store, image: ExportedImage, outputs: readonly OutputSpec[], opts: { lease: string; emit: (e: BuildEvent) => void }): Promise<(out: OutputSpec) => ExportedImage> {
  const converted = new Map<OutputSpec, ExportedImage>();
  for (const out of outputs) {
    if (!('compression' in out) || out.compression === undefined) continue;
    const { convertImage } = await import('../exporter/layer-compression.js');
    const img = await convertImage(store, image, out.compression, opts);
    converted.set(out, img);
    if (out.type !== 'image') continue;
    const target = { mediaType: img.manifest.mediaType ?? MediaType.ociManifest, digest: img.manifestDigest, size: img.manifestSize };
    for (const name of out.names) await store.images.put({ name, target, created: new Date().toISOString() });
  }
  return (out) => converted.get(out) ?? image;
}

async function buildWith(opts: BuildOptions & RegistryAccess, { cwd, emit, outputs, platform, contextDir, contextScan }: Prepared): Promise<BuildResult> {
  const { store, snapshotter } = opts;
  const access = { ...(opts.env ? { env: opts.env } : {}), ...(opts.registries ? { registries: opts.registries } : {}) };
  const bases = baseImages(store, { ...access, pull: opts.pull ?? false, onEvent: registryProgress(emit) });

  let plan: Plan;
  if (opts.llb !== undefined) {
    plan = { definition: opts.llb.definition, config: opts.llb.config ?? emptyConfig(platform), platform, contextDir };
  } else {
    const compiled = await compileBuild({
      context: opts.context,
      cwd,
      ...(opts.file !== undefined ? { file: opts.file } : {}),
      ...(opts.fileName !== undefined ? { fileName: opts.fileName } : {}),
      ...(opts.target !== undefined ? { target: opts.target } : {}),
      ...(opts.buildArgs ? { buildArgs: opts.buildArgs } : {}),
      platform,
      noCache: opts.noCache ?? false,
      resolveImage: bases.resolver,
    });
    for (const message of compiled.warnings) emit({ type: 'warning', message, time: Date.now() });
    plan = { definition: compiled.definition, config: compiled.config, platform: compiled.platform, contextDir: compiled.contextDir };
  }
  if (opts.labels && Object.keys(opts.labels).length) plan.config.config.Labels = { ...plan.config.config.Labels, ...opts.labels };

  // Held from the first step until every output is written, so a concurrent prune or rmi cannot
  // take what the build uses; it ends with this process however that ends.
  const lease = await store.leases.create({ owned: true });
  try {
    const { result } = await solve(
      plan.definition,
      {
        store, snapshotter, lease, root: store.root, contextDir: plan.contextDir,
        ...(contextScan ? { contextScan } : {}),
        secrets: opts.secrets ?? new Map(),
        signal: opts.signal ?? new AbortController().signal,
        platform: plan.platform,
        ensureImage: bases.ensure,
        emit,
      },
      { noCache: opts.noCache ?? false, ...(opts.parallelism !== undefined ? { parallelism: opts.parallelism } : {}) },
    );
    if (outputs.every((o) => o.type === 'cacheonly')) return {};
    const image = await exportImage(store, snapshotter, result.snapshot, {
      config: plan.config,
      names: storeNames(outputs),
      lease,
      ...(opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {}),
      emit,
    });
    const imageOf = await convertedImages(store, image, outputs, { lease, emit });
    // The archive writers (tar-stream and the exporters) load only for outputs besides the store image.
    const archives = outputs.filter((o) => o.type !== 'image' && o.type !== 'cacheonly');
    if (archives.length > 0) {
      const { writeBuildOutputs } = await import('../exporter/build-output.js');
      for (const out of archives) {
        await writeBuildOutputs(store, imageOf(out), [out], {
          stdout: opts.stdout ?? process.stdout,
          ...(opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {}),
          emit,
        });
      }
    }
    for (const name of pushNames(outputs)) await push(store, name, { ...access, onEvent: registryProgress(emit) });
    // As buildx's: the metadata names the image the (first) output wrote.
    const written = imageOf(outputs[0]!);
    return { image: written, metadata: buildMetadata(written, outputNames(outputs)) };
  } finally {
    await store.leases.delete(lease).catch(() => undefined);
  }
}
