// The shape every `kiln <command>` implements; commands/index.ts names them and main.ts dispatches.
import type { Writable } from 'node:stream';

export interface CliIO {
  stdout: Writable;
  stderr: Writable;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface Command {
  /** The usage block printed for `kiln <name> --help` and after a flag error. */
  usage: string;
  /** True when arguments after the first positional are a command line of their own (run, exec). */
  passesArgsThrough?: boolean;
  run(argv: string[], io: CliIO): Promise<number>;
}
