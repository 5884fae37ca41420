// What the image config and the caller's overrides make of a container's command line, by
// Docker's rules: the ENTRYPOINT/CMD combination and the environment (image Env, then overrides).

import type { ContainerConfig } from '../oci/image-spec.js';
import { NoCommandError } from './errors.js';

export interface CommandOverrides {
  /** `--entrypoint`: replaces the image's ENTRYPOINT and drops its CMD; '' clears the ENTRYPOINT. */
  entrypoint?: string;
  /** What followed the image name: replaces the image's CMD. */
  cmd: string[];
}

/**
 * The argv to exec. ENTRYPOINT and CMD are stored as arrays whatever form the Dockerfile used (the
 * shell form is already `/bin/sh -c "…"`), so combining them is concatenation; a shell-form
 * ENTRYPOINT then ignores CMD by itself, as `sh -c` only runs its first argument.
 */
export function containerArgs(image: Pick<ContainerConfig, 'Entrypoint' | 'Cmd'>, o: CommandOverrides, imageName: string): string[] {
  let entrypoint = image.Entrypoint ?? [];
  let cmd = image.Cmd ?? [];
  if (o.entrypoint !== undefined) {
    // Docker: a new entrypoint resets CMD, since the image's CMD was written for the old one.
    entrypoint = o.entrypoint === '' ? [] : [o.entrypoint];
    cmd = [];
  }
  if (o.cmd.length > 0) cmd = o.cmd;
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw new NoCommandError(imageName);
  return args;
}




/** `base` with each of `overrides` replacing the entry of the same key in place, or appended. */
export function mergeEnv(base: string[], overrides: string[]): string[] {
  const out = [...base];
  const keyOf = (e: string) => e.slice(0, e.indexOf('=') < 0 ? e.length : e.indexOf('='));
  for (const e of overrides) {
    const i = out.findIndex((x) => keyOf(x) === keyOf(e));
    if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out;
}
