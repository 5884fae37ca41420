// Errors of the runner room a user or their environment can cause: each has a stable `code` and
// `userFacing = true`, so the CLI prints its message as one line.

/** A container spec that cannot run as given (bad path, bad limit, bad mount). */
export class InvalidContainerSpecError extends Error {
  readonly code = 'KILN_RUN_INVALID_SPEC';
  readonly userFacing = true;
  constructor(readonly field: string, reason: string) {
    super(`invalid container spec: ${field}: ${reason}`);
    this.name = 'InvalidContainerSpecError';
  }
}

/** `--user`/`USER` naming a user or group the image's /etc/passwd or /etc/group does not have. */
export class UnknownUserError extends Error {
  readonly code = 'KILN_RUN_UNKNOWN_USER';
  readonly userFacing = true;
  constructor(readonly user: string, detail: string) {
    super(`user ${JSON.stringify(user)}: ${detail}; use a name from the image's /etc/passwd or a numeric uid[:gid]`);
    this.name = 'UnknownUserError';
  }
}

/** The namespace helper binary is not built. */
export class HelperMissingError extends Error {
  readonly code = 'KILN_RUN_HELPER_MISSING';
  readonly userFacing = true;
  constructor(readonly path: string) {
    super(`the container helper ${path} is missing: build it with \`npm run build:native\``);
    this.name = 'HelperMissingError';
  }
}

/** The helper could not set the container up (a mount, a namespace, a user switch failed). */
export class ContainerSetupError extends Error {
  readonly code = 'KILN_RUN_SETUP';
  readonly userFacing = true;
  constructor(readonly reason: string) {
    super(`could not start the container: ${reason}`);
    this.name = 'ContainerSetupError';
  }
}

/** A resource limit the machine's cgroups cannot apply. */
export class CgroupError extends Error {
  readonly code = 'KILN_RUN_CGROUP';
  readonly userFacing = true;
  constructor(detail: string) {
    super(`cgroup limits: ${detail}`);
    this.name = 'CgroupError';
  }
}

/** `kiln run` with neither a command nor an image ENTRYPOINT/CMD to fall back on. */
export class NoCommandError extends Error {
  readonly code = 'KILN_RUN_NO_COMMAND';
  readonly userFacing = true;
  constructor(readonly image: string) {
    super(`no command specified: image ${image} has no ENTRYPOINT or CMD; give the command after the image name`);
    this.name = 'NoCommandError';
  }
}

/** No container has that name, id or id prefix. */
export class ContainerNotFoundError extends Error {
  readonly code = 'KILN_CONTAINER_NOT_FOUND';
  readonly userFacing = true;
  constructor(readonly ref: string, root: string) {
    super(`no such container: ${ref} (in ${root}); 'kiln ps -a' lists them`);
    this.name = 'ContainerNotFoundError';
  }
}

/** An id prefix that more than one container starts with. */
export class AmbiguousContainerError extends Error {
  readonly code = 'KILN_CONTAINER_AMBIGUOUS';
  readonly userFacing = true;
  constructor(readonly ref: string, ids: string[]) {
    super(`container id prefix ${ref} matches ${ids.length} containers (${ids.join(', ')}); give more of the id or the name`);
    this.name = 'AmbiguousContainerError';
  }
}

/** `--name` naming a container that exists. */
export class ContainerNameInUseError extends Error {
  readonly code = 'KILN_CONTAINER_NAME_IN_USE';
  readonly userFacing = true;
  constructor(readonly containerName: string, readonly id: string) {
    super(`the container name "${containerName}" is already in use by container ${id.slice(0, 12)}; remove it ('kiln rm ${containerName}') or choose another --name`);
    this.name = 'ContainerNameInUseError';
  }
}

/** An action that needs the container running (exec, kill) or stopped (rm without -f). */
export class ContainerStateError extends Error {
  readonly code = 'KILN_CONTAINER_STATE';
  readonly userFacing = true;
  constructor(readonly ref: string, detail: string) {
    super(`container ${ref} ${detail}`);
    this.name = 'ContainerStateError';
  }
}

/** An OCI runtime (`--runtime=runc`) that is missing or failed before the container ran. */
export class RuntimeError extends Error {
  readonly code = 'KILN_RUN_RUNTIME';
  readonly userFacing = true;
  constructor(readonly runtime: string, detail: string) {
    super(`runtime ${runtime}: ${detail}`);
    this.name = 'RuntimeError';
  }
}

/** `kill -s` naming no signal this machine has. */
export class UnknownSignalError extends Error {
  readonly code = 'KILN_UNKNOWN_SIGNAL';
  readonly userFacing = true;
  constructor(readonly signal: string) {
    super(`unknown signal "${signal}"; use a name such as SIGTERM, TERM or KILL, or a number`);
    this.name = 'UnknownSignalError';
  }
}
