// The shape every `kiln <command>` implements; main.ts dispatches on the name.
import type { Writable } from 'node:stream';

export interface CliIO {
  stdout: Writable;
  stderr: Writable;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface Command {
  name: string;
  /** One line for `kiln --help`. */
  summary: string;
  /** The usage block printed for `kiln <name> --help` and after a flag error. */
  usage: string;
  run(argv: string[], io: CliIO): Promise<number>;
}
