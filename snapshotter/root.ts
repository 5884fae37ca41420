// Where the store lives: the --root flag, else $KILN_ROOT, else /var/lib/kiln.
import path from 'node:path';

export const DEFAULT_ROOT = '/var/lib/kiln';

/** The absolute store root; an empty flag or variable counts as unset. */
export function resolveRoot(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return path.resolve(flag || env.KILN_ROOT || DEFAULT_ROOT);
}
