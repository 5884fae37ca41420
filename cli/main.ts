// Entry point of the `kiln` command: picks the subcommand and presents errors.
import type { CliIO } from './command.js';
import path from 'node:path';
import { renderError, UsageError } from './errors.js';
import { commands, type CommandEntry } from './commands/index.js';

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return (
    `Usage: kiln [OPTIONS] COMMAND [OPTIONS]\n\nA daemonless container image builder.\n\n` +
    `Options:\n${GLOBAL_USAGE}\n\nCommands:\n${lines.join('\n')}\n\nRun 'kiln COMMAND --help' for more on a command.\n`
  );
}

const GLOBAL_USAGE = [
  '      --root DIR           Image store directory for every command (as $KILN_ROOT)',
  '  -D, --debug              Print the full stack of every error',
  '  -l, --log-level LEVEL    debug, info, warn, error or fatal (debug = --debug)',
].join('\n');

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'];

interface GlobalFlags {
  root?: string;
  debug: boolean;
}

/** Docker-style flags before the command (`kiln --root D images`); returns them and the rest of argv. */
function globalFlags(argv: string[]): { flags: GlobalFlags; rest: string[] } {
  const flags: GlobalFlags = { debug: false };
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new UsageError(`flag ${name} needs a value`, help());
      return v;
    };
    if (name === '--root') flags.root = value();
    else if (name === '-D' || name === '--debug') flags.debug = true;
    else if (name === '-l' || name === '--log-level') {
      const level = value();
      if (!LOG_LEVELS.includes(level)) throw new UsageError(`--log-level: "${level}" is not one of ${LOG_LEVELS.join(', ')}`, help());
      if (level === 'debug') flags.debug = true;
    } else break;
  }
  return { flags, rest: argv.slice(i) };
}

export async function main(argv: string[], io: CliIO = defaultIO()): Promise<number> {
  let parsed: ReturnType<typeof globalFlags>;
  try {
    parsed = globalFlags(argv);
  } catch (err) {
    io.stderr.write(renderError(err));
    return 2;
  }
  const { flags } = parsed;
  // The store flag reaches every command as the variable they all read.
  if (flags.root !== undefined) io = { ...io, env: { ...io.env, KILN_ROOT: path.resolve(io.cwd, flags.root) } };
  const [name, ...rest] = parsed.rest;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(help());
    return 0;
  }
  // `kiln debug llb` style two-word commands are registered under their full name.
  const entry: CommandEntry | undefined =
    commands.find((c) => c.name === `${name} ${rest[0]}`) ?? commands.find((c) => c.name === name);
  if (!entry) {
    io.stderr.write(`error: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  const args = entry.name.includes(' ') ? rest.slice(1) : rest;
  const cmd = await entry.load();
  // For commands that take a command line (`kiln run IMAGE CMD --help`) a help flag after the
  // first positional belongs to that command line, not to kiln.
  const helpAt = args.findIndex((a) => a === '--help' || a === '-h');
  const firstPositional = args.findIndex((a) => !a.startsWith('-'));
  if (helpAt >= 0 && (firstPositional < 0 || helpAt < firstPositional || !cmd.passesArgsThrough)) {
    io.stdout.write(cmd.usage + '\n');
    return 0;
  }
  try {
    return await cmd.run(args, io);
  } catch (err) {
    io.stderr.write(flags.debug && err instanceof Error ? `${err.stack ?? err.message}\n` : renderError(err));
    return 1;
  }
}

function defaultIO(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    // Opening stdin costs a few milliseconds, and most commands never read it.
    get stdin() {
      return process.stdin;
    },
    env: process.env,
    cwd: process.cwd(),
  };
}
