// What the compiler knows about a stage while it walks its instructions: filesystem state,
// image config, declared ARGs, shell; and expansion of words against that scope.
import type { ImageConfig, Platform } from '../oci/image-spec.js';
import type { State } from '../solver/llb/builder.js';
import type { SourceRange } from './instructions.js';
import type { Stage } from './stages.js';
import { ShellLexer, type EnvLookup } from './expand.js';
import { DockerfileError } from './errors.js';
import { isUserError } from '../errors/kiln-error.js';

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
  /**
   * The environment RUN and word expansion see, in BuildKit's order: the base's env, then every
   * ENV and every ARG with a value as they come, the latest assignment of a name moved last.
   * The image config's Env holds ENV only.
   */
  env: [string, string][];
  shell: string[];
  /** Set once CMD appears in this stage: ENTRYPOINT then keeps it (Docker's rule). */
  cmdSet: boolean;
  /** Build args the stage read (for the unused --build-arg warning). */
  usedBuildArgs: Set<string>;
}

/** The latest ENV or ARG assignment of a name wins, as in BuildKit. */
export function stageLookup(s: StageState): EnvLookup {
  return (name) => {
    for (let i = s.env.length - 1; i >= 0; i--) if (s.env[i]![0] === name) return s.env[i]![1];
    return undefined;
  };
}

export function assignEnv(s: StageState, key: string, value: string): void {
  s.env = s.env.filter(([k]) => k !== key);
  s.env.push([key, value]);
}

/** `K=V` entries of an image config's Env as pairs. */
export function envPairs(env: string[] | undefined): [string, string][] {
  return (env ?? []).map((e) => {
    const eq = e.indexOf('=');
    return eq < 0 ? [e, ''] : [e.slice(0, eq), e.slice(eq + 1)];
  });
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

  /** A user's bad word (an ExpansionError) gets the instruction's line; anything else is a bug and goes on as it is. */
  private guard<T>(at: SourceRange, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof DockerfileError || !isUserError(err)) throw err;
      throw new DockerfileError(this.file, at.startLine, err.message);
    }
  }
}
