// Errors of the solver core: a Definition it cannot schedule, and a build step that failed.
import { shorten } from './shorten.js';
import { UserError, type KilnError } from '../errors/kiln-error.js';

/** The Definition's ops do not form a graph the solver can run (dangling input, cycle). */
export class GraphError extends UserError {
  readonly code = 'KILN_LLB_GRAPH';
  constructor(message: string) {
    super(`invalid LLB: ${message}`);
    this.name = 'GraphError';
  }
}

/** The Dockerfile lines a step was made from, as the Definition's source map gives them. */
export interface StepSource {
  filename: string;
  /** The whole file, when the source map carries it (BuildKit's SourceInfo.data). */
  text?: string;
  /** 1-based, inclusive. */
  startLine: number;
  endLine: number;
}

export interface FailedStep {
  name: string;
  digest: string;
  /** `Dockerfile:12` when the Definition maps the op to a line. */
  location?: string;
  source?: StepSource;
  /** The step's last output lines, oldest first. */
  output: string[];
}

/**
 * A build step failed through a user's error (never a bug of kiln's); the other steps were cancelled and the finished ones stay cached. The
 * message is one line: the step, its Dockerfile line and what went wrong. `detail` is the block
 * BuildKit prints above it: the step's last output, then its Dockerfile lines with a `>>>` marker.
 */
export class SolveError extends UserError {
  readonly code = 'KILN_BUILD_STEP';
  readonly step: FailedStep;
  override readonly detail: string;
  constructor(step: FailedStep, cause: KilnError) {
    // The cause's hint stays a hint of this error too, for library callers; the line reads the same.
    const reason = cause.hint === undefined ? cause.message : cause.message.slice(0, -`; ${cause.hint}`.length);
    const where = step.location ? ` (${step.location})` : '';
    // Executors often name the step themselves; saying it twice reads as a different step.
    const named = [`${step.name}: `, `${shorten(step.name)}: `].find((p) => reason.startsWith(p));
    const what = named !== undefined ? reason.slice(named.length) : reason;
    super(`${shorten(step.name)}${where}: ${what}`, cause.hint === undefined ? { cause } : { cause, hint: cause.hint });
    this.name = 'SolveError';
    this.step = step;
    this.detail = outputBlock(step) + (step.source ? sourceExcerpt(step.source) : '');
  }
}

function outputBlock(step: FailedStep): string {
  return ['------', ` > ${shorten(step.name)}:`, ...step.output.map((l) => shorten(l)), '------', ''].join('\n');
}

/** Lines of context around the instruction: two each side for one line, one for a longer one. */
const CONTEXT_ONE_LINE = 2;
const CONTEXT_MULTI_LINE = 1;
const RULE = '--------------------';

/** `Dockerfile:7` and the instruction's lines with their neighbours, the instruction's marked `>>>`. */
export function sourceExcerpt(src: StepSource): string {
  const head = `${src.filename}:${src.startLine}\n`;
  if (src.text === undefined) return head;
  const lines = src.text.replace(/\r?\n$/, '').split(/\r?\n/);
  if (src.startLine < 1 || src.startLine > lines.length) return head;
  const last = Math.min(src.endLine, lines.length);
  const pad = src.startLine === last ? CONTEXT_ONE_LINE : CONTEXT_MULTI_LINE;
  const from = Math.max(1, src.startLine - pad);
  const to = Math.min(lines.length, last + pad);
  const width = Math.max(3, String(to).length);
  const body: string[] = [];
  for (let n = from; n <= to; n++) {
    const mark = n >= src.startLine && n <= last ? '>>>' : '   ';
    body.push(` ${String(n).padStart(width)} | ${mark} ${shorten(lines[n - 1] ?? '')}`.trimEnd());
  }
  return [head + RULE, ...body, RULE, ''].join('\n');
}

/** The build was cancelled from outside (Ctrl-C) before it finished. */
export class SolveCancelledError extends UserError {
  readonly code = 'KILN_BUILD_CANCELLED';
  constructor() {
    super('build cancelled; finished steps stay cached for the next build');
    this.name = 'SolveCancelledError';
  }
}
