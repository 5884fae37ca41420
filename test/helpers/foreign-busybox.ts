// An arm64 busybox base image for the multi-platform tests: Debian's busybox-static for arm64,
// whose .deb `.ci/setup` downloads (it cannot be installed next to the amd64 one).
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, runKiln } from './kiln-cli.js';

const run = promisify(execFile);
const debDir = '/var/cache/kiln-test';

/** The downloaded arm64 busybox-static .deb, or undefined when `.ci/setup` has not fetched it. */
export function arm64BusyboxDeb(): string | undefined {
  const name = (() => {
    try {
      return readdirSync(debDir).find((f) => /^busybox-static_.*_arm64\.deb$/.test(f));
    } catch {
      return undefined;
    }
  })();
  return name === undefined ? undefined : path.join(debDir, name);
}

/** Why the arm64 tests cannot run here, or false when they can (for `test(..., { skip })`). */
export function arm64Missing(): string | false {
  return arm64BusyboxDeb() === undefined ? `no arm64 busybox-static .deb in ${debDir}: run .ci/setup` : false;
}

/**
 * Makes an arm64 busybox rootfs tar in `dir` and imports it into the store at `root` as `ref`
 * with platform linux/arm64; returns the tar's path.
 */
export async function importArm64Busybox(dir: string, root: string, ref = 'kiln.local/busybox-arm64:latest', env?: NodeJS.ProcessEnv): Promise<string> {
  const deb = arm64BusyboxDeb();
  if (deb === undefined) throw new Error(arm64Missing() as string);
  const unpacked = path.join(dir, 'busybox-arm64-deb');
  await run('dpkg-deb', ['-x', deb, unpacked]);
  const rootfs = path.join(dir, 'rootfs-arm64.tar');
  await run('bash', [path.join(repoRoot, 'examples/make-busybox-rootfs.sh'), rootfs], { env: { ...process.env, BUSYBOX: path.join(unpacked, 'bin/busybox') } });
  const imported = await runKiln(['import', rootfs, ref, '--platform', 'linux/arm64', '--root', root], { ...(env ? { env } : {}) });
  if (imported.code !== 0) throw new Error(`kiln import of arm64 busybox failed: ${imported.stderr}`);
  return rootfs;
}
