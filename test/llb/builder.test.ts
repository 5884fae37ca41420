// The builder: output numbering, input dedup, action chaining, source attrs, the Definition walk
// (order, dedup, terminal op) and the JSON view, checked on the decoded ops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { definition, exec, file, git, http, image, local, type ExecSpec, type Output } from '../../solver/llb/builder.js';
import { LlbBuildError } from '../../solver/llb/errors.js';
import { definitionToJSON, resultDigest } from '../../solver/llb/json.js';
import { marshalDefinition, opDigest, unmarshalDefinition, unmarshalOp } from '../../solver/llb/marshal.js';
import { hostPlatform } from '../../oci/platform.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const linux = { os: 'linux', architecture: 'amd64' };
const alpine = (): Output => image('docker.io/library/alpine:latest', { platform: linux });
const run = (extra: Partial<ExecSpec> = {}): ExecSpec => ({ args: ['true'], env: [], cwd: '/', root: alpine(), platform: linux, ...extra });

function buildGraph(): Output {
  const ctx = local('context', { excludePatterns: ['.git'] });
  const built = exec(run({ args: ['make'], mounts: [{ dest: '/src', input: ctx, readonly: true }, { dest: '/out', input: null }] }));
  return file(null, [{ copy: { from: built.mount('/out'), src: '/bin/app', dest: '/app' } }], { description: { 'llb.customname': 'COPY app' } });
}

test('building the same graph twice gives identical bytes and digests', () => {
  const a = definition(buildGraph());
  const b = definition(buildGraph());
  assert.deepEqual(a.def.map(hex), b.def.map(hex));
  assert.equal(hex(marshalDefinition(a)), hex(marshalDefinition(b)));
  assert.deepEqual(Object.keys(a.metadata).sort(), Object.keys(b.metadata).sort());
});

test('identical sources are one op in the definition, their metadata merged', () => {
  const x = image('docker.io/library/alpine:latest', { platform: linux, description: { a: '1' } });
  const y = image('docker.io/library/alpine:latest', { platform: linux, description: { b: '2' } });
  assert.notEqual(x, y);
  assert.equal(x.digest(), y.digest());
  const r = exec(run({ root: x, mounts: [{ dest: '/y', input: y, readonly: true }] }));
  const def = definition(r.root);
  assert.equal(def.def.length, 3); // alpine, exec, terminal
  const op = unmarshalOp(def.def[1]!);
  assert.deepEqual(op.inputs, [{ digest: x.digest() }], 'equal inputs are deduplicated by value');
  assert.deepEqual(op.exec!.mounts!.map((m) => m.input ?? 0), [0, 0]);
  assert.deepEqual(def.metadata[x.digest()]!.description, { a: '1', b: '2' });
});

test('an explicit false or empty option gives the same op as leaving it out', () => {
  const plain = exec(run({ mounts: [{ dest: '/m', input: alpine() }] }));
  const noisy = exec(run({ mounts: [{ dest: '/m', input: alpine(), readonly: false, noOutput: false, selector: '' }], user: '', hostname: '' }));
  assert.equal(noisy.root.digest(), plain.root.digest());
  assert.notEqual(exec(run({ mounts: [{ dest: '/m', input: alpine(), readonly: true }] })).root.digest(), plain.root.digest());
});

test('exec outputs: mounts sorted by dest, root first, only writable bind mounts numbered', () => {
  const r = exec(run({
    mounts: [
      { dest: '/z', input: null },
      { dest: '/cache', input: null, type: 'cache', cache: { id: 'c', sharing: 'shared' } },
      { dest: '/a', input: alpine(), noOutput: true },
      { dest: '/m', input: local('context') },
      { dest: '/ro', input: local('context'), readonly: true },
    ],
  }));
  assert.equal(r.root.index, 0);
  assert.equal(r.mount('/m').index, 1);
  assert.equal(r.mount('/z').index, 2);
  assert.equal(r.mount('/z').vertex, r.root.vertex);
  for (const dest of ['/cache', '/a', '/ro', '/nope']) assert.throws(() => r.mount(dest), LlbBuildError);
  const mounts = r.root.vertex.op.exec!.mounts!;
  assert.deepEqual(mounts.map((m) => m.dest), ['/', '/a', '/cache', '/m', '/ro', '/z']);
  assert.deepEqual(mounts.map((m) => m.output ?? 0), [0, -1, -1, 1, -1, 2]);
  // alpine (root and /a share one input), then the context (for /m and /ro).
  assert.deepEqual(mounts.map((m) => m.input ?? 0), [0, 0, -1, 1, 1, -1]);
  assert.equal(r.root.vertex.op.inputs!.length, 2);
});

