// What the compiler knows about a stage while it walks its instructions: filesystem state,
// image config, declared ARGs, shell; and expansion of words against that scope.
import type { ImageConfig, Platform } from '../snapshotter/oci.js';
import type { State } from '../solver/llb/builder.js';
import type { Stage, SourceRange } from './instructions.js';
import { ShellLexer, type EnvLookup } from './expand.js';
import { DockerfileError } from './errors.js';
import { getEnv } from './image-config.js';

export interface StageState {
  stage: Stage;
  /** `name` in progress names like `[name 2/5] RUN make`. */
  label: string;
  /** Position of the instruction being compiled (FROM is 1) and the stage's count. */
  step: number;
  steps: number;
  state: State;
  config: ImageConfig;
  platform: Platform;
  /** ARGs declared in this stage, in order; undefined = declared without a value. */
  args: Map<string, string | undefined>;
  shell: string[];
  /** Set once CMD appears in this stage: ENTRYPOINT then keeps it (Docker's rule). */
  cmdSet: boolean;
  /** Build args the stage read (for the unused --build-arg warning). */
  usedBuildArgs: Set<string>;
}

/** ENV wins over ARG of the same name, as the Dockerfile reference says. */
export function stageLookup(s: StageState): EnvLookup {
  return (name) => getEnv(s.config, name) ?? s.args.get(name);
}

/** Expands words for one instruction and turns expansion failures into Dockerfile errors. */
export class Expander {
  private readonly lexer: ShellLexer;
  constructor(escape: '\\' | '`', private readonly file: string) {
    this.lexer = new ShellLexer(escape);
  }

  word(text: string, env: EnvLookup, at: SourceRange): string {
    return this.guard(at, () => this.lexer.processWord(text, env).value);
  }

  words(text: string, env: EnvLookup, at: SourceRange): string[] {
    return this.guard(at, () => this.lexer.processWords(text, env).values);
  }

  private guard<T>(at: SourceRange, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof DockerfileError) throw err;
      throw new DockerfileError(this.file, at.startLine, (err as Error).message);
    }
  }
}
