// `kiln build`: compiles a Dockerfile (or reads a Definition with --llb), solves it over the
// store's snapshots with progress, and stores the result under its -t names or writes its --outputs.
import { parseArgs } from 'node:util';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CliIO, Command } from '../command.js';
import { UsageError } from '../errors.js';
import { buildFlagOptions, compileBuild, readBuildFlags } from '../build-flags.js';
import { openSnapshots, openStore, rootUsage, snapshotterFlagOptions, snapshotterUsage, storeFlagOptions } from '../store-flags.js';
import { createProgress, PROGRESS_MODES, type ProgressMode } from '../progress.js';
import { rawjsonWarning } from '../progress-rawjson.js';
import { readBuildInput } from '../../frontend/build-input.js';
import type { ImageResolver } from '../../frontend/compile.js';
import { formatPlatform } from '../../registry/platform.js';
import { resolveImage } from '../../snapshotter/image-read.js';
import { ImageNotFoundError } from '../../snapshotter/errors.js';
import type { Store } from '../../snapshotter/store.js';
import { solve } from '../../solver/solve.js';
import { startContextScan } from '../../solver/executors/context-files.js';
import { exportImage } from '../../solver/export-image.js';
import type { Definition } from '../../solver/llb/types.js';
import type { ImageConfig, Platform } from '../../snapshotter/oci.js';
import { normalizeName } from '../../snapshotter/image-read.js';
import { emptyConfig } from '../../frontend/image-config.js';
import { outputNames, parseOutputSpecs, storeNames } from '../../exporter/output-spec.js';

const usage = `Usage: kiln build [OPTIONS] CONTEXT|-
       kiln build --llb FILE.pb [OPTIONS] [CONTEXT]

Build an image from a Dockerfile and the files in CONTEXT, store it under its -t names (or write
it where --output says) and print its manifest digest. With CONTEXT '-', stdin holds a tar of
the context (plain or compressed) or just a Dockerfile (then the context is empty).

Options:
  -f, --file PATH          Dockerfile (default: CONTEXT/Dockerfile; '-' reads it from stdin)
  -t, --tag NAME[:TAG]     name the image (repeatable)
      --build-arg K=V      set a build-time variable (repeatable; K alone takes it from the environment)
      --target STAGE       build this stage (default: the last)
      --platform P         target platform, e.g. linux/amd64 (default: this machine's)
      --no-cache           do not use cached steps
      --secret id=ID,src=PATH|env=VAR
                           expose a secret to RUN --mount=type=secret (repeatable)
      --label K=V          set an image label (repeatable)
      --progress MODE      auto, tty, plain, rawjson or quiet (default: auto)
  -q, --quiet              no progress output (--progress quiet): stdout gets only the digest
  -o, --output SPEC        where the result goes (repeatable), as buildx:
                             type=image[,name=N[,N…]]    the local store (the default, under the -t names)
                             type=oci,dest=FILE.tar      an OCI layout tar (dest=- for stdout)
                             type=docker,dest=FILE.tar   a docker save tar (docker load reads it)
                             type=local,dest=DIR         the root filesystem into DIR (shorthand: -o DIR)
                             type=tar,dest=FILE.tar      the root filesystem as one tar (-o - for stdout)
                             type=cacheonly              nothing but the build cache
                           archives are named by name= or else the -t names; with --output, only
                           type=image outputs record the image in the store
      --iidfile FILE       write the image ID (its config digest) to FILE
      --metadata-file FILE write buildx's build metadata (containerimage.digest, …) as JSON to FILE
      --pull               pull base images first (not supported yet: fails naming them)
      --llb FILE.pb        build a pb.Definition ('kiln debug llb --format pb', '-' = stdin) instead
                           of a Dockerfile; CONTEXT (default: .) serves its local sources
      --llb-config FILE    the image config for --llb (an image config JSON or 'kiln debug llb'
                           output; default: empty but for the platform)
      --parallelism N      run at most N steps at once (default: the number of cores)
${rootUsage}
${snapshotterUsage}

Base images come from the local store (kiln import, kiln load); SOURCE_DATE_EPOCH, when set, is
the image's creation time and clamps file times in its layers.`;

