// `build()`: a Dockerfile (or a Definition) and its context become an image in the store and the
// outputs asked for. The whole orchestration: base images from the store or pulled, the solve
// over its snapshots, the export, the outputs and pushes, all under one lease that ends with the process.
import path from 'node:path';
import { MediaType, type ImageConfig, type Platform } from '../oci/image-spec.js';
import type { Snapshotter } from '../snapshotter/snapshots.js';
import type { Store } from '../snapshotter/store.js';
import { normalizeName } from '../snapshotter/image-read.js';
import { solveAll } from '../solver/solve.js';
import type { SolveEvent } from '../solver/types.js';
import { startContextScan } from '../solver/executors/context-files.js';
import { exportImage, type ExportedImage } from '../exporter/image-export.js';
import { exportIndex, type ExportedIndex, type PlatformImage } from '../exporter/image-index.js';
import type { Definition } from '../solver/llb/types.js';
import { emptyConfig } from '../frontend/image-config.js';
import { digestPushNames, parseOutputSpecs, pushNames, storeNames, outputNames, type OutputSpec } from './output-spec.js';
import { buildMetadata, type BuildMetadata } from '../exporter/build-metadata.js';
import { formatPlatform, hostPlatform } from '../oci/platform.js';
import { MultiPlatformError } from './errors.js';
import { baseImages } from './base-images.js';
import { compileBuild } from './compile.js';
import { push, pushByDigest } from './push.js';
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
  /**
   * Several target platforms built at once (instead of `platform`): one image each, solved
   * together so what they share runs once, under an OCI index that the outputs and names get.
   */
  platforms?: Platform[];
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
  /** The image made (of a single-platform build); undefined when every output is `type=cacheonly`. */
  image?: ExportedImage;
  /** What a multi-platform build made: the index and its images. */
  index?: ExportedIndex;
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
  const platforms = [...new Map((opts.platforms ?? [opts.platform ?? hostPlatform()]).map((p) => [formatPlatform(p), p])).values()];
  const contextDir = path.resolve(cwd, opts.context);
  // The context's walk overlaps compiling (not for a Definition, which may read no context).
  const contextScan = opts.llb === undefined ? startContextScan(contextDir) : undefined;
  const { registries, done } = openRegistries(opts);
  try {
    return await buildWith({ ...opts, registries }, { cwd, emit, outputs, platforms, contextDir, contextScan });
  } finally {
    await done();
  }
}

interface Prepared {
  cwd: string;
  emit: (e: BuildEvent) => void;
  outputs: OutputSpec[];
  /** The target platforms, at least one, each once. */
  platforms: Platform[];
  contextDir: string;
  contextScan: ReturnType<typeof startContextScan> | undefined;
}

