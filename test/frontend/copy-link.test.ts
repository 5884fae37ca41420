// COPY --link compiled as BuildKit's dockerfile2llb compiles it: the copy as a file op on scratch,
// stacked on the stage by a merge op; --chmod turns linking off; --chown by name is refused.
// Also the merge builder's bytes, read back by protoc with our ops.proto.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseDockerfile } from '../../frontend/dockerfile.js';
import { compileDockerfile, type CompileResult } from '../../frontend/compile.js';
import { DockerfileError } from '../../frontend/errors.js';
import { opDigest, unmarshalOp } from '../../solver/llb/marshal.js';
import { image, local, merge } from '../../solver/llb/builder.js';
import { repoRoot } from '../helpers/kiln-cli.js';

const amd64 = { architecture: 'amd64', os: 'linux' };

async function compile(text: string): Promise<CompileResult> {
  return compileDockerfile(parseDockerfile(text, 'Dockerfile'), { file: 'Dockerfile', buildArgs: new Map(), targetPlatform: amd64, buildPlatform: amd64, ignorePatterns: [] });
}

test('COPY --link: a copy on scratch (input -1, source 0) merged over the stage, merge inputs [base, copy], no platform', async () => {
  const r = await compile('FROM busybox\nRUN echo hi\nCOPY --link --chown=10:20 a.txt /app/\n');
  const byDigest = new Map(r.definition.def.map((b) => [opDigest(b), unmarshalOp(b)]));
  const ops = [...byDigest.values()];
  const mergeOp = ops.find((o) => o.merge)!;
  assert.ok(mergeOp, 'a merge op is emitted');
  assert.equal(mergeOp.platform, undefined);
  assert.deepEqual(mergeOp.merge!.inputs!.map((i) => i.input ?? 0), [0, 1]);
  const [baseIn, copyIn] = mergeOp.inputs!;
  assert.ok(byDigest.get(baseIn!.digest!)!.exec, 'the first merge input is the stage so far (the RUN)');
  const copyOp = byDigest.get(copyIn!.digest!)!;
  assert.equal(copyOp.inputs!.length, 1, 'the copy reads only its source');
  assert.equal(byDigest.get(copyOp.inputs![0]!.digest!)!.source!.identifier, 'local://context');
  const action = copyOp.file!.actions![0]!;
  assert.equal(action.input, -1, 'the copy is made on scratch');
  assert.equal(action.secondaryInput ?? 0, 0);
  assert.deepEqual(action.copy!.owner, { user: { byId: 10 }, group: { byId: 20 } });
  assert.equal(action.copy!.dest, '/app/');

  // Names and progress grouping as buildx shows them: the copy under its line, the merge as LINK.
  const md = r.definition.metadata;
  assert.equal(md[copyIn!.digest!]!.description!['llb.customname'], '[3/3] COPY --link --chown=10:20 a.txt /app/');
  const mergeDigest = [...byDigest.entries()].find(([, o]) => o.merge)![0];
  assert.equal(md[mergeDigest]!.description!['llb.customname'], '[3/3] LINK COPY --link --chown=10:20 a.txt /app/');
  assert.equal(md[copyIn!.digest!]!.progressGroup!.id, md[mergeDigest]!.progressGroup!.id);
  assert.deepEqual([md[copyIn!.digest!]!.progressGroup!.weak, md[mergeDigest]!.progressGroup!.weak ?? false], [true, false]);
  assert.equal(r.config.history?.at(-1)?.empty_layer, undefined, 'the linked copy is a layer in the history');
});

test('the linked copy does not depend on the stage: changing an earlier RUN keeps its digest', async () => {
  const copyDigest = async (run: string): Promise<string> => {
    const r = await compile(`FROM busybox\nRUN ${run}\nCOPY --link a.txt /\n`);
    const ops = r.definition.def.map((b) => unmarshalOp(b));
    return ops.find((o) => o.merge)!.inputs![1]!.digest!;
  };
  assert.equal(await copyDigest('echo one'), await copyDigest('echo two'));
});

test('COPY --link on scratch is the copy alone; --chmod keeps an ordinary copy; --link=false does not link', async () => {
  const scratch = (await compile('FROM scratch\nCOPY --link a.txt /\n')).definition.def.map((b) => unmarshalOp(b));
  assert.ok(!scratch.some((o) => o.merge), 'merging onto scratch is no merge (as llb.Merge drops scratch inputs)');
  assert.equal(scratch.find((o) => o.file)!.file!.actions![0]!.input, -1);

  for (const df of ['FROM busybox\nCOPY --link --chmod=755 a.txt /\n', 'FROM busybox\nCOPY --link=false a.txt /\n']) {
    const ops = (await compile(df)).definition.def.map((b) => unmarshalOp(b));
    assert.ok(!ops.some((o) => o.merge), df);
    assert.equal(ops.find((o) => o.file)!.file!.actions![0]!.input ?? 0, 0, `${df}: the copy is on the stage`);
  }
});

test('COPY --link --chown by name is refused at its line; root and numeric ids are accepted', async () => {
  for (const [chown, line] of [['app', 3], ['0:staff', 3]] as const) {
    await assert.rejects(compile(`FROM busybox\nRUN true\nCOPY --link --chown=${chown} a /\n`), (err: unknown) => {
      assert.ok(err instanceof DockerfileError, String(err));
      assert.equal(err.line, line);
      assert.match(err.message, new RegExp(`--link cannot use --chown=${chown}: .*numeric ids`));
      return true;
    });
  }
  const ok = (await compile('FROM busybox\nCOPY --link --chown=root:root a /\n')).definition.def.map((b) => unmarshalOp(b));
  assert.deepEqual(ok.find((o) => o.file)!.file!.actions![0]!.copy!.owner, { user: { byId: 0 }, group: { byId: 0 } });
  // Without --link a name is fine: it is looked up in the stage's /etc/passwd.
  await compile('FROM busybox\nCOPY --chown=app a /\n');
});

test('merge() marshals as BuildKit MergeOp: protoc decodes inputs and MergeInput indexes', () => {
  const a = image('docker.io/library/busybox:latest', { platform: amd64 });
  const b = local('context');
  const m = merge([a, null, b])!;
  assert.equal(merge([null, b]), b, 'one non-scratch input is that input');
  assert.equal(merge([null, null]), null);
  const r = spawnSync('protoc', ['--decode=pb.Op', `--proto_path=${path.join(repoRoot, 'solver/llb')}`, path.join(repoRoot, 'solver/llb/ops.proto')], { input: m.vertex.marshal(), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const text = r.stdout.replace(/\s+/g, ' ').trim();
  assert.equal(
    text,
    `inputs { digest: "${a.digest()}" } inputs { digest: "${b.digest()}" } merge { inputs { } inputs { input: 1 } } constraints { }`,
  );
});