test('exec refuses what BuildKit refuses', () => {
  assert.throws(() => exec(run({ args: [] })), /args are required/);
  assert.throws(() => exec(run({ cwd: '' })), /working directory/);
  assert.throws(() => exec(run({ mounts: [{ dest: '/t', input: alpine(), type: 'tmpfs' }] })), /tmpfs/);
});

test('exec defaults: host platform, removeMountStubsRecursive on, SSH_AUTH_SOCK only when unset', () => {
  const r = exec({ args: ['true'], env: [], cwd: '/', root: null });
  const p = hostPlatform();
  assert.deepEqual(r.root.vertex.op.platform, { architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}) });
  assert.equal(r.root.vertex.op.exec!.meta!.removeMountStubsRecursive, true);
  assert.equal(r.root.vertex.op.exec!.mounts![0]!.input, -1, 'scratch root is the empty input');
  const ssh = { dest: '/s', input: null, type: 'ssh' as const, ssh: { id: 'default' } };
  assert.deepEqual(exec(run({ mounts: [ssh] })).root.vertex.op.exec!.meta!.env, ['SSH_AUTH_SOCK=/s']);
  assert.deepEqual(exec(run({ env: ['SSH_AUTH_SOCK=/mine'], mounts: [ssh] })).root.vertex.op.exec!.meta!.env, ['SSH_AUTH_SOCK=/mine']);
});

test('file actions chain: base input, copy sources after it, relative indices, scratch base is -1', () => {
  const a = local('a');
  const b = local('b');
  const f = file(null, [
    { copy: { from: a, src: 'x', dest: 'dir/' } },
    { copy: { from: b, src: './y/../y', dest: '/dir/.' } },
    { copy: { from: a, src: 'z', dest: '/z' } },
    { rm: { path: '/dir/x/' } },
  ]);
  const op = f.vertex.op;
  assert.deepEqual(op.inputs, [{ digest: a.digest() }, { digest: b.digest() }]);
  assert.deepEqual(op.platform, undefined);
  const acts = op.file!.actions!;
  assert.deepEqual(acts.map((x) => [x.input ?? 0, x.secondaryInput ?? 0, x.output ?? 0]), [[-1, 0, -1], [2, 1, -1], [3, 0, -1], [4, -1, 0]]);
  assert.deepEqual(acts.slice(0, 3).map((x) => [x.copy!.src, x.copy!.dest]), [['/x', '/dir/'], ['/y', '/dir/.'], ['/z', '/z']]);
  assert.equal(acts[3]!.rm!.path, '/dir/x');
  assert.equal(acts[0]!.copy!.mode, -1, 'unset mode is -1: keep the source mode');

  const withBase = file(alpine(), [{ mkdir: { path: '/d', mode: 0o40755, owner: { user: { name: 'app' } } } }, { copy: { from: a, src: '/x', dest: '/d/' } }]);
  const op2 = withBase.vertex.op;
  assert.deepEqual(op2.inputs!.map((i) => i.digest), [alpine().digest(), a.digest()]);
  const [mk, cp] = op2.file!.actions!;
  assert.equal(mk!.mkdir!.mode, 0o755, 'mode keeps only permission bits');
  assert.equal(mk!.mkdir!.owner!.user!.byName!.input ?? 0, 0, 'names resolve in the base (input 0)');
  assert.deepEqual([cp!.input, cp!.secondaryInput], [2, 1]);
  assert.throws(() => file(null, []), LlbBuildError);
});

test('definition order follows BuildKit: inputs depth-first, file copy sources from the last back', () => {
  const base = alpine();
  const y = local('y');
  const z = local('z');
  const f = file(base, [{ copy: { from: y, src: '/', dest: '/y' } }, { copy: { from: z, src: '/', dest: '/z' } }]);
  const def = definition(f);
  const digests = def.def.map(opDigest);
  assert.deepEqual(digests.slice(0, 4), [base.digest(), z.digest(), y.digest(), f.digest()]);
  assert.equal(resultDigest(def), f.digest());
  assert.equal(unmarshalOp(def.def[4]!).inputs![0]!.digest, f.digest());
  assert.deepEqual(definition(null), { def: [], metadata: {} });
  assert.equal(resultDigest(definition(null)), undefined);
});

