// `kiln build`: reads docker/buildx flags into the library's build() (a Dockerfile or, with
// --llb, a Definition; the context from a folder or stdin), renders its progress and writes
// --iidfile and --metadata-file.
import { parseArgs } from 'node:util';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CliIO, Command } from '../command.js';
import { UsageError } from '../errors.js';
import { buildFlagOptions, readBuildFlags } from '../build-flags.js';
import { openSnapshots, openStore, rootUsage, snapshotterFlagOptions, snapshotterUsage, storeFlagOptions } from '../store-flags.js';
import { createProgress, PROGRESS_MODES, type ProgressMode } from '../progress.js';
import { rawjsonWarning } from '../progress-rawjson.js';
import { build, buildOutputs, readSecrets, type BuildOptions } from '../../api/index.js';

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
      --platform P[,P…]    target platforms, e.g. linux/amd64,linux/arm64 (default: this machine's);
                           several make one image each under an OCI index, built together
      --no-cache           do not use cached steps
      --secret id=ID,src=PATH|env=VAR
                           expose a secret to RUN --mount=type=secret (repeatable)
      --label K=V          set an image label (repeatable)
      --progress MODE      auto, tty, plain, rawjson or quiet (default: auto)
  -q, --quiet              no progress output (--progress quiet): stdout gets only the digest
  -o, --output SPEC        where the result goes (repeatable), as buildx:
                             type=image[,name=N[,N…]]    the local store (the default, under the -t names)
                             type=image,push=true        the store, and pushed to the names' registries
                             type=registry[,name=N]      the same (buildx's shorthand)
                             type=oci,dest=FILE.tar      an OCI layout tar (dest=- for stdout)
                             type=docker,dest=FILE.tar   a docker save tar (docker load reads it)
                             type=local,dest=DIR         the root filesystem into DIR (shorthand: -o DIR)
                             type=tar,dest=FILE.tar      the root filesystem as one tar (-o - for stdout)
                             type=cacheonly              nothing but the build cache
                           archives are named by name= or else the -t names; with --output, only
                           type=image outputs record the image in the store
      --iidfile FILE       write the image ID (its config digest) to FILE
      --metadata-file FILE write buildx's build metadata (containerimage.digest, …) as JSON to FILE
      --pull               resolve base image tags at their registries even when the store has them
      --push               push the image to the registries of the -t names (--output type=registry)
      --llb FILE.pb        build a pb.Definition ('kiln debug llb --format pb', '-' = stdin) instead
                           of a Dockerfile; CONTEXT (default: .) serves its local sources
      --llb-config FILE    the image config for --llb (an image config JSON or 'kiln debug llb'
                           output; default: empty but for the platform)
      --parallelism N      run at most N steps at once (default: the number of cores)
${rootUsage}
${snapshotterUsage}

Base images come from the local store when it has them and are pulled otherwise (credentials
from ~/.docker/config.json; mirrors and plain-HTTP hosts from kiln's config file, see README);
SOURCE_DATE_EPOCH, when set, is the image's creation time and clamps file times in its layers.`;

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

/** The bytes of --llb or --llb-config: a file, or stdin for '-'. */
async function readInput(file: string, flag: string, io: CliIO): Promise<Buffer> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    return Buffer.concat(chunks);
  }
  try {
    return await readFile(path.resolve(io.cwd, file));
  } catch (err) {
    throw new UsageError(`${flag} ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

export const buildCommand: Command = {
  usage,
  async run(argv, io) {
    // Temp dirs a build made from stdin, removed whatever happens.
    const cleanups: (() => Promise<void>)[] = [];
    try {
      return await runBuild(argv, io, cleanups);
    } finally {
      for (const c of cleanups) await c();
    }
  },
};

async function runBuild(argv: string[], io: CliIO, cleanups: (() => Promise<void>)[]): Promise<number> {
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
      push: { type: 'boolean' },
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
  if (values.quiet && values.progress !== undefined && values.progress !== 'quiet') throw new UsageError(`--quiet and --progress=${values.progress} disagree; give one of them`, usage);
  const mode = (values.quiet ? 'quiet' : values.progress ?? 'auto') as ProgressMode;
  if (!PROGRESS_MODES.includes(mode)) throw new UsageError(`--progress=${values.progress}: use ${PROGRESS_MODES.join(', ')}`, usage);
  let parallelism: number | undefined;
  if (values.parallelism !== undefined) {
    parallelism = Number(values.parallelism);
    if (!Number.isInteger(parallelism) || parallelism < 1) throw new UsageError(`--parallelism=${values.parallelism}: expected a whole number of at least 1`, usage);
  }
  const labels = parseLabels(values.label ?? []);
  const secrets = await readSecrets(values.secret ?? [], { cwd: io.cwd, env: io.env });
  const sourceDateEpoch = parseEpoch(io.env);
  const outputs = buildOutputs([...(values.output ?? []), ...(values.push ? ['type=registry'] : [])], values.tag ?? [], io.cwd);
  const toStdout = outputs.some((o) => 'dest' in o && o.dest === '-');
  if (toStdout && (io.stdout as { isTTY?: boolean }).isTTY) throw new UsageError('refusing to write an archive to a terminal; redirect stdout or give the output a dest=FILE', usage);

  const store = await openStore(values, io);
  const source: Pick<BuildOptions, 'context' | 'file' | 'fileName' | 'llb'> = { context: flags.context };
  if (llbFile !== undefined) {
    // Imported only when asked for: it costs every other build its load time.
    const { decodeDefinition, decodeImageConfig } = await import('../../api/llb-input.js');
    const configFile = values['llb-config'];
    source.llb = {
      definition: decodeDefinition(await readInput(llbFile, '--llb', io), llbFile === '-' ? 'stdin' : llbFile),
      ...(configFile !== undefined ? { config: decodeImageConfig((await readInput(configFile, '--llb-config', io)).toString('utf8'), configFile) } : {}),
    };
  } else {
    // `kiln build -` reads the context (or a lone Dockerfile) from stdin; `-f -` the Dockerfile.
    if (flags.context === '-' && flags.file === '-') throw new UsageError('stdin can hold the context or the Dockerfile, not both', usage);
    const fromStdin = flags.context === '-' || flags.file === '-' ? await (await import('../stdin-context.js')).readStdinInput(io.stdin) : undefined;
    if (fromStdin) {
      cleanups.push(fromStdin.cleanup);
      source.fileName = 'Dockerfile';
      if (flags.context === '-') source.context = fromStdin.dir;
    }
    const file = flags.file === '-' ? path.join(fromStdin!.dir, 'Dockerfile') : flags.file;
    if (file !== undefined) source.file = file;
  }

  const snapshotter = await openSnapshots(values, io, store);
  const progress = createProgress(mode, io.stderr as CliIO['stderr'] & { isTTY?: boolean });
  // Ctrl-C cancels the running steps, which release their mounts before the process exits.
  const ctrl = new AbortController();
  const onSignal = (): void => ctrl.abort();
  // `on`, not `once`: the mount registry's own handler re-raises the signal (killing the process
  // before the steps are cancelled) when it finds itself the only listener left.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const { image, index, metadata } = await build({
      store,
      snapshotter,
      ...source,
      cwd: io.cwd,
      ...(flags.target !== undefined ? { target: flags.target } : {}),
      buildArgs: flags.buildArgs,
      platforms: flags.platforms,
      noCache: flags.noCache,
      secrets,
      labels,
      outputs,
      pull: values.pull ?? false,
      env: io.env,
      ...(sourceDateEpoch !== undefined ? { sourceDateEpoch } : {}),
      ...(parallelism !== undefined ? { parallelism } : {}),
      signal: ctrl.signal,
      stdout: io.stdout,
      onEvent: (e) => {
        if (e.type !== 'warning') progress.event(e);
        else io.stderr.write(mode === 'rawjson' ? rawjsonWarning(e.message) : `warning: ${e.message}\n`);
      },
    });
    progress.close();
    if (image === undefined && index === undefined) return 0;
    // A multi-platform image has no one config: its ID is the index's digest, as buildx writes it.
    const digest = index?.descriptor.digest ?? image!.manifestDigest;
    if (values.iidfile !== undefined) await writeFile(path.resolve(io.cwd, values.iidfile), image?.configDigest ?? digest);
    const metadataFile = values['metadata-file'];
    if (metadataFile !== undefined) await writeFile(path.resolve(io.cwd, metadataFile), JSON.stringify(metadata, null, 2) + '\n');
    // stdout carries the archive when an output streams there; the digest would corrupt it.
    if (!toStdout) io.stdout.write(digest + '\n');
    return 0;
  } finally {
    progress.close();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
