// `kiln run`: create a container from an image and run it, in the foreground or detached (-d).
import { readFile } from 'node:fs/promises';
import type { Command, CliIO } from '../command.js';
import { InvalidRunFlagError, UsageError, exiting125OnError } from '../errors.js';
import { parseLeadingFlags } from '../leading-flags.js';
import { openSnapshots, openStore, rootUsage, snapshotterUsage } from '../store-flags.js';
import { envEntry, parseBytes, parseEnvFile, parseNumber, parseSecurityOpts, parseTmpfs, parseVolume } from '../run-flags.js';
import { callerTerminal, enterRawMode } from '../terminal.js';
import { VALID_NAME } from '../../api/containers.js';
import { parsePlatform } from '../../api/vocabulary.js';
import { runContainer, type ContainerLimits, type RunOptions } from '../../api/container-run.js';
import { ensureRunImage, parsePullPolicy } from '../../api/run-image.js';
import { pullLines } from '../pull-lines.js';

const usage = `Usage: kiln run [OPTIONS] IMAGE [COMMAND] [ARG...]

Create and run a new container from an image

Options:
      --cpu-shares N     CPU shares (relative weight)
      --cpus C           Number of CPUs
  -d, --detach           Run in the background and print the container ID
      --entrypoint E     Overwrite the image's ENTRYPOINT (and drop its CMD)
  -e, --env K=V          Set an environment variable (K alone passes kiln's value)
      --env-file F       Read environment variables from a file
      --hostname H       Container host name
      --init             Run an init as PID 1 that forwards signals and reaps processes
  -i, --interactive      Keep STDIN open
      --memory M         Memory limit (512m, 1g)
      --memory-swap M    Memory plus swap limit; -1 for unlimited swap
      --name N           Name the container
      --network N        host (default) or none
      --pids-limit N     Limit the number of processes (-1 for unlimited)
      --platform P       The image's platform (an index's entry; a foreign one runs through QEMU)
      --pull P           Pull the image before running: missing (default; when the store
                         lacks it), always, never
      --rm               Remove the container when it exits
      --runtime R        kiln (default, kiln's own helper) or runc
      --security-opt O   no-new-privileges[=true|false] (default false); seccomp=unconfined
                         (default: Docker's default seccomp filter)
      --tmpfs DST[:OPT]  Mount a tmpfs
  -t, --tty              Allocate a pseudo-TTY
  -u, --user USER        name|uid[:group|gid]
  -v, --volume SRC:DST[:ro]  Bind mount a host path
  -w, --workdir DIR      Working directory inside the container
${rootUsage}
${snapshotterUsage}

Exit status: the command's own, 125 when kiln fails, 126/127 when the command cannot be run.`;

const options = {
  snapshotter: { type: 'string' },
  'cpu-shares': { type: 'string' },
  cpus: { type: 'string' },
  detach: { type: 'boolean', short: 'd' },
  entrypoint: { type: 'string' },
  env: { type: 'string', short: 'e', multiple: true },
  'env-file': { type: 'string', multiple: true },
  hostname: { type: 'string' },
  init: { type: 'boolean' },
  interactive: { type: 'boolean', short: 'i' },
  memory: { type: 'string', short: 'm' },
  'memory-swap': { type: 'string' },
  name: { type: 'string' },
  network: { type: 'string' },
  'pids-limit': { type: 'string' },
  platform: { type: 'string' },
  pull: { type: 'string' },
  rm: { type: 'boolean' },
  runtime: { type: 'string' },
  'security-opt': { type: 'string', multiple: true },
  tmpfs: { type: 'string', multiple: true },
  tty: { type: 'boolean', short: 't' },
  user: { type: 'string', short: 'u' },
  volume: { type: 'string', short: 'v', multiple: true },
  workdir: { type: 'string', short: 'w' },
  root: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseLeadingFlags<typeof options>>['values'];

function limitsFrom(v: Values): ContainerLimits {
  return {
    ...(v.memory !== undefined ? { memory: parseBytes('--memory', v.memory) } : {}),
    ...(v['memory-swap'] !== undefined ? { memorySwap: parseBytes('--memory-swap', v['memory-swap'], true) } : {}),
    ...(v.cpus !== undefined ? { cpus: parseNumber('--cpus', v.cpus, false) } : {}),
    ...(v['cpu-shares'] !== undefined ? { cpuShares: parseNumber('--cpu-shares', v['cpu-shares'], true) } : {}),
    ...(v['pids-limit'] !== undefined ? { pidsLimit: parseNumber('--pids-limit', v['pids-limit'], true) } : {}),
  };
}

async function envFrom(v: Values, io: CliIO): Promise<string[]> {
  const out: string[] = [];
  for (const file of v['env-file'] ?? []) {
    const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new InvalidRunFlagError('--env-file', file, `cannot read it (${e.code ?? e.message})`);
    });
    out.push(...parseEnvFile(text, file, io.env));
  }
  for (const e of v.env ?? []) {
    const entry = envEntry('-e', e, io.env);
    if (entry !== undefined) out.push(entry);
  }
  return out;
}

