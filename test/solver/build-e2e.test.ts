// `kiln build` end to end through the real binary: a busybox base made with `kiln import`, the
// multi-stage examples/hello built over real snapshots and the real runner, the image checked
// from outside with skopeo and umoci, and cache behaviour read from --progress rawjson events.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, runKiln, type CliResult } from '../helpers/kiln-cli.js';
import { mountsUnder } from '../helpers/mountinfo.js';
import { stepEvents, type StepEvent } from '../helpers/solve-status.js';

const run = promisify(execFile);
const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };
let dir: string;
let root: string;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kiln-build-'));
  root = path.join(dir, 'root');
  const rootfs = path.join(dir, 'rootfs.tar');
  await run('bash', [path.join(repoRoot, 'examples/make-busybox-rootfs.sh'), rootfs]);
  const imported = await runKiln(['import', rootfs, 'kiln.local/busybox:latest', '--root', root], { env });
  assert.equal(imported.code, 0, imported.stderr);
});

after(async () => {
  assert.deepEqual((await mountsUnder(root)).map((m) => m.mountPoint), [], 'no mount outlives the builds');
  await rm(dir, { recursive: true, force: true });
});

async function build(context: string, ...flags: string[]): Promise<CliResult & { events: StepEvent[] }> {
  const r = await runKiln(['build', '--progress', 'rawjson', '--root', root, ...flags, context], { env });
  return { ...r, events: stepEvents(r.stderr) };
}

function named(events: StepEvent[], type: 'vertex.start' | 'vertex.cached'): string[] {
  return events.flatMap((e) => (e.type === type ? [e.name] : [])).sort();
}

const FROM = /^\[build 1\/4\] FROM kiln\.local\/busybox:latest$/;
const ALL = ['[build 2/4] WORKDIR /src', '[build 3/4] COPY greet.sh .', '[build 4/4] RUN <<EOF', '[internal] load build context', '[stage-1 4/7] COPY --from=build /out/greet /usr/local/bin/greet'];
const withoutFrom = (names: string[]): string[] => names.filter((n) => !FROM.test(n));

test('examples/hello builds into an image skopeo and umoci read, and a rebuild is all cached and identical', async () => {
  const first = await build(path.join(repoRoot, 'examples/hello'), '-t', 't1', '--iidfile', path.join(dir, 'iid'));
  assert.equal(first.code, 0, first.stderr);
  const digest = first.stdout.toString().trim();
  assert.match(digest, /^sha256:[a-f0-9]{64}$/);
  assert.deepEqual(withoutFrom(named(first.events, 'vertex.start')), ALL);
  assert.deepEqual(named(first.events, 'vertex.cached'), []);

  const tarPath = path.join(dir, 't1.tar');
  const saved = await runKiln(['save', '-o', tarPath, 't1', '--root', root], { env });
  assert.equal(saved.code, 0, saved.stderr);
  const inspect = JSON.parse((await run('skopeo', ['inspect', `oci-archive:${tarPath}`])).stdout) as { Digest: string; Layers: string[]; Labels: Record<string, string>; Created: string };
  assert.equal(inspect.Digest, digest);
  assert.equal(inspect.Layers.length, 2, 'the busybox layer and the COPY --from layer');
  assert.equal(inspect.Labels['org.opencontainers.image.title'], 'hello');
  assert.equal(inspect.Created, '2023-11-14T22:13:20Z');
  const config = JSON.parse((await run('skopeo', ['inspect', '--config', `oci-archive:${tarPath}`])).stdout) as {
    config: { Entrypoint: string[]; User: string };
    rootfs: { diff_ids: string[] };
    history: { empty_layer?: boolean }[];
  };
  assert.deepEqual(config.config.Entrypoint, ['/usr/local/bin/greet']);
  assert.equal(config.config.User, '1000:1000');
  assert.equal(config.history.filter((h) => !h.empty_layer).length, config.rootfs.diff_ids.length);
  assert.match(await readFile(path.join(dir, 'iid'), 'utf8'), /^sha256:[a-f0-9]{64}$/);

  // umoci unpacks the layout; the greet script the RUN step made is in the image.
  const layout = path.join(dir, 'layout');
  await mkdir(layout);
  await run('tar', ['-xf', tarPath, '-C', layout]);
  const bundle = path.join(dir, 'bundle');
  await run('umoci', ['unpack', '--image', `${layout}:latest`, bundle]);
  const greet = await readFile(path.join(bundle, 'rootfs/usr/local/bin/greet'), 'utf8');
  assert.match(greet, /echo "\$GREETING kiln, \$\*!"/);

  const again = await build(path.join(repoRoot, 'examples/hello'), '-t', 't1');
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(named(again.events, 'vertex.start'), []);
  assert.deepEqual(withoutFrom(named(again.events, 'vertex.cached')), ALL);
  assert.equal(again.stdout.toString().trim(), digest, 'same inputs and SOURCE_DATE_EPOCH give the same image');
});

test('editing a copied file re-runs exactly the steps that depend on it; an ignored file re-runs nothing', async () => {
  const ctx = path.join(dir, 'ctx');
  await cp(path.join(repoRoot, 'examples/hello'), ctx, { recursive: true });
  const warm = await build(ctx, '-t', 't2');
  assert.equal(warm.code, 0, warm.stderr);

  await appendFile(path.join(ctx, 'greet.sh'), '# edited\n');
  const edited = await build(ctx, '-t', 't2');
  assert.equal(edited.code, 0, edited.stderr);
  assert.deepEqual(named(edited.events, 'vertex.start'), ['[build 3/4] COPY greet.sh .', '[build 4/4] RUN <<EOF', '[internal] load build context', '[stage-1 4/7] COPY --from=build /out/greet /usr/local/bin/greet']);
  assert.deepEqual(withoutFrom(named(edited.events, 'vertex.cached')), ['[build 2/4] WORKDIR /src']);

  await appendFile(path.join(ctx, 'README.md'), 'not copied: .dockerignore excludes it\n');
  const ignored = await build(ctx, '-t', 't2');
  assert.equal(ignored.code, 0, ignored.stderr);
  assert.deepEqual(named(ignored.events, 'vertex.start'), []);
  assert.equal(ignored.stdout.toString(), edited.stdout.toString());
});

test('a failing RUN names the step, its exit code and its last output; a missing base image says how to add it', async () => {
  const bad = path.join(dir, 'bad');
  await mkdir(bad);
  await writeFile(path.join(bad, 'Dockerfile'), 'FROM kiln.local/busybox\nRUN echo one; echo two >&2; exit 3\n');
  const failed = await build(bad);
  assert.equal(failed.code, 1);
  const message = failed.stderr.slice(failed.stderr.indexOf('------\n'));
  assert.match(message, /^------\n > \[2\/2\] RUN echo one; echo two >&2; exit 3:\n(one\ntwo|two\none)\n------\nDockerfile:2\n/);
  assert.match(message, /\nerror: \[2\/2\] RUN echo one; echo two >&2; exit 3 \(Dockerfile:2\): .*exit code: 3\n$/);
  assert.ok(failed.events.some((e) => e.type === 'vertex.error'));

  await writeFile(path.join(bad, 'Dockerfile'), 'FROM example.com/nothere:1\nRUN true\n');
  const missing = await build(bad);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /base image "example\.com\/nothere:1" is not in the store .*kiln import.*kiln load/);
});
