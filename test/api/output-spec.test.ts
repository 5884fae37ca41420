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