async function run(argv: string[], io: CliIO): Promise<number> {
  let parsed;
  try {
    parsed = parseLeadingFlags(argv, options);
  } catch (err) {
    throw new UsageError((err as Error).message, usage);
  }
  const { values: v, rest } = parsed;
  const [image, ...cmd] = rest;
  if (image === undefined) throw new UsageError('run needs an image', usage);
  if (v.name !== undefined && !VALID_NAME.test(v.name)) {
    throw new InvalidRunFlagError('--name', v.name, 'only [a-zA-Z0-9][a-zA-Z0-9_.-]* are allowed');
  }
  const network = v.network ?? 'host';
  if (network !== 'host' && network !== 'none') throw new InvalidRunFlagError('--network', network, 'use host or none');
  const runtime = v.runtime ?? 'kiln';
  if (runtime !== 'kiln' && runtime !== 'runc') throw new InvalidRunFlagError('--runtime', runtime, 'use kiln or runc');

  const pullPolicy = parsePullPolicy(v.pull ?? 'missing');
  const platform = v.platform !== undefined ? parsePlatform(v.platform) : undefined;

  const store = await openStore(v, io);
  const lines = pullLines(io.stderr);
  await ensureRunImage(store, image, {
    pull: pullPolicy,
    env: io.env,
    onMissing: (ref) => io.stderr.write(`Unable to find image '${ref}' locally\n`),
    onEvent: (e) => lines.event(e),
    ...(platform ? { platform } : {}),
  }).finally(() => lines.close());
  const snapshotter = await openSnapshots(v, io, store);
  const spec: RunOptions = {
    image,
    ...(platform ? { platform } : {}),
    ...(v.name !== undefined ? { name: v.name } : {}),
    command: { cmd, ...(v.entrypoint !== undefined ? { entrypoint: v.entrypoint } : {}) },
    env: await envFrom(v, io),
    ...(v.workdir !== undefined ? { cwd: v.workdir } : {}),
    ...(v.user !== undefined ? { user: v.user } : {}),
    ...(v.hostname !== undefined ? { hostname: v.hostname } : {}),
    network,
    mounts: [...(v.volume ?? []).map((s) => parseVolume(s, io.cwd)), ...(v.tmpfs ?? []).map(parseTmpfs)],
    limits: limitsFrom(v),
    tty: v.tty ?? false,
    stdin: v.interactive ?? false,
    init: v.init ?? false,
    ...parseSecurityOpts(v['security-opt'] ?? []),
    runtime,
    autoRemove: v.rm ?? false,
  };
  const terminal = v.tty && !v.detach ? callerTerminal(io.stdout) : undefined;
  // As docker: keys go to the container's pty untouched only when they are forwarded at all (-i).
  const foregroundInput = v.interactive === true && !v.detach;
  const restore = v.tty && foregroundInput ? enterRawMode(io.stdin) : () => undefined;
  try {
    const outcome = await runContainer(store, snapshotter, { ...spec, detach: v.detach ?? false }, {
      stdout: (c) => io.stdout.write(c),
      stderr: (c) => io.stderr.write(c),
      ...(foregroundInput ? { stdin: io.stdin } : {}),
      ...(terminal ? { terminal } : {}),
    });
    if (!outcome.detached) return outcome.exitCode;
    io.stdout.write(outcome.id + '\n');
    return 0;
  } finally {
    restore();
    if (foregroundInput) io.stdin.pause();
  }
}

export const runCommand: Command = {
  passesArgsThrough: true,
  usage,
  run: exiting125OnError(run),
};