/** A FROM image that is not in the store; kiln does not pull from registries yet. */
export class BaseImageNotFoundError extends Error {
  readonly code = 'KILN_BASE_IMAGE_NOT_FOUND';
  readonly userFacing = true;
  constructor(readonly ref: string, root: string) {
    super(`base image "${ref}" is not in the store at ${root}; kiln does not pull from registries yet: add it with 'kiln import ROOTFS.tar ${ref}' or 'kiln load -i IMAGE.tar'`);
    this.name = 'BaseImageNotFoundError';
  }
}

/** `--pull` asks for a registry client kiln does not have yet; the error names what it would pull. */
export class PullNotSupportedError extends Error {
  readonly code = 'KILN_PULL_UNSUPPORTED';
  readonly userFacing = true;
  constructor(readonly refs: string[]) {
    super(`--pull: kiln cannot pull images from registries yet (this build would pull ${refs.join(', ')}); drop --pull to build from the images in the store (kiln import, kiln load)`);
    this.name = 'PullNotSupportedError';
  }
}

/** What a build solves and the config its image gets, from a Dockerfile or from --llb. */
interface BuildPlan {
  definition: Definition;
  config: ImageConfig;
  platform: Platform;
  contextDir: string;
}

/**
 * FROM images resolve through the local store, pinned to what the name points at now; each name
 * once per build, since stages often share a base (the frontend clones the config it gets).
 */
function storeResolver(store: Store): ImageResolver {
  const resolved = new Map<string, ReturnType<ImageResolver>>();
  const resolve: ImageResolver = async (ref, platform) => {
    try {
      const img = await resolveImage(store, ref, platform);
      return { ref: `${img.name.replace(/@sha256:[a-f0-9]{64}$/, '')}@${img.record.target.digest}`, config: img.config };
    } catch (err) {
      if (err instanceof ImageNotFoundError) throw new BaseImageNotFoundError(ref, store.root);
      throw err;
    }
  };
  return (ref, platform) => {
    const key = `${ref} ${formatPlatform(platform)}`;
    let p = resolved.get(key);
    if (!p) resolved.set(key, (p = resolve(ref, platform)));
    return p;
  };
}

