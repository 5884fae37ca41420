// What every dispatch function needs from the compiler: expansion, ARG scopes, sources, errors.
import type { Output, OpOptions, State } from '../solver/llb/builder.js';
import type { SourceRange } from './instructions.js';
import type { Expander, StageState } from './stage-state.js';

export interface CompileContext {
  file: string;
  expand: Expander;
  buildArgs: Map<string, string>;
  /** Values of the ARGs declared before the first FROM. */
  globalArgs: Map<string, string | undefined>;
  /** TARGETPLATFORM, BUILDARCH, ...: a stage sees them once it declares them with ARG. */
  platformArgs: Map<string, string>;
  /** Op options for an instruction of stage `s`: its platform, progress name, cache policy. */
  opOptions(s: StageState, what: string): OpOptions;
  /** The build context as a local source, reading only `include` when given. */
  context(include?: string[]): Output;
  /** `--from=` of COPY and RUN --mount: a stage name (or for COPY, `byNumber`, its index), else an image reference. */
  resolveFrom(ref: string, s: StageState, at: SourceRange, flag: string, byNumber: boolean): Promise<State>;
  fail(at: SourceRange, what: string): never;
  /** A warning the build prints, naming the Dockerfile line. */
  warn(at: SourceRange, what: string): void;
}
