// `kiln build`: compiles a Dockerfile, solves it over the store's snapshots with progress, and
// stores the result as an image under its -t names.
import { parseArgs } from 'node:util';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CliIO, Command } from '../command.js';
import { UsageError } from '../errors.js';
import { buildFlagOptions, readBuildFlags } from '../build-flags.js';
import { openSnapshots, openStore, rootUsage, snapshotterFlagOptions, snapshotterUsage, storeFlagOptions } from '../store-flags.js';
import { createProgress, PROGRESS_MODES, type ProgressMode } from '../progress.js';
import { readBuildInput } from '../../frontend/build-input.js';
import { parseDockerfile } from '../../frontend/dockerfile.js';
import { compileDockerfile, type ImageResolver } from '../../frontend/compile.js';
import { hostPlatform } from '../../registry/platform.js';
import { resolveImage } from '../../snapshotter/image-read.js';
import { ImageNotFoundError } from '../../snapshotter/errors.js';
import type { Store } from '../../snapshotter/store.js';
import { solve } from '../../solver/solve.js';
import { exportImage } from '../../solver/export-image.js';

const usage = `Usage: kiln build [OPTIONS] CONTEXT

Build an image from a Dockerfile and the files in CONTEXT, store it under its -t names and print
its manifest digest.

Options:
  -f, --file PATH          Dockerfile (default: CONTEXT/Dockerfile)
  -t, --tag NAME[:TAG]     name the image (repeatable)
      --build-arg K=V      set a build-time variable (repeatable; K alone takes it from the environment)
      --target STAGE       build this stage (default: the last)
      --platform P         target platform, e.g. linux/amd64 (default: this machine's)
      --no-cache           do not use cached steps
      --secret id=ID,src=PATH|env=VAR
                           expose a secret to RUN --mount=type=secret (repeatable)
      --label K=V          set an image label (repeatable)
      --progress MODE      auto, tty, plain or rawjson (default: auto)
      --iidfile FILE       write the image ID (its config digest) to FILE
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

/** FROM images resolve through the local store, pinned to what the name points at now. */
function storeResolver(store: Store): ImageResolver {
  return async (ref, platform) => {
    try {
      const img = await resolveImage(store, ref, platform);
      return { ref: `${img.name.replace(/@sha256:[a-f0-9]{64}$/, '')}@${img.record.target.digest}`, config: img.config };
    } catch (err) {
      if (err instanceof ImageNotFoundError) throw new BaseImageNotFoundError(ref, store.root);
      throw err;
    }
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
  name: 'build',
  summary: 'Build an image from a Dockerfile',
  usage,
  async run(argv, io) {
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
        progress: { type: 'string', default: 'auto' },
        iidfile: { type: 'string' },
        parallelism: { type: 'string' },
      },
    });
    const flags = readBuildFlags(values, positionals, io.env, usage);
    if (flags.platforms.length !== 1) throw new UsageError('kiln build makes one platform at a time for now; pass a single --platform', usage);
    const mode = values.progress as ProgressMode;
    if (!PROGRESS_MODES.includes(mode)) throw new UsageError(`--progress=${values.progress}: use ${PROGRESS_MODES.join(', ')}`, usage);
    let parallelism: number | undefined;
    if (values.parallelism !== undefined) {
      parallelism = Number(values.parallelism);
      if (!Number.isInteger(parallelism) || parallelism < 1) throw new UsageError(`--parallelism=${values.parallelism}: expected a whole number of at least 1`, usage);
    }
    const labels = parseLabels(values.label ?? []);
    const secrets = await readSecrets(values.secret ?? [], io);
    const sourceDateEpoch = parseEpoch(io.env);

    const input = await readBuildInput(flags.context, flags.file, io.cwd);
    const df = parseDockerfile(input.text, input.displayName);
    const store = await openStore(values, io);
    const compiled = await compileDockerfile(df, {
      file: input.displayName,
      ...(flags.target !== undefined ? { target: flags.target } : {}),
      buildArgs: flags.buildArgs,
      targetPlatform: flags.platforms[0]!,
      buildPlatform: hostPlatform(),
      ignorePatterns: input.ignorePatterns,
      resolveImage: storeResolver(store),
      noCache: flags.noCache,
    });
    for (const w of compiled.warnings) io.stderr.write(`warning: ${w}\n`);
    if (Object.keys(labels).length) compiled.config.config.Labels = { ...compiled.config.config.Labels, ...labels };

    const snapshotter = await openSnapshots(values, io, store);
    const progress = createProgress(mode, io.stderr as CliIO['stderr'] & { isTTY?: boolean });
    // Ctrl-C cancels the running steps, which release their mounts before the process exits.
    const ctrl = new AbortController();
    const onSignal = (): void => ctrl.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const { result } = await solve(
        compiled.definition,
        { store, snapshotter, root: store.root, contextDir: input.contextDir, secrets, signal: ctrl.signal, platform: compiled.platform, emit: (e) => progress.event(e) },
        { noCache: flags.noCache, ...(parallelism !== undefined ? { parallelism } : {}) },
      );
      const image = await exportImage(store, snapshotter, result, {
        config: compiled.config,
        names: values.tag ?? [],
        ...(sourceDateEpoch !== undefined ? { sourceDateEpoch } : {}),
        emit: (e) => progress.event(e),
      });
      progress.close();
      if (values.iidfile !== undefined) await writeFile(path.resolve(io.cwd, values.iidfile), image.configDigest);
      io.stdout.write(image.manifestDigest + '\n');
      return 0;
    } finally {
      progress.close();
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
  },
};
