// Property tests (fast-check) of the reference and platform parsers: any string parses or fails
// with the parser's own typed error, and a parsed reference formats to one that parses back to
// the same thing (normalising is idempotent).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatReference, parseReference } from '../../oci/reference.js';
import { formatPlatform, parsePlatform } from '../../oci/platform.js';
import { InvalidPlatformError, InvalidReferenceError } from '../../oci/errors.js';

const refChars = fc.array(fc.constantFrom('a', 'b', 'Z', '0', '9', '.', '-', '_', '__', '/', ':', '@', 'sha256:', 'f'.repeat(64), 'localhost', 'docker.io', '[::1]', '5000'), { maxLength: 16 }).map((t) => t.join(''));

test('image references parse and format back to themselves, or fail with InvalidReferenceError', () => {
  fc.assert(
    fc.property(fc.oneof(refChars, fc.string({ maxLength: 40 })), (text) => {
      let ref;
      try {
        ref = parseReference(text);
      } catch (err) {
        assert.ok(err instanceof InvalidReferenceError, `${JSON.stringify(text)} threw ${(err as Error)?.stack ?? String(err)}`);
        return;
      }
      const formatted = formatReference(ref);
      assert.deepEqual(parseReference(formatted), ref, `${text} → ${formatted}`);
    }),
    { numRuns: 5000 },
  );
});

test('platforms parse and format back to themselves, or fail with InvalidPlatformError', () => {
  const spec = fc.array(fc.constantFrom('linux', 'windows', 'darwin', 'amd64', 'arm64', 'arm', 'v7', 'v8', 'x86_64', 'aarch64', '386', '/', '//', 'LINUX', ' ', ''), { maxLength: 6 }).map((t) => t.join(''));
  fc.assert(
    fc.property(fc.oneof(spec, fc.string({ maxLength: 20 })), (text) => {
      let p;
      try {
        p = parsePlatform(text);
      } catch (err) {
        assert.ok(err instanceof InvalidPlatformError, `${JSON.stringify(text)} threw ${(err as Error)?.stack ?? String(err)}`);
        return;
      }
      assert.deepEqual(parsePlatform(formatPlatform(p)), p, `${text} → ${formatPlatform(p)}`);
    }),
    { numRuns: 5000 },
  );
});
