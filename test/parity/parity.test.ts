// Image parity with `docker build` (BuildKit v0.34.2), one case folder per behaviour: each case
// is built for real with kiln on a busybox base, and the image is compared with what BuildKit
// gives for the same Dockerfile (written down in the case's expected.json).
//
// A case folder holds:
// - Dockerfile (FROM kiln.local/busybox; BuildKit's runs used 127.0.0.1:5000/busybox, the same rootfs)
// - base.Dockerfile (optional): built first (same context and flags) and tagged kiln.local/<case>-base,
//   for cases about what a base image from the store carries (BuildKit's runs pushed it to
//   127.0.0.1:5000/<case>-base); the Dockerfile then starts FROM kiln.local/<case>-base
// - context/ (optional): the build context; setup.sh (optional) runs in it first, for what git
//   cannot hold (directory modes, FIFOs, hard links)
// - expected.json: see Expected below. Every key is optional; what is given must match exactly.
// - README.md (optional): why the case is what it is, where that is not plain from BuildKit's output.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { importBusybox, repoRoot, runKiln } from '../helpers/kiln-cli.js';
import { native } from '../../native/binding.js';
import { Store } from '../../snapshotter/store.js';
import { resolveImage } from '../../snapshotter/image-read.js';

const run = promisify(execFile);
const casesDir = path.join(repoRoot, 'test', 'parity', 'cases');

interface FileExpectation {
  /** Octal permission bits with set-id and sticky bits, e.g. "0755". */
  mode?: string;
  /** "uid:gid" */
  owner?: string;
  type?: 'file' | 'dir' | 'symlink';
  content?: string;
  link?: string;
  /** The path must not exist. */
  absent?: true;
}

interface Expected {
  /** Extra `kiln build` flags (e.g. ["--build-arg", "A=1"]). */
  flags?: string[];
  /** Default 0. */
  exitCode?: number;
  /** Strings stderr must contain (warnings, errors). */
  stderr?: string[];
  /**
   * The entries of each layer the build added on top of its base (busybox, or the case's base
   * image; nothing for scratch), in order: tar paths, directories with a trailing "/".
   */
  layers?: string[][];
  /** Paths in the final image's file tree. */
  files?: Record<string, FileExpectation>;
  /** Keys of the image config's `config` object, compared whole (e.g. "WorkingDir", "Env", "OnBuild"). */
  config?: Record<string, unknown>;
  /** Every key the image config's `config` object has, sorted (for a scratch image: nothing comes from a base). */
  configKeys?: string[];
  /** Keys the image config's `config` object must not have (e.g. "OnBuild"). */
  configAbsent?: string[];
  /** `created_by` of the last entries of the image's history, as many as listed. */
  history?: string[];
}

let dir: string;
let root: string;
let busyboxLayers: string[];

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kiln-parity-'));
  root = path.join(dir, 'root');
  await importBusybox(dir, root);
  busyboxLayers = (await resolveImage(await Store.open(root), 'kiln.local/busybox')).manifest.layers.map((l) => l.digest);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function octal(mode: number): string {
  return '0' + (mode & 0o7777).toString(8).padStart(3, '0');
}

async function layerPaths(store: Store, digest: string): Promise<string[]> {
  const entries = await native.layerEntries(store.content.blobPath(digest));
  return entries.map((e) => {
    if (e.kind === 'whiteout') return `${path.posix.dirname(e.path) === '.' ? '' : path.posix.dirname(e.path) + '/'}.wh.${path.posix.basename(e.path)}`;
    if (e.kind === 'opaque') return `${e.path.replace(/\/$/, '')}/.wh..wh..opq`;
    return e.kind === 'dir' ? `${e.path.replace(/\/$/, '')}/` : e.path;
  });
}

async function checkFile(tree: string, p: string, want: FileExpectation): Promise<void> {
  const full = path.join(tree, p);
  const st = await lstat(full).catch(() => undefined);
  if (want.absent) {
    assert.equal(st, undefined, `${p} must not exist`);
    return;
  }
  assert.ok(st, `${p} must exist`);
  const type = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : 'file';
  if (want.type !== undefined) assert.equal(type, want.type, `${p}: type`);
  if (want.mode !== undefined) assert.equal(octal(st.mode), want.mode, `${p}: mode`);
  if (want.owner !== undefined) assert.equal(`${st.uid}:${st.gid}`, want.owner, `${p}: owner`);
  if (want.content !== undefined) assert.equal(await readFile(full, 'utf8'), want.content, `${p}: content`);
  if (want.link !== undefined) assert.equal(await readlink(full), want.link, `${p}: link target`);
}

