// Reads /proc/self/mountinfo, so tests can prove what is (and is no longer) mounted.
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  /** Per-mount options (rw/ro, relatime…). */
  options: string[];
  /** The filesystem's own options (overlay: lowerdir=…, redirect_dir=…). */
  superOptions: string[];
}

/** mountinfo writes space, tab, newline and backslash as octal escapes. */
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export async function mounts(): Promise<MountEntry[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => {
      const [left = '', right = ''] = line.split(' - ');
      const f = left.split(' ');
      const [fsType = '', , superOptions = ''] = right.split(' ');
      return {
        mountPoint: unescape(f[4] ?? ''),
        fsType,
        options: (f[5] ?? '').split(','),
        superOptions: superOptions.split(','),
      };
    });
}

/** Mounts at or below `dir`. */
export async function mountsUnder(dir: string): Promise<MountEntry[]> {
  const base = path.resolve(dir);
  return (await mounts()).filter((m) => m.mountPoint === base || m.mountPoint.startsWith(base + '/'));
}
