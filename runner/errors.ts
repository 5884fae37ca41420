// Errors of the runner room a user or their environment can cause: each has a stable `code` and
// is a UserError, so the CLI prints its message as one line.
import { UserError } from '../errors/kiln-error.js';

/** A container spec that cannot run as given (bad path, bad limit, bad mount). */
export class InvalidContainerSpecError extends UserError {
  readonly code = 'KILN_RUN_INVALID_SPEC';
  constructor(readonly field: string, reason: string) {
    super(`invalid container spec: ${field}: ${reason}`);
    this.name = 'InvalidContainerSpecError';
  }
}

/** `--user`/`USER` naming a user or group the image's /etc/passwd or /etc/group does not have. */
export class UnknownUserError extends UserError {
  readonly code = 'KILN_RUN_UNKNOWN_USER';
  constructor(readonly user: string, detail: string) {
    super(`user ${JSON.stringify(user)}: ${detail}`, { hint: `use a name from the image's /etc/passwd or a numeric uid[:gid]` });
    this.name = 'UnknownUserError';
  }
}

/** The namespace helper binary is not built. */
export class HelperMissingError extends UserError {
  readonly code = 'KILN_RUN_HELPER_MISSING';
  constructor(readonly path: string) {
    super(`the container helper ${path} is missing: build it with \`npm run build:native\``);
    this.name = 'HelperMissingError';
  }
}

/** The helper could not set the container up (a mount, a namespace, a user switch failed). */
export class ContainerSetupError extends UserError {
  readonly code = 'KILN_RUN_SETUP';
  constructor(readonly reason: string) {
    super(`could not start the container: ${reason}`);
    this.name = 'ContainerSetupError';
  }
}

/** A resource limit the machine's cgroups cannot apply. */
export class CgroupError extends UserError {
  readonly code = 'KILN_RUN_CGROUP';
  constructor(detail: string) {
    super(`cgroup limits: ${detail}`);
    this.name = 'CgroupError';
  }
}

/** `kiln run` with neither a command nor an image ENTRYPOINT/CMD to fall back on. */
export class NoCommandError extends UserError {
  readonly code = 'KILN_RUN_NO_COMMAND';
  constructor(readonly image: string) {
    super(`no command specified: image ${image} has no ENTRYPOINT or CMD`, { hint: `give the command after the image name` });
    this.name = 'NoCommandError';
  }
}

/** No container has that name, id or id prefix. */
export class ContainerNotFoundError extends UserError {
  readonly code = 'KILN_CONTAINER_NOT_FOUND';
  constructor(readonly ref: string, root: string) {
    super(`no such container: ${ref} (in ${root})`, { hint: `'kiln ps -a' lists them` });
    this.name = 'ContainerNotFoundError';
  }
}

/** An id prefix that more than one container starts with. */
export class AmbiguousContainerError extends UserError {
  readonly code = 'KILN_CONTAINER_AMBIGUOUS';
  constructor(readonly ref: string, ids: string[]) {
    super(`container id prefix ${ref} matches ${ids.length} containers (${ids.join(', ')})`, { hint: `give more of the id or the name` });
    this.name = 'AmbiguousContainerError';
  }
}

/** `--name` naming a container that exists. */
export class ContainerNameInUseError extends UserError {
  readonly code = 'KILN_CONTAINER_NAME_IN_USE';
  constructor(readonly containerName: string, readonly id: string) {
    super(`the container name "${containerName}" is already in use by container ${id.slice(0, 12)}`, { hint: `remove it ('kiln rm ${containerName}') or choose another --name` });
    this.name = 'ContainerNameInUseError';
  }
}

/** An action that needs the container running (exec, kill) or stopped (rm without -f). */
export class ContainerStateError extends UserError {
  readonly code = 'KILN_CONTAINER_STATE';
  constructor(readonly ref: string, detail: string) {
    super(`container ${ref} ${detail}`);
    this.name = 'ContainerStateError';
  }
}

/** An OCI runtime (`--runtime=runc`) that is missing or failed before the container ran. */
export class RuntimeError extends UserError {
  readonly code = 'KILN_RUN_RUNTIME';
  constructor(readonly runtime: string, detail: string) {
    super(`runtime ${runtime}: ${detail}`);
    this.name = 'RuntimeError';
  }
}

/** `kill -s` naming no signal this machine has. */
export class UnknownSignalError extends UserError {
  readonly code = 'KILN_UNKNOWN_SIGNAL';
  constructor(readonly signal: string) {
    super(`unknown signal "${signal}"`, { hint: `use a name such as SIGTERM, TERM or KILL, or a number` });
    this.name = 'UnknownSignalError';
  }
}

/** Programs of a platform this machine cannot execute (no native support, no usable binfmt_misc handler). */
export class EmulatorMissingError extends UserError {
  readonly code = 'KILN_RUN_EMULATOR_MISSING';
  constructor(readonly host: string, readonly problems: { platform: string; reason: string; fix?: string }[]) {
    const fixes = [...new Set(problems.flatMap((p) => (p.fix ? [p.fix] : [])))];
    super(
      `this ${host} machine cannot run ${problems.map((p) => `${p.platform} programs (${p.reason})`).join(', ')}`,
      fixes.length > 0 ? { hint: `register QEMU for ${fixes.length > 1 ? 'them' : 'it'} with \`kiln setup binfmt --install ${fixes.join(',')}\` (as root)` } : {},
    );
    this.name = 'EmulatorMissingError';
  }
}

/** `kiln setup binfmt` could not register or remove a handler. */
export class BinfmtSetupError extends UserError {
  readonly code = 'KILN_BINFMT_SETUP';
  constructor(detail: string, hint?: string, cause?: unknown) {
    super(detail, { ...(hint !== undefined ? { hint } : {}), ...(cause !== undefined ? { cause } : {}) });
    this.name = 'BinfmtSetupError';
  }
}

/** The interpreters `kiln setup binfmt` registers are Debian's qemu-user-static package's. */
export class QemuMissingError extends UserError {
  readonly code = 'KILN_QEMU_MISSING';
  constructor(readonly arch: string, readonly missing: string) {
    super(`no QEMU emulator for ${arch}: ${missing} is missing`, { hint: 'install it with `apt-get install qemu-user-static`' });
    this.name = 'QemuMissingError';
  }
}
