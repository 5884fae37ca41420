// How the CLI shows an error: one line for what a user caused (a KilnError that is userFacing), the
// stack for anything else, including an error that only looks like a user error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderError, UsageError } from '../../cli/errors.js';
import { KilnError, isUserError } from '../../api/index.js';
import { InvalidReferenceError } from '../../oci/errors.js';
import { LlbBuildError } from '../../solver/llb/errors.js';
import { ImageNotFoundError } from '../../snapshotter/errors.js';
import { SolveError } from '../../solver/errors.js';
import { SecretMissingError } from '../../solver/executors/errors.js';

test('a user error is its message on one line, no stack', () => {
  const err = new InvalidReferenceError('UPPER', 'repository name must be lowercase');
  assert.ok(err instanceof KilnError && isUserError(err));
  assert.equal(renderError(err), 'error: invalid image reference "UPPER": repository name must be lowercase\n');
  assert.equal(renderError(new UsageError('expected an image', 'Usage: kiln x')), 'error: expected an image\n\nUsage: kiln x\n');
});

test('a hint is part of the one line and also kept apart for library callers', () => {
  const err = new ImageNotFoundError('a:1', '/s', 'no image record by that name or digest');
  assert.equal(err.hint, "pull it with 'kiln pull a:1', or add it with 'kiln import ROOTFS.tar a:1' or 'kiln load -i IMAGE.tar'");
  assert.equal(renderError(err), `error: base image "a:1" is not in the store at /s (no image record by that name or digest); ${err.hint}\n`);
  assert.equal(new ImageNotFoundError('a:1', '/s').hint, undefined);
  const step = new SolveError({ name: '[2/2] RUN x', digest: 'sha256:x', location: 'Dockerfile:2', output: [] }, new SecretMissingError('[2/2] RUN x', 'tok'));
  assert.equal(step.message, '[2/2] RUN x (Dockerfile:2): secret "tok" was not provided; pass it with --secret id=tok,src=FILE (or mark the mount required=false)');
  assert.equal(step.hint, 'pass it with --secret id=tok,src=FILE (or mark the mount required=false)');
});

test('a bug is an internal error with its stack: a TypeError, a typed error of kiln that is not a user\'s, a look-alike', () => {
  let typeError: unknown;
  try {
    (undefined as unknown as { x: number }).x++;
  } catch (err) {
    typeError = err;
  }
  const lookAlike = Object.assign(new Error('looks like a user error'), { code: 'KILN_X', userFacing: true });
  for (const err of [typeError, new LlbBuildError('exec op without args'), lookAlike]) {
    const out = renderError(err);
    assert.match(out, /^internal error \(a bug in kiln; please report it\):\n/, out);
    assert.match(out, /\n\s+at .*errors\.test\.js/, `the stack is shown: ${out}`);
  }
});