/** Refuses up front what a multi-platform build cannot honour, before any step runs. */
function checkMultiPlatform(opts: BuildOptions, outputs: readonly OutputSpec[], platforms: readonly Platform[]): void {
  if (platforms.length < 2) return;
  const names = platforms.map(formatPlatform);
  if (opts.llb !== undefined) throw new MultiPlatformError('--llb', names, 'a Definition is compiled for one; give one --platform');
  if (outputs.some((o) => o.type === 'docker')) {
    throw new MultiPlatformError('--output type=docker', names, "a docker archive holds one platform's image; use type=oci,dest=FILE.tar (an OCI layout holds the index), or build one --platform");
  }
  if (outputs.some((o) => 'compression' in o && o.compression !== undefined)) {
    throw new MultiPlatformError('--output compression=…', names, 'layers are converted for one platform\'s build yet; build one --platform, or drop the compression keys');
  }
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

async function buildWith(opts: BuildOptions & RegistryAccess, { cwd, emit, outputs, platforms, contextDir, contextScan }: Prepared): Promise<BuildResult> {
  checkMultiPlatform(opts, outputs, platforms);
  const { store, snapshotter } = opts;
  const access = { ...(opts.env ? { env: opts.env } : {}), ...(opts.registries ? { registries: opts.registries } : {}) };
  const bases = baseImages(store, { ...access, pull: opts.pull ?? false, onEvent: registryProgress(emit) });
  const multi = platforms.length > 1;

  let plans: Plan[];
  if (opts.llb !== undefined) {
    plans = [{ definition: opts.llb.definition, config: opts.llb.config ?? emptyConfig(platforms[0]!), platform: platforms[0]!, contextDir }];
  } else {
    // One compile per target platform; the base images each resolves are looked up once per platform.
    const compiled = await Promise.all(platforms.map((platform) => compileBuild({
      context: opts.context,
      cwd,
      ...(opts.file !== undefined ? { file: opts.file } : {}),
      ...(opts.fileName !== undefined ? { fileName: opts.fileName } : {}),
      ...(opts.target !== undefined ? { target: opts.target } : {}),
      ...(opts.buildArgs ? { buildArgs: opts.buildArgs } : {}),
      platform,
      noCache: opts.noCache ?? false,
      resolveImage: bases.resolver,
      prefixPlatform: multi,
    })));
    // The first platform's warnings stand for all, as BuildKit's frontend reports them.
    for (const message of compiled[0]!.warnings) emit({ type: 'warning', message, time: Date.now() });
    // The index entry names the platform asked for, as BuildKit's exporter does.
    plans = compiled.map((c, i) => ({ definition: c.definition, config: c.config, platform: multi ? platforms[i]! : c.platform, contextDir: c.contextDir }));
  }
  for (const plan of plans) if (opts.labels && Object.keys(opts.labels).length) plan.config.config.Labels = { ...plan.config.config.Labels, ...opts.labels };

  // Held from the first step until every output is written, so a concurrent prune or rmi cannot
  // take what the build uses; it ends with this process however that ends.
  const lease = await store.leases.create({ owned: true });
  try {
    const { results } = await solveAll(
      plans.map((p) => p.definition),
      {
        store, snapshotter, lease, root: store.root, contextDir: plans[0]!.contextDir,
        ...(contextScan ? { contextScan } : {}),
        secrets: opts.secrets ?? new Map(),
        signal: opts.signal ?? new AbortController().signal,
        platform: plans[0]!.platform,
        ensureImage: bases.ensure,
        emit,
      },
      { noCache: opts.noCache ?? false, ...(opts.parallelism !== undefined ? { parallelism: opts.parallelism } : {}) },
    );
    if (outputs.every((o) => o.type === 'cacheonly')) return {};
    const images: PlatformImage[] = [];
    for (const [i, plan] of plans.entries()) {
      const image = await exportImage(store, snapshotter, results[i]!.snapshot, {
        config: plan.config,
        // A multi-platform build's names go to its index.
        names: multi ? [] : storeNames(outputs),
        lease,
        ...(opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {}),
        emit,
      });
      images.push({ ...image, platform: plan.platform });
    }
    const index = multi ? await exportIndex(store, images, { names: storeNames(outputs), lease, emit }) : undefined;
    // One platform's outputs may each ask for other compression (a multi-platform build takes none).
    const imageOf = multi ? () => images[0]! : await convertedImages(store, images[0]!, outputs, { lease, emit });
    const resultFor = (out: OutputSpec) => (multi ? { images, ...(index ? { index: index.descriptor } : {}) } : { images: [{ ...imageOf(out), platform: images[0]!.platform }] });
    // The archive writers (tar-stream and the exporters) load only for outputs besides the store image.
    const archives = outputs.filter((o) => o.type !== 'image' && o.type !== 'cacheonly');
    if (archives.length > 0) {
      const { writeBuildOutputs } = await import('../exporter/build-output.js');
      for (const out of archives) {
        await writeBuildOutputs(store, resultFor(out), [out], {
          stdout: opts.stdout ?? process.stdout,
          ...(opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {}),
          emit,
        });
      }
    }
    // As buildx's: the metadata names the image the (first) output wrote.
    const built = resultFor(outputs[0]!);
    for (const name of pushNames(outputs)) await push(store, name, { ...access, onEvent: registryProgress(emit) });
    const metadata = buildMetadata(built, outputNames(outputs));
    for (const repo of digestPushNames(outputs)) await pushByDigest(store, metadata['containerimage.descriptor'], repo, { ...access, onEvent: registryProgress(emit) });
    return index ? { index, metadata } : { image: imageOf(outputs[0]!), metadata };
  } finally {
    await store.leases.delete(lease).catch(() => undefined);
  }
}
