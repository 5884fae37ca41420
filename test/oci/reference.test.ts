// Image reference normalisation as Docker does it, and the errors for references it rejects.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidReferenceError, familiarName, formatReference, parseReference, type ImageRef } from '../../oci/reference.js';

const SHA_A = `sha256:${'a'.repeat(64)}`;
const SHA_B = `sha256:${'b'.repeat(64)}`;
const SHA512 = `sha512:${'c'.repeat(128)}`;

// [input, parsed, fully qualified, familiar]
const VALID: Array<[string, ImageRef, string, string]> = [
  ['alpine', { domain: 'docker.io', path: 'library/alpine', tag: 'latest' }, 'docker.io/library/alpine:latest', 'alpine:latest'],
  ['alpine:3.19', { domain: 'docker.io', path: 'library/alpine', tag: '3.19' }, 'docker.io/library/alpine:3.19', 'alpine:3.19'],
  ['user/app', { domain: 'docker.io', path: 'user/app', tag: 'latest' }, 'docker.io/user/app:latest', 'user/app:latest'],
  ['user/app:1', { domain: 'docker.io', path: 'user/app', tag: '1' }, 'docker.io/user/app:1', 'user/app:1'],
  ['docker.io/alpine', { domain: 'docker.io', path: 'library/alpine', tag: 'latest' }, 'docker.io/library/alpine:latest', 'alpine:latest'],
  ['docker.io/library/alpine:edge', { domain: 'docker.io', path: 'library/alpine', tag: 'edge' }, 'docker.io/library/alpine:edge', 'alpine:edge'],
  ['index.docker.io/alpine', { domain: 'docker.io', path: 'library/alpine', tag: 'latest' }, 'docker.io/library/alpine:latest', 'alpine:latest'],
  ['index.docker.io/user/app:2', { domain: 'docker.io', path: 'user/app', tag: '2' }, 'docker.io/user/app:2', 'user/app:2'],
  ['library/foo/bar', { domain: 'docker.io', path: 'library/foo/bar', tag: 'latest' }, 'docker.io/library/foo/bar:latest', 'library/foo/bar:latest'],
  ['a/b/c/d:e', { domain: 'docker.io', path: 'a/b/c/d', tag: 'e' }, 'docker.io/a/b/c/d:e', 'a/b/c/d:e'],
  ['localhost/a', { domain: 'localhost', path: 'a', tag: 'latest' }, 'localhost/a:latest', 'localhost/a:latest'],
  ['localhost:5000/a', { domain: 'localhost:5000', path: 'a', tag: 'latest' }, 'localhost:5000/a:latest', 'localhost:5000/a:latest'],
  ['localhost:5000/a:1', { domain: 'localhost:5000', path: 'a', tag: '1' }, 'localhost:5000/a:1', 'localhost:5000/a:1'],
  ['127.0.0.1:5000/a:1', { domain: '127.0.0.1:5000', path: 'a', tag: '1' }, '127.0.0.1:5000/a:1', '127.0.0.1:5000/a:1'],
  ['[::1]:5000/x:y', { domain: '[::1]:5000', path: 'x', tag: 'y' }, '[::1]:5000/x:y', '[::1]:5000/x:y'],
  ['myregistry:5000/team/app', { domain: 'myregistry:5000', path: 'team/app', tag: 'latest' }, 'myregistry:5000/team/app:latest', 'myregistry:5000/team/app:latest'],
  ['reg.example.com/a', { domain: 'reg.example.com', path: 'a', tag: 'latest' }, 'reg.example.com/a:latest', 'reg.example.com/a:latest'],
  ['reg.example.com/a/b@' + SHA_A, { domain: 'reg.example.com', path: 'a/b', digest: SHA_A }, 'reg.example.com/a/b@' + SHA_A, 'reg.example.com/a/b@' + SHA_A],
  ['a:1@' + SHA_B, { domain: 'docker.io', path: 'library/a', tag: '1', digest: SHA_B }, 'docker.io/library/a:1@' + SHA_B, 'a:1@' + SHA_B],
  ['alpine@' + SHA_A, { domain: 'docker.io', path: 'library/alpine', digest: SHA_A }, 'docker.io/library/alpine@' + SHA_A, 'alpine@' + SHA_A],
  ['alpine@' + SHA512, { domain: 'docker.io', path: 'library/alpine', digest: SHA512 }, 'docker.io/library/alpine@' + SHA512, 'alpine@' + SHA512],
  ['x__y/a--b.c_d', { domain: 'docker.io', path: 'x__y/a--b.c_d', tag: 'latest' }, 'docker.io/x__y/a--b.c_d:latest', 'x__y/a--b.c_d:latest'],
  ['foo:V1.0_rc-2', { domain: 'docker.io', path: 'library/foo', tag: 'V1.0_rc-2' }, 'docker.io/library/foo:V1.0_rc-2', 'foo:V1.0_rc-2'],
  ['foo:_x', { domain: 'docker.io', path: 'library/foo', tag: '_x' }, 'docker.io/library/foo:_x', 'foo:_x'],
  [`foo:${'t'.repeat(128)}`, { domain: 'docker.io', path: 'library/foo', tag: 't'.repeat(128) }, `docker.io/library/foo:${'t'.repeat(128)}`, `foo:${'t'.repeat(128)}`],
  // A single name is never a host: these are Docker Hub images, as Docker reads them.
  ['localhost', { domain: 'docker.io', path: 'library/localhost', tag: 'latest' }, 'docker.io/library/localhost:latest', 'localhost:latest'],
  ['localhost:5000', { domain: 'docker.io', path: 'library/localhost', tag: '5000' }, 'docker.io/library/localhost:5000', 'localhost:5000'],
  ['example.com', { domain: 'docker.io', path: 'library/example.com', tag: 'latest' }, 'docker.io/library/example.com:latest', 'example.com:latest'],
  // Repository names are lowercase, so an uppercase first component can only be a host.
  ['Registry/app', { domain: 'Registry', path: 'app', tag: 'latest' }, 'Registry/app:latest', 'Registry/app:latest'],
  ['a-b.example:443/x/y:z', { domain: 'a-b.example:443', path: 'x/y', tag: 'z' }, 'a-b.example:443/x/y:z', 'a-b.example:443/x/y:z'],
];

