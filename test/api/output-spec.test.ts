// `--output` parsing on plain strings: buildx's syntax and shorthands, names from -t or name=,
// and the one-line errors for what kiln cannot honour.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutputSpecError } from '../../api/errors.js';
import { digestPushNames, outputNames, parseOutputSpecs, pushNames, storeNames, type OutputContext } from '../../api/output-spec.js';
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

test("buildx's layer keys on image and archive outputs; defaults gzip, no force, OCI types; absent when none is named", () => {
  const [reg] = parse('type=registry,name=r.example/a,compression=zstd,compression-level=19,force-compression=true');
  assert.deepEqual(reg, { type: 'image', names: ['r.example/a:latest'], push: true, compression: { compression: 'zstd', level: 19, force: true, ociMediaTypes: true } });
  assert.deepEqual(parse('type=oci,dest=a.tar,oci-mediatypes=false')[0], { type: 'oci', dest: '/work/a.tar', names: ['docker.io/library/app:1', 'example.com/team/app:latest'], compression: { compression: 'gzip', force: false, ociMediaTypes: false } });
  // A bare force-compression is true, as buildx reads it; uncompressed has no level to keep.
  assert.deepEqual(parse('type=docker,dest=d.tar,compression=uncompressed,compression-level=3,force-compression=')[0], { type: 'docker', dest: '/work/d.tar', names: ['docker.io/library/app:1', 'example.com/team/app:latest'], compression: { compression: 'uncompressed', force: true, ociMediaTypes: true } });
  // An image output that converts records its names after the conversion, not as built.
  assert.deepEqual(storeNames(parse('type=image,name=z,compression=zstd', 'type=image,name=g')), ['docker.io/library/g:latest']);
  fails(['type=registry,compression=lz4'], /compression=lz4: use gzip, zstd or uncompressed/);
  fails(['type=registry,compression=estargz'], /kiln does not write estargz layers/);
  fails(['type=registry,compression-level=x'], /compression-level=x: expected a whole number/);
  fails(['type=registry,compression=zstd,compression-level=23'], /compression-level=23: zstd takes 1 to 22/);
  fails(['type=registry,oci-mediatypes=no'], /oci-mediatypes=no: expected true or false/);
});

test('user errors name the --output value and say what to do', () => {
  fails(['type=foo'], /^--output type=foo: unknown type 'foo'; use image, oci/);
  fails(['dest=x'], /no type=/);
  fails(['type=local'], /type=local needs dest=DIR/);
  fails(['type=oci'], /type=oci needs dest=FILE\.tar \(or dest=- for stdout\)/);
  fails(['type=tar,dest='], /type=tar needs dest/);
  fails(['type=local,dest=-'], /type=tar,dest=- for a tar on stdout/);
  fails(['type=image,push=maybe'], /push=maybe: expected true or false/);
  fails(['type=local,dest=d,compression=zstd'], /does not support compression= for type=local \(it takes dest\)/);
  fails(['type=local,dest=a,dest=b'], /dest is given twice/);
  fails(['type=local,dest'], /'dest' is not KEY=VALUE/);
  fails(['type=image,name=UPPER'], /UPPER/);
});

test('two outputs to one place are refused, stdout and relative spellings of one file included', () => {
  fails(['-', 'type=oci,dest=-'], /stdout is also the destination of --output -/);
  fails(['type=oci,dest=a.tar', 'type=docker,dest=./a.tar'], /\/work\/a\.tar is also the destination/);
});

test('push-by-digest=true pushes repositories (no tag) by digest and names nothing in the store', () => {
  const outs = parse('type=registry,name=reg.example:5000/app,push-by-digest=true', 'type=image,name=app:2');
  assert.deepEqual(outs[0], { type: 'image', names: ['reg.example:5000/app'], push: true, pushByDigest: true });
  assert.deepEqual(parse('type=image,name=busybox,push-by-digest=1,push=true')[0], { type: 'image', names: ['docker.io/library/busybox'], push: true, pushByDigest: true });
  assert.deepEqual(pushNames(outs), []);
  assert.deepEqual(digestPushNames(outs), ['reg.example:5000/app']);
  assert.deepEqual(storeNames(outs), ['docker.io/library/app:2']);
  // As BuildKit's image.name: the repository, as the metadata file reports it.
  assert.deepEqual(outputNames(outs), ['reg.example:5000/app', 'docker.io/library/app:2']);
  assert.deepEqual(parse('type=registry,name=r.example/app,push-by-digest=false')[0], { type: 'image', names: ['r.example/app:latest'], push: true });
  fails(['type=registry,name=reg.example:5000/app:1,push-by-digest=true'], /cannot push the tagged name reg.example:5000\/app:1 by digest; give the repository alone/);
  fails(['type=registry,name=app@sha256:' + 'a'.repeat(64) + ',push-by-digest=true'], /cannot push the tagged name/);
  // With no name=, the -t names are the repositories, and tags there are refused the same way.
  fails(['type=registry,push-by-digest=true'], /cannot push the tagged name app:1 by digest/);
  fails(['type=image,name=r.example/app,push-by-digest=true'], /push-by-digest=true pushes only with push=true; add push=true or use type=registry/);
  fails(['type=registry,name=r.example/app,push-by-digest=maybe'], /push-by-digest=maybe: expected true or false/);
});
