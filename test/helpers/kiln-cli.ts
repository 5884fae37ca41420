// Runs the real `bin/kiln.js` in a child process, as a user would.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist/test/<room>/, sources stay in the tree). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const kilnBin = path.join(repoRoot, 'bin', 'kiln.js');

export interface CliResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export function runKiln(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: Buffer | string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [kilnBin, ...args], { cwd: opts.cwd ?? repoRoot, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * Makes the offline busybox rootfs in `dir` (rootfs.tar, Debian's busybox-static) and imports it
 * into the store at `root` as kiln.local/busybox:latest; returns the tar's path.
 */
export async function importBusybox(dir: string, root: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const rootfs = path.join(dir, 'rootfs.tar');
  await new Promise<void>((resolve, reject) =>
    spawn('bash', [path.join(repoRoot, 'examples/make-busybox-rootfs.sh'), rootfs], { stdio: 'ignore' }).on('error', reject).on('close', (code) => (code === 0 ? resolve() : reject(new Error(`make-busybox-rootfs.sh exited ${code}`)))),
  );
  const imported = await runKiln(['import', rootfs, 'kiln.local/busybox:latest', '--root', root], { ...(env ? { env } : {}) });
  if (imported.code !== 0) throw new Error(`kiln import of busybox failed: ${imported.stderr}`);
  return rootfs;
}
