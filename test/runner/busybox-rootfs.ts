// Test fixture: a throwaway rootfs made of Debian's static busybox, with root, nobody and a test
// user, plus checks that a run left no mounts or cgroups behind.

import { access, chmod, chown, copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const BUSYBOX = '/bin/busybox';

export const busyboxMissing: string | false = await access(BUSYBOX).then(
  () => false,
  () => `${BUSYBOX} is missing: apt-get install -y busybox-static`,
);

const APPLETS = [
  'sh', 'ls', 'cat', 'id', 'hostname', 'ip', 'ps', 'sleep', 'echo', 'touch', 'stat', 'head', 'tail', 'wc',
  'grep', 'kill', 'seq', 'test', 'pwd', 'mkdir', 'tty', 'stty', 'env', 'true', 'false', 'rm', 'sort',
  'tr', 'readlink',
];

export const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
  'tester:x:1000:1000:tester:/home/tester:/bin/sh',
].join('\n') + '\n';

export const GROUP = ['root:x:0:', 'wheel:x:10:root,tester', 'staff:x:50:tester', 'tester:x:1000:', 'nogroup:x:65534:'].join('\n') + '\n';

export interface Fixture {
  /** Temp dir holding the rootfs and anything else a test needs. */
  dir: string;
  rootfs: string;
  cleanup(): Promise<void>;
}

export async function makeRootfs(): Promise<Fixture> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-runner-test-'));
  const rootfs = path.join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'tmp', 'root', 'home/tester']) await mkdir(path.join(rootfs, d), { recursive: true });
  await chmod(path.join(rootfs, 'tmp'), 0o1777);
  await chmod(path.join(rootfs, 'root'), 0o700);
  await chown(path.join(rootfs, 'home/tester'), 1000, 1000);
  await copyFile(BUSYBOX, path.join(rootfs, 'bin/busybox'));
  await chmod(path.join(rootfs, 'bin/busybox'), 0o755);
  for (const a of APPLETS) await symlink('busybox', path.join(rootfs, 'bin', a));
  await writeFile(path.join(rootfs, 'etc/passwd'), PASSWD);
  await writeFile(path.join(rootfs, 'etc/group'), GROUP);
  return { dir, rootfs, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Mount points under `dir` still listed in this (the host's) mount namespace. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').map((l) => l.split(' ')[4] ?? '').filter((mp) => mp === dir || mp.startsWith(`${dir}/`));
}

/** Container cgroups under any hierarchy's kiln/ directory. */
async function kilnCgroups(): Promise<string[]> {
  const found: string[] = [];
  for (const h of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
    for (const base of [path.join('/sys/fs/cgroup', h, 'kiln'), path.join('/sys/fs/cgroup', 'kiln')]) {
      const entries = await readdir(base, { withFileTypes: true }).catch(() => []);
      for (const e of entries) if (e.isDirectory()) found.push(path.join(base, e.name));
    }
  }
  return [...new Set(found)];
}

// Containers of other kiln processes on this machine (a developer's, or another test file's
// detached ones) may hold cgroups now; only the ones that appear during these tests count.
const preexisting = new Set(await kilnCgroups());

/** Container cgroups created since this file was loaded and still there. */
export async function leftoverCgroups(): Promise<string[]> {
  return (await kilnCgroups()).filter((d) => !preexisting.has(d));
}
