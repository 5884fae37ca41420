// `kiln exec`: run a command in a running container.
import path from 'node:path';
import type { Command, CliIO } from '../command.js';
import { InvalidRunFlagError, UsageError, exiting125OnError } from '../errors.js';
import { parseLeadingFlags } from '../leading-flags.js';
import { rootUsage } from '../store-flags.js';
import { envEntry } from '../run-flags.js';
import { callerTerminal, enterRawMode } from '../terminal.js';
import { openContainers } from '../../api/containers.js';
import { execContainer } from '../../api/container-run.js';

const usage = `Usage: kiln exec [OPTIONS] CONTAINER COMMAND [ARG...]

Execute a command in a running container

Options:
  -e, --env K=V        Set an environment variable
  -i, --interactive    Keep STDIN open
  -t, --tty            Allocate a pseudo-TTY
  -u, --user USER      name|uid[:group|gid]
  -w, --workdir DIR    Working directory inside the container
${rootUsage}`;

const options = {
  env: { type: 'string', short: 'e', multiple: true },
  interactive: { type: 'boolean', short: 'i' },
  tty: { type: 'boolean', short: 't' },
  user: { type: 'string', short: 'u' },
  workdir: { type: 'string', short: 'w' },
  root: { type: 'string' },
} as const;

async function run(argv: string[], io: CliIO): Promise<number> {
  let parsed;
  try {
    parsed = parseLeadingFlags(argv, options);
  } catch (err) {
    throw new UsageError((err as Error).message, usage);
  }
  const { values: v, rest } = parsed;
  const [ref, ...args] = rest;
  if (ref === undefined || args.length === 0) throw new UsageError('exec needs a container and a command', usage);
  if (v.workdir !== undefined && !v.workdir.startsWith('/')) throw new InvalidRunFlagError('-w', v.workdir, 'the working directory must be an absolute path');
  const env: string[] = [];
  for (const e of v.env ?? []) {
    const entry = envEntry('-e', e, io.env);
    if (entry !== undefined) env.push(entry);
  }
  const containers = openContainers(v.root ? path.resolve(io.cwd, v.root) : undefined, io.env);
  const terminal = v.tty ? callerTerminal(io.stdout) : undefined;
  const restore = v.tty && v.interactive ? enterRawMode(io.stdin) : () => undefined;
  try {
    return await execContainer(
      containers,
      ref,
      {
        args,
        env,
        ...(v.workdir !== undefined ? { cwd: v.workdir } : {}),
        ...(v.user !== undefined ? { user: v.user } : {}),
        stdin: v.interactive ?? false,
        tty: v.tty ?? false,
      },
      { ...io, ...(terminal ? { terminal } : {}) },
    );
  } finally {
    restore();
    if (v.interactive) io.stdin.pause();
  }
}

export const execCommand: Command = {
  passesArgsThrough: true,
  usage,
  run: exiting125OnError(run),
};
