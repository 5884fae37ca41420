// `--output` parsing on plain strings: buildx's syntax and shorthands, names from -t or name=,
// and the one-line errors for what kiln cannot honour.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutputSpecError } from '../../api/errors.js';
import { outputNames, parseOutputSpecs, pushNames, storeNames, type OutputContext } from '../../api/output-spec.js';
import { normalizeName } from '../../snapshotter/image-read.js';

const ctx: OutputContext = { tags: ['app:1', 'example.com/team/app'], cwd: '/work', normalize: normalizeName };
const parse = (...specs: string[]) => parseOutputSpecs(specs, ctx);

function fails(specs: string[], message: RegExp): void {
  assert.throws(
    () => parseOutputSpecs(specs, ctx),
    (err: unknown) => err instanceof OutputSpecError && err.code === 'KILN_OUTPUT_SPEC' && err.userFacing && message.test(err.message) && !err.message.includes('\n'),
  );
}

test('no --output is an image in the store under the -t names, normalised', () => {
  assert.deepEqual(parse(), [{ type: 'image', names: ['docker.io/library/app:1', 'example.com/team/app:latest'] }]);
});

test('shorthands: a path is type=local into it, - is a tar on stdout', () => {
  assert.deepEqual(parse('out/rootfs'), [{ type: 'local', dest: '/work/out/rootfs' }]);
  assert.deepEqual(parse('-'), [{ type: 'tar', dest: '-' }]);
});

test('each type with its keys; dests are absolute; archives and images take name= over -t', () => {
  assert.deepEqual(parse('type=oci,dest=img.tar'), [{ type: 'oci', dest: '/work/img.tar', names: ['docker.io/library/app:1', 'example.com/team/app:latest'] }]);
  assert.deepEqual(parse('type=docker,dest=/tmp/d.tar,name=other:2'), [{ type: 'docker', dest: '/tmp/d.tar', names: ['docker.io/library/other:2'] }]);
  assert.deepEqual(parse('type=image,"name=a,b",push=false'), [{ type: 'image', names: ['docker.io/library/a:latest', 'docker.io/library/b:latest'] }]);
  assert.deepEqual(parse('type=tar,dest=-'), [{ type: 'tar', dest: '-' }]);
  assert.deepEqual(parse('type=oci,dest=-'), [{ type: 'oci', dest: '-', names: ['docker.io/library/app:1', 'example.com/team/app:latest'] }]);
  assert.deepEqual(parse('type=cacheonly'), [{ type: 'cacheonly' }]);
});

test('push=true and type=registry push the names (buildx: type=registry is type=image,push=true)', () => {
  const outs = parse('type=image,name=reg.example:5000/a:1,push=true');
  assert.deepEqual(outs, [{ type: 'image', names: ['reg.example:5000/a:1'], push: true }]);
  assert.deepEqual(parse('type=registry'), [{ type: 'image', names: ['docker.io/library/app:1', 'example.com/team/app:latest'], push: true }]);
  assert.deepEqual(pushNames([...outs, ...parse('type=image,name=local-only')]), ['reg.example:5000/a:1']);
  assert.throws(() => parseOutputSpecs(['type=image,push=true'], { tags: [], cwd: '/work', normalize: (n) => n }), /push=true needs a name/);
});

test('several outputs (BuildKit >= 0.13): the store takes only image names, metadata all of them', () => {
  const outs = parse('type=image,name=kept', 'type=oci,dest=a.tar,name=archived', 'type=local,dest=dir');
  assert.deepEqual(storeNames(outs), ['docker.io/library/kept:latest']);
  assert.deepEqual(outputNames(outs), ['docker.io/library/kept:latest', 'docker.io/library/archived:latest']);
});

test('user errors name the --output value and say what to do', () => {
  fails(['type=foo'], /^--output type=foo: unknown type 'foo'; use image, oci/);
  fails(['dest=x'], /no type=/);
  fails(['type=local'], /type=local needs dest=DIR/);
  fails(['type=oci'], /type=oci needs dest=FILE\.tar \(or dest=- for stdout\)/);
  fails(['type=tar,dest='], /type=tar needs dest/);
  fails(['type=local,dest=-'], /type=tar,dest=- for a tar on stdout/);
  fails(['type=image,push=maybe'], /push=maybe: expected true or false/);
  fails(['type=oci,dest=a.tar,compression=zstd'], /does not support compression= for type=oci \(it takes dest, name\)/);
  fails(['type=local,dest=a,dest=b'], /dest is given twice/);
  fails(['type=local,dest'], /'dest' is not KEY=VALUE/);
  fails(['type=image,name=UPPER'], /UPPER/);
});

test('two outputs to one place are refused, stdout and relative spellings of one file included', () => {
  fails(['-', 'type=oci,dest=-'], /stdout is also the destination of --output -/);
  fails(['type=oci,dest=a.tar', 'type=docker,dest=./a.tar'], /\/work\/a\.tar is also the destination/);
});