const cases = existsSync(casesDir) ? readdirSync(casesDir).sort() : [];
for (const name of cases) {
  test(`parity with BuildKit: ${name}`, async () => {
    const caseDir = path.join(casesDir, name);
    const expected = JSON.parse(await readFile(path.join(caseDir, 'expected.json'), 'utf8')) as Expected;
    const ctx = path.join(dir, 'ctx', name);
    await mkdir(ctx, { recursive: true });
    if (existsSync(path.join(caseDir, 'context'))) await cp(path.join(caseDir, 'context'), ctx, { recursive: true, verbatimSymlinks: true });
    if (existsSync(path.join(caseDir, 'setup.sh'))) await run('sh', [path.join(caseDir, 'setup.sh')], { cwd: ctx });
    const build = (dockerfile: string, tag: string) =>
      runKiln(['build', '--progress', 'plain', '--root', root, '-t', tag, '-f', path.join(caseDir, dockerfile), ...(expected.flags ?? []), ctx], {
        env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' },
      });
    let baseLayers = busyboxLayers;
    if (existsSync(path.join(caseDir, 'base.Dockerfile'))) {
      const baseTag = `kiln.local/${name}-base`;
      const b = await build('base.Dockerfile', baseTag);
      assert.equal(b.code, 0, `base.Dockerfile: ${b.stderr}`);
      baseLayers = (await resolveImage(await Store.open(root), baseTag)).manifest.layers.map((l) => l.digest);
    }
    const tag = `parity-${name}`;
    const r = await build('Dockerfile', tag);
    assert.equal(r.code, expected.exitCode ?? 0, r.stderr);
    for (const s of expected.stderr ?? []) assert.ok(r.stderr.includes(s), `stderr should include ${JSON.stringify(s)}:\n${r.stderr}`);
    if ((expected.exitCode ?? 0) !== 0) return;

    const store = await Store.open(root);
    const image = await resolveImage(store, tag);
    const config = image.config.config as Record<string, unknown>;
    if (expected.config !== undefined) {
      for (const [key, value] of Object.entries(expected.config)) assert.deepEqual(config[key], value, `config.${key}`);
    }
    if (expected.configKeys !== undefined) assert.deepEqual(Object.keys(config).sort(), expected.configKeys, 'keys of config');
    for (const key of expected.configAbsent ?? []) assert.ok(!(key in config), `config.${key} must be absent`);
    if (expected.history !== undefined) {
      const createdBy = (image.config.history ?? []).map((h) => h.created_by);
      assert.deepEqual(createdBy.slice(-expected.history.length), expected.history, 'history created_by');
    }
    const layers = image.manifest.layers;
    let shared = 0;
    while (shared < layers.length && layers[shared]!.digest === baseLayers[shared]) shared++;
    const added = layers.slice(shared);
    if (expected.layers !== undefined) {
      assert.deepEqual(await Promise.all(added.map((l) => layerPaths(store, l.digest))), expected.layers, 'entries of each new layer');
    }
    if (expected.files !== undefined) {
      const tree = path.join(dir, 'trees', name);
      await mkdir(tree, { recursive: true });
      for (const l of image.manifest.layers) await native.applyLayer({ layer: store.content.blobPath(l.digest), target: tree, driver: 'copy' });
      for (const [p, want] of Object.entries(expected.files)) await checkFile(tree, p, want);
    }
  });
}

test('every parity case folder has a Dockerfile and an expected.json', async () => {
  for (const name of cases) {
    for (const f of ['Dockerfile', 'expected.json']) assert.ok((await stat(path.join(casesDir, name, f))).isFile(), `${name}/${f}`);
    for (const f of await readdir(path.join(casesDir, name))) assert.ok(['Dockerfile', 'base.Dockerfile', 'expected.json', 'context', 'setup.sh', 'README.md'].includes(f), `${name}: unexpected ${f}`);
  }
});
