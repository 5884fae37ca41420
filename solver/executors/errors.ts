// Errors a build step can raise that a user can fix: a missing secret, a COPY
// source that does not exist, a RUN that failed. Each carries a stable `code`.
import { shorten } from '../shorten.js';
import { UserError } from '../../errors/kiln-error.js';

export class UnsupportedOpError extends UserError {
  readonly code = 'KILN_UNSUPPORTED_OP';
  constructor(what: string, hint: string) {
    super(`${what} is not supported by kiln yet`, { hint });
    this.name = 'UnsupportedOpError';
  }
}

export class LocalSourceError extends UserError {
  readonly code = 'KILN_LOCAL_SOURCE';
  constructor(message: string) {
    super(message);
    this.name = 'LocalSourceError';
  }
}

/** A COPY/ADD source that is missing or matches nothing, or a destination it cannot write. */
export class CopyError extends UserError {
  readonly code = 'KILN_COPY';
  constructor(step: string, message: string) {
    super(`${step}: ${message}`);
    this.name = 'CopyError';
  }
}

/** mkdir, mkfile, rm and symlink actions (WORKDIR, heredoc files, …) that cannot be carried out. */
export class FileActionError extends UserError {
  readonly code = 'KILN_FILE_ACTION';
  constructor(step: string, message: string) {
    super(`${step}: ${message}`);
    this.name = 'FileActionError';
  }
}

export class UnknownOwnerError extends UserError {
  readonly code = 'KILN_UNKNOWN_OWNER';
  constructor(step: string, kind: 'user' | 'group', name: string, file: string) {
    super(`${step}: unable to find ${kind} ${name}: no matching entries in ${file} of the destination`, { hint: `use a numeric id or create the ${kind} first` });
    this.name = 'UnknownOwnerError';
  }
}

export class InvalidModeError extends UserError {
  readonly code = 'KILN_INVALID_MODE';
  constructor(step: string, mode: string) {
    super(`${step}: invalid --chmod value "${mode}": expected octal (0755) or symbolic (u+x,g-w,o=r)`);
    this.name = 'InvalidModeError';
  }
}

export class ArchiveEscapeError extends UserError {
  readonly code = 'KILN_ARCHIVE_ESCAPE';
  constructor(step: string, archive: string, entry: string) {
    super(`${step}: archive ${archive} has an entry "${entry}" that would land outside the destination; kiln refuses to extract it`);
    this.name = 'ArchiveEscapeError';
  }
}

export class ProcessFailedError extends UserError {
  readonly code = 'KILN_PROCESS_FAILED';
  constructor(step: string, readonly args: string[], readonly exitCode: number, signal?: string, oomKilled?: boolean) {
    const why = oomKilled ? ' (killed: out of memory)' : signal ? ` (killed by ${signal})` : '';
    super(`${shorten(step)}: process "${shorten(args.join(' '))}" did not complete successfully: exit code: ${exitCode}${why}`);
    this.name = 'ProcessFailedError';
  }
}

export class SecretMissingError extends UserError {
  readonly code = 'KILN_SECRET_MISSING';
  constructor(step: string, id: string) {
    super(`${step}: secret "${id}" was not provided`, { hint: `pass it with --secret id=${id},src=FILE (or mark the mount required=false)` });
    this.name = 'SecretMissingError';
  }
}

/** An ADD of a URL that cannot be fetched: unreachable host, an HTTP error status, a timeout. */
export class HttpSourceError extends UserError {
  readonly code = 'KILN_HTTP_SOURCE';
  constructor(step: string, readonly url: string, what: string) {
    super(`${step}: cannot fetch ${url}: ${what}`);
    this.name = 'HttpSourceError';
  }
}

export class HttpChecksumMismatchError extends UserError {
  readonly code = 'KILN_HTTP_CHECKSUM';
  constructor(step: string, readonly url: string, readonly expected: string, readonly actual: string) {
    super(`${step}: the content of ${url} does not match --checksum: expected ${expected}, got ${actual}`, { hint: `fix the checksum or the URL` });
    this.name = 'HttpChecksumMismatchError';
  }
}

/** A RUN --mount whose source path is not in what it mounts (or is a symlink to nothing there). */
export class MountSourceError extends UserError {
  readonly code = 'KILN_MOUNT_SOURCE';
  constructor(step: string, source: string) {
    super(`${step}: --mount source "${source}" is not in what it mounts (or is a symlink to something that is not there)`, { hint: 'check the source= path against the build context or the stage it comes from' });
    this.name = 'MountSourceError';
  }
}
