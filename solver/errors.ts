// Errors of the solver core: a Definition it cannot schedule, and a build step that failed.

/** The Definition's ops do not form a graph the solver can run (dangling input, cycle). */
export class GraphError extends Error {
  readonly code = 'KILN_LLB_GRAPH';
  readonly userFacing = true;
  constructor(message: string) {
    super(`invalid LLB: ${message}`);
    this.name = 'GraphError';
  }
}

export interface FailedStep {
  name: string;
  digest: string;
  /** `Dockerfile:12` when the Definition maps the op to a line. */
  location?: string;
  /** The step's last output lines, oldest first. */
  output: string[];
}

/**
 * A build step failed; the other steps were cancelled and the finished ones stay cached. The
 * message names the step (and its line), says what went wrong, and shows its last output.
 */
export class SolveError extends Error {
  readonly code = 'KILN_BUILD_STEP';
  readonly userFacing = true;
  readonly step: FailedStep;
  constructor(step: FailedStep, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const where = step.location ? ` (${step.location})` : '';
    const tail = step.output.length ? `\n  last output of ${step.name}:\n${step.output.map((l) => `  > ${l}`).join('\n')}` : '';
    // Executors often name the step themselves; saying it twice reads as a different step.
    const what = reason.startsWith(`${step.name}: `) ? reason.slice(step.name.length + 2) : reason;
    super(`${step.name}${where}: ${what}${tail}`, { cause });
    this.name = 'SolveError';
    this.step = step;
  }
}

/** The build was cancelled from outside (Ctrl-C) before it finished. */
export class SolveCancelledError extends Error {
  readonly code = 'KILN_BUILD_CANCELLED';
  readonly userFacing = true;
  constructor() {
    super('build cancelled; finished steps stay cached for the next build');
    this.name = 'SolveCancelledError';
  }
}
