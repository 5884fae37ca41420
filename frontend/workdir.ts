// The working directory as BuildKit records it: WORKDIR's normalisation, and the RUN mount
// targets that resolve against it.
import { cleanPath } from '../patterns/clean-path.js';

const isAbsolute = (p: string) => p.startsWith('/');

/**
 * The WorkingDir after `WORKDIR wd` from `current`: an absolute `wd` is kept as written (so
 * `/usr/src/` keeps its slash, as BuildKit writes it), a relative one is joined to the current
 * directory and cleaned; an empty one leaves the current directory.
 */
export function normalizeWorkdir(current: string | undefined, wd: string): string {
  const parent = current && isAbsolute(current) ? current : cleanPath(`/${current ?? ''}`);
  if (wd === '') return parent;
  return isAbsolute(wd) ? wd : cleanPath(`${parent}/${wd}`);
}

/** A RUN mount's target: an absolute one as written, a relative (or missing) one under the working directory. */
export function mountTarget(workdir: string | undefined, target: string): string {
  return isAbsolute(target) ? target : cleanPath(`/${workdir ?? ''}/${target}`);
}
