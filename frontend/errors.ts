// The error a user gets for a Dockerfile kiln cannot read: where (file:line), what is wrong, what to do.
// Callers branch on `code`, never on the message. Also the other user errors of the frontend's inputs.
import { UserError } from '../errors/kiln-error.js';

export const DockerfileErrorCode = {
  /** Any other problem found while reading or compiling the Dockerfile. */
  parse: 'KILN_DOCKERFILE_PARSE',
  /** A directive at the top of the file is malformed or repeated. */
  directive: 'KILN_DOCKERFILE_DIRECTIVE',
  /** The file holds no instruction at all. */
  empty: 'KILN_DOCKERFILE_EMPTY',
  /** An instruction name that Dockerfiles do not have. */
  unknownInstruction: 'KILN_DOCKERFILE_UNKNOWN_INSTRUCTION',
  /** An unknown, repeated or badly valued `--flag`. */
  flag: 'KILN_DOCKERFILE_FLAG',
  /** A `RUN --mount=...` value that cannot be used. */
  mount: 'KILN_DOCKERFILE_MOUNT',
  /** A heredoc that is never terminated or is used where it cannot be. */
  heredoc: 'KILN_DOCKERFILE_HEREDOC',
  /** Missing, extra or malformed arguments of an instruction. */
  args: 'KILN_DOCKERFILE_ARGS',
  /** FROM missing or misplaced, or a bad or repeated stage name. */
  stage: 'KILN_DOCKERFILE_STAGE',
} as const;

export type DockerfileErrorCodeValue = (typeof DockerfileErrorCode)[keyof typeof DockerfileErrorCode];

export class DockerfileError extends UserError {
  /**
   * @param line 1-based line the problem is on; 0 when it concerns the whole file.
   * @param what what is wrong and, where it helps, what to do; without the location prefix.
   */
  constructor(
    readonly file: string,
    readonly line: number,
    what: string,
    readonly code: DockerfileErrorCodeValue = DockerfileErrorCode.parse,
  ) {
    super(line > 0 ? `${file}:${line}: ${what}` : `${file}: ${what}`);
    this.name = 'DockerfileError';
  }
}

/** A build input that cannot be used: a missing context folder or an unreadable Dockerfile. */
export class BuildInputError extends UserError {
  readonly code = 'KILN_BUILD_INPUT';
  constructor(message: string) {
    super(message);
    this.name = 'BuildInputError';
  }
}

/** A malformed `--build-arg`. */
export class BuildArgError extends UserError {
  readonly code = 'KILN_BUILD_ARG';
  constructor(message: string) {
    super(message);
    this.name = 'BuildArgError';
  }
}

/** A `kiln import --change` value is not one of the instructions import accepts, or is malformed. */
export class ImportChangeError extends UserError {
  readonly code = 'KILN_IMPORT_CHANGE';
  constructor(readonly change: string, detail: string) {
    super(`--change '${change}': ${detail}`);
    this.name = 'ImportChangeError';
  }
}