describe('parseReference, formatReference, familiarName', () => {
  for (const [input, parsed, full, familiar] of VALID) {
    it(input.length > 60 ? `${input.slice(0, 60)}…` : input, () => {
      const ref = parseReference(input);
      assert.deepEqual(ref, parsed);
      assert.equal(formatReference(ref), full);
      assert.equal(familiarName(ref), familiar);
      // Normalising again changes nothing.
      assert.deepEqual(parseReference(full), parsed);
    });
  }
});

// [input, part of the reason]
const INVALID: Array<[string, RegExp]> = [
  ['', /empty/],
  ['Alpine', /must be lowercase/],
  ['user/App', /must be lowercase/],
  ['reg.io/Foo', /must be lowercase/],
  ['localhost:5000/Foo:1', /must be lowercase/],
  ['alpine:', /tag "" is not valid/],
  ['alpine:-x', /tag "-x" is not valid/],
  ['alpine:.x', /tag ".x" is not valid/],
  ['alpine:a+b', /tag "a\+b" is not valid/],
  [`foo:${'t'.repeat(129)}`, /tag "t+" is not valid/],
  ['a@sha256:abc', /digest "sha256:abc"/],
  ['a@', /digest ""/],
  ['a@' + SHA_A.slice(0, -1), /must have 64 hex characters, not 63/],
  [`a@sha256:${'a'.repeat(65)}`, /must have 64 hex characters, not 65/],
  [`a@sha256:${'A'.repeat(64)}`, /lowercase hex/],
  [`a@md5:${'a'.repeat(32)}`, /algorithm "md5" is not supported/],
  [`a@sha256${'a'.repeat(64)}`, /digest/],
  ['a b', /repository name "a b" is not valid/],
  ['x___y', /repository name "x___y" is not valid/],
  ['-a', /is not valid/],
  ['a-', /is not valid/],
  ['a//b', /is not valid/],
  ['a/', /is not valid/],
  ['/a', /is not valid/],
  ['reg.io/', /is not valid/],
  ['reg.io:abc/a', /is not valid/],
  ['a:1:2', /tag "1:2" is not valid/],
  ['a.b/c..d', /is not valid/],
  ['a'.repeat(64), /image ID/],
  [`${'a'.repeat(256)}`, /not be more than 255 characters/],
  [`reg.io/${'a'.repeat(256)}`, /not be more than 255 characters/],
];

describe('parseReference rejects', () => {
  for (const [input, reason] of INVALID) {
    it(`${JSON.stringify(input.length > 60 ? `${input.slice(0, 60)}…` : input)} (${reason.source})`, () => {
      assert.throws(
        () => parseReference(input),
        (err: unknown) => {
          assert.ok(err instanceof InvalidReferenceError, String(err));
          assert.equal(err.code, 'KILN_INVALID_REFERENCE');
          assert.equal(err.userFacing, true);
          assert.equal(err.ref, input);
          assert.ok(err.message.includes(JSON.stringify(input)), `message does not name the ref: ${err.message}`);
          assert.match(err.message, reason);
          return true;
        },
      );
    });
  }
});

describe('familiarName keeps what Docker keeps', () => {
  const cases: Array<[ImageRef, string]> = [
    [{ domain: 'docker.io', path: 'library/alpine' }, 'alpine'],
    [{ domain: 'docker.io', path: 'library/a/b', tag: '1' }, 'library/a/b:1'],
    [{ domain: 'docker.io', path: 'libraryx/a', tag: '1' }, 'libraryx/a:1'],
    [{ domain: 'ghcr.io', path: 'library/alpine', tag: '1' }, 'ghcr.io/library/alpine:1'],
  ];
  for (const [ref, expected] of cases) {
    it(expected, () => assert.equal(familiarName(ref), expected));
  }
});