test('a round trip through bytes gives back the builder ops', () => {
  const def = definition(buildGraph());
  const back = unmarshalDefinition(marshalDefinition(def));
  assert.deepEqual(back.def.map((b) => unmarshalOp(b)), def.def.map((b) => unmarshalOp(b)));
  assert.deepEqual(back.metadata, def.metadata);
  const head = def.def[def.def.length - 2]!;
  assert.equal(opDigest(head), resultDigest(back));
});

test('local attrs are JSON lists as Go writes them; no random local.unique unless asked', () => {
  const op = local('context', { includePatterns: ['a&b', '<x>'], excludePatterns: ['*.md'] }).vertex.op;
  assert.deepEqual(op.source, {
    identifier: 'local://context',
    attrs: { 'local.includepattern': '["a\\u0026b","\\u003cx\\u003e"]', 'local.excludepatterns': '["*.md"]' },
  });
  assert.equal(local('context').digest(), local('context').digest());
  assert.equal(local('context', { uniqueId: 'u1' }).vertex.op.source!.attrs!['local.unique'], 'u1');
});

test('git and http identifiers and attrs', () => {
  const viaHttps = git('https://github.com/moby/buildkit.git', 'v0.12.0', { subdir: 'docs/' });
  const viaScp = git('git@github.com:moby/buildkit.git', 'v0.12.0', { subdir: 'docs/' });
  assert.equal(viaHttps.vertex.op.source!.identifier, 'git://github.com/moby/buildkit.git#v0.12.0:docs');
  assert.equal(viaScp.vertex.op.source!.identifier, viaHttps.vertex.op.source!.identifier);
  assert.equal(viaScp.vertex.op.source!.attrs!['git.mountsshsock'], 'default');
  assert.equal(viaHttps.vertex.op.source!.attrs!['git.mountsshsock'], undefined);
  assert.deepEqual(git('github.com/o/r', undefined, { keepGitDir: true }).vertex.op.source, {
    identifier: 'git://github.com/o/r',
    attrs: {
      'git.authheadersecret': 'GIT_AUTH_HEADER', 'git.authtokensecret': 'GIT_AUTH_TOKEN',
      'git.fullurl': 'https://github.com/o/r', 'git.keepgitdir': 'true',
    },
  });
  assert.deepEqual(http('https://e.com/f', { chmod: 0o100644, filename: 'f' }).vertex.op.source!.attrs, { 'http.filename': 'f', 'http.perm': '0644' });
});

test('definitionToJSON: decoded ops with enum names, text data as text, binary as base64', () => {
  const f = file(null, [
    { mkfile: { path: '/t', mode: 0o644, data: new TextEncoder().encode('hello\n') } },
    { mkfile: { path: '/b', mode: 0o644, data: Uint8Array.from([0xff, 0x00]) } },
  ], { description: { 'llb.customname': 'files' } });
  const r = exec(run({ root: f, network: 'none', mounts: [{ dest: '/c', input: null, type: 'cache', cache: { id: 'x', sharing: 'private' } }] }));
  const json = definitionToJSON(definition(r.root)) as { digest: string; op: Record<string, any>; metadata?: object }[];
  assert.equal(json.length, 3); // file, exec, terminal
  const fileEntry = json.find((e) => e.digest === f.digest())!;
  assert.deepEqual(fileEntry.metadata, { description: { 'llb.customname': 'files' } });
  assert.equal(fileEntry.op.file.actions[0].mkfile.data, 'hello\n');
  assert.deepEqual(fileEntry.op.file.actions[1].mkfile.data, { base64: Buffer.from([0xff, 0x00]).toString('base64') });
  assert.equal(fileEntry.op.file.actions[0].mkfile.timestamp, -1);
  const execEntry = json.find((e) => e.digest === r.root.digest())!;
  assert.equal(execEntry.op.exec.network, 'NONE');
  assert.equal(execEntry.op.exec.security, 'SANDBOX');
  assert.deepEqual(execEntry.op.exec.mounts.map((m: { mountType: string }) => m.mountType), ['BIND', 'CACHE']);
  assert.equal(execEntry.op.exec.mounts[1].cacheOpt.sharing, 'PRIVATE');
  assert.deepEqual(json[2]!.op, { inputs: [{ digest: r.root.digest() }] });
  assert.doesNotThrow(() => JSON.stringify(json));
});