async function readSecrets(specs: string[], io: CliIO): Promise<Map<string, Buffer>> {
  const secrets = new Map<string, Buffer>();
  for (const spec of specs) {
    const fields = new Map<string, string>();
    for (const part of spec.split(',')) {
      const eq = part.indexOf('=');
      if (eq <= 0) throw new UsageError(`--secret ${spec}: '${part}' is not KEY=VALUE; use id=ID,src=PATH or id=ID,env=VAR`);
      fields.set(part.slice(0, eq).trim(), part.slice(eq + 1));
    }
    const id = fields.get('id');
    if (!id) throw new UsageError(`--secret ${spec}: no id; use id=ID,src=PATH or id=ID,env=VAR`);
    const src = fields.get('src') ?? fields.get('source');
    const type = fields.get('type') ?? (src !== undefined ? 'file' : 'env');
    if (type === 'file') {
      if (src === undefined) throw new UsageError(`--secret ${spec}: type=file needs src=PATH`);
      try {
        secrets.set(id, await readFile(path.resolve(io.cwd, src)));
      } catch (err) {
        throw new UsageError(`--secret ${spec}: cannot read ${src} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    } else if (type === 'env') {
      // As buildx: without env=, the variable is named like the secret.
      const name = fields.get('env') ?? id;
      const value = io.env[name];
      if (value === undefined) throw new UsageError(`--secret ${spec}: environment variable ${name} is not set`);
      secrets.set(id, Buffer.from(value));
    } else {
      throw new UsageError(`--secret ${spec}: type=${type} is not known; use type=file or type=env`);
    }
  }
  return secrets;
}

function parseLabels(specs: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new UsageError(`--label ${spec}: expected KEY=VALUE`);
    labels[spec.slice(0, eq)] = spec.slice(eq + 1);
  }
  return labels;
}

function parseEpoch(env: NodeJS.ProcessEnv): number | undefined {
  const v = env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`SOURCE_DATE_EPOCH=${v}: expected whole seconds since 1970`);
  return Number(v);
}

export const buildCommand: Command = {
  usage,
  async run(argv, io) {
    // Temp dirs a build made from stdin, removed whatever happens.
    const cleanups: (() => Promise<void>)[] = [];
    try {
      return await build(argv, io, cleanups);
    } finally {
      for (const c of cleanups) await c();
    }
  },
};

async function build(argv: string[], io: CliIO, cleanups: (() => Promise<void>)[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...buildFlagOptions,
      ...storeFlagOptions,
      ...snapshotterFlagOptions,
      tag: { type: 'string', short: 't', multiple: true },
      secret: { type: 'string', multiple: true },
      label: { type: 'string', multiple: true },
      progress: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      iidfile: { type: 'string' },
      parallelism: { type: 'string' },
      output: { type: 'string', short: 'o', multiple: true },
      'metadata-file': { type: 'string' },
      pull: { type: 'boolean' },
      llb: { type: 'string' },
      'llb-config': { type: 'string' },
    },
  });
  const llbFile = values.llb;
  if (llbFile !== undefined) {
    const dockerfileFlags = (['file', 'target', 'build-arg'] as const).filter((f) => values[f] !== undefined);
    if (dockerfileFlags.length) throw new UsageError(`--llb replaces the Dockerfile: drop ${dockerfileFlags.map((f) => `--${f}`).join(', ')}`, usage);
    if (llbFile === '-' && values['llb-config'] === '-') throw new UsageError('--llb and --llb-config cannot both read stdin; give one of them a file', usage);
  } else if (values['llb-config'] !== undefined) {
    throw new UsageError('--llb-config goes with --llb FILE.pb', usage);
  }
  // With --llb the context is optional: a Definition without local sources reads none.
  const flags = readBuildFlags(values, llbFile !== undefined && positionals.length === 0 ? ['.'] : positionals, io.env, usage);
  // The context's walk starts now and overlaps compiling (not for a context from stdin, which is
  // not unpacked yet, nor for --llb's implicit '.', which its Definition may never read).
  const contextScan = flags.context !== '-' && positionals.length > 0 ? startContextScan(path.resolve(io.cwd, flags.context)) : undefined;
  if (flags.platforms.length !== 1) throw new UsageError('kiln build makes one platform at a time for now; pass a single --platform', usage);
  if (values.quiet && values.progress !== undefined && values.progress !== 'quiet') throw new UsageError(`--quiet and --progress=${values.progress} disagree; give one of them`, usage);
  const mode = (values.quiet ? 'quiet' : values.progress ?? 'auto') as ProgressMode;
  if (!PROGRESS_MODES.includes(mode)) throw new UsageError(`--progress=${values.progress}: use ${PROGRESS_MODES.join(', ')}`, usage);
  let parallelism: number | undefined;
  if (values.parallelism !== undefined) {
    parallelism = Number(values.parallelism);
    if (!Number.isInteger(parallelism) || parallelism < 1) throw new UsageError(`--parallelism=${values.parallelism}: expected a whole number of at least 1`, usage);
  }
  const labels = parseLabels(values.label ?? []);
  const secrets = await readSecrets(values.secret ?? [], io);
  const sourceDateEpoch = parseEpoch(io.env);
  const outputs = parseOutputSpecs(values.output ?? [], { tags: values.tag ?? [], cwd: io.cwd, normalize: normalizeName });
  const toStdout = outputs.some((o) => 'dest' in o && o.dest === '-');
  if (toStdout && (io.stdout as { isTTY?: boolean }).isTTY) throw new UsageError('refusing to write an archive to a terminal; redirect stdout or give the output a dest=FILE', usage);

  const store = await openStore(values, io);
  let plan: BuildPlan;
  if (llbFile !== undefined) {
    // Imported here and below only when asked for: each costs every build its load time.
    const { readLlbConfig, readLlbFile } = await import('../llb-input.js');
    const platform = flags.platforms[0]!;
    plan = {
      definition: await readLlbFile(llbFile, io),
      config: values['llb-config'] !== undefined ? await readLlbConfig(values['llb-config'], io) : emptyConfig(platform),
      platform,
      contextDir: path.resolve(io.cwd, flags.context),
    };
  } else {
    // `kiln build -` reads the context (or a lone Dockerfile) from stdin; `-f -` the Dockerfile.
    if (flags.context === '-' && flags.file === '-') throw new UsageError('stdin can hold the context or the Dockerfile, not both', usage);
    const fromStdin = flags.context === '-' || flags.file === '-' ? await (await import('../stdin-context.js')).readStdinInput(io.stdin) : undefined;
    if (fromStdin) cleanups.push(fromStdin.cleanup);
    const contextArg = flags.context === '-' ? fromStdin!.dir : flags.context;
    const fileArg = flags.file === '-' ? path.join(fromStdin!.dir, 'Dockerfile') : flags.file;
    const input = await readBuildInput(contextArg, fileArg, io.cwd);
    if (fromStdin) input.displayName = 'Dockerfile';
    // With --pull the store is not asked: the images are named, unpinned, for the error below.
    const compiled = await compileBuild(input, flags, values.pull ? undefined : storeResolver(store));
    for (const w of compiled.warnings) io.stderr.write(mode === 'rawjson' ? rawjsonWarning(w) : `warning: ${w}\n`);
    plan = { definition: compiled.definition, config: compiled.config, platform: compiled.platform, contextDir: input.contextDir };
  }
  if (values.pull) {
    const refs = (await import('../llb-input.js')).sourceImages(plan.definition);
    if (refs.length) throw new PullNotSupportedError(refs);
  }
  if (Object.keys(labels).length) plan.config.config.Labels = { ...plan.config.config.Labels, ...labels };

  const snapshotter = await openSnapshots(values, io, store);
  const progress = createProgress(mode, io.stderr as CliIO['stderr'] & { isTTY?: boolean });
  // Ctrl-C cancels the running steps, which release their mounts before the process exits.
  const ctrl = new AbortController();
  const onSignal = (): void => ctrl.abort();
  // `on`, not `once`: the mount registry's own handler re-raises the signal (killing the process
  // before the steps are cancelled) when it finds itself the only listener left.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Held from the first step until every output is written, so a concurrent prune or rmi cannot
  // take what the build uses; it ends with this process however that ends.
  const lease = await store.leases.create({ owned: true });
  try {
    const { result } = await solve(
      plan.definition,
      { store, snapshotter, lease, root: store.root, contextDir: plan.contextDir, ...(contextScan ? { contextScan } : {}), secrets, signal: ctrl.signal, platform: plan.platform, emit: (e) => progress.event(e) },
      { noCache: flags.noCache, ...(parallelism !== undefined ? { parallelism } : {}) },
    );
    if (outputs.every((o) => o.type === 'cacheonly')) return 0;
    const image = await exportImage(store, snapshotter, result, {
      config: plan.config,
      names: storeNames(outputs),
      lease,
      ...(sourceDateEpoch !== undefined ? { sourceDateEpoch } : {}),
      emit: (e) => progress.event(e),
    });
    // The archive writers (tar-stream and the exporters) load only for outputs besides the store image.
    if (outputs.some((o) => o.type !== 'image' && o.type !== 'cacheonly')) {
      await (await import('../../exporter/build-output.js')).writeBuildOutputs(store, image, outputs, {
        stdout: io.stdout,
        ...(sourceDateEpoch !== undefined ? { sourceDateEpoch } : {}),
        emit: (e) => progress.event(e),
      });
    }
    progress.close();
    if (values.iidfile !== undefined) await writeFile(path.resolve(io.cwd, values.iidfile), image.configDigest);
    const metadataFile = values['metadata-file'];
    if (metadataFile !== undefined) {
      const { buildMetadata } = await import('../../exporter/build-output.js');
      await writeFile(path.resolve(io.cwd, metadataFile), JSON.stringify(buildMetadata(image, outputNames(outputs)), null, 2) + '\n');
    }
    // stdout carries the archive when an output streams there; the digest would corrupt it.
    if (!toStdout) io.stdout.write(image.manifestDigest + '\n');
    return 0;
  } finally {
    await store.leases.delete(lease).catch(() => undefined);
    progress.close();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

