// Entry point of the `kiln` command: picks the subcommand and presents errors.
import type { CliIO } from './command.js';
import { renderError } from './errors.js';
import { commands, type CommandEntry } from './commands/index.js';

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `Usage: kiln COMMAND [OPTIONS]\n\nA daemonless container image builder.\n\nCommands:\n${lines.join('\n')}\n\nRun 'kiln COMMAND --help' for more on a command.\n`;
}

export async function main(argv: string[], io: CliIO = defaultIO()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(help());
    return name === undefined ? 1 : 0;
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
    io.stderr.write(renderError(err));
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
