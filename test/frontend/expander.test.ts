// The frontend's expansion boundary: a word the user wrote wrong becomes a DockerfileError at the
// instruction's line; anything else thrown while expanding (a bug) is left as it is, stack and all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Expander } from '../../frontend/stage-state.js';
import { DockerfileError } from '../../frontend/errors.js';

const at = { file: 'Dockerfile', startLine: 7, endLine: 7 };

test('a malformed word is a one-line Dockerfile error naming the file and line', () => {
  const ex = new Expander('\\', 'Dockerfile');
  assert.throws(() => ex.word('${A', () => undefined, at), (err: unknown) => {
    assert.ok(err instanceof DockerfileError, String(err));
    assert.equal(err.userFacing, true);
    assert.equal(err.message, `Dockerfile:7: failed to expand "\${A": syntax error: missing '}'`);
    return true;
  });
});

test('a bug while expanding (a TypeError from a lookup) is not turned into a Dockerfile error', () => {
  const ex = new Expander('\\', 'Dockerfile');
  const broken = (name: string): string | undefined => (undefined as unknown as Record<string, string>)[name];
  for (const expand of [() => ex.word('$A', broken, at), () => ex.words('x $A', broken, at)]) {
    assert.throws(expand, (err: unknown) => {
      assert.ok(err instanceof TypeError, `the TypeError itself, not a DockerfileError: ${String(err)}`);
      assert.match(err.stack ?? '', /\n\s+at .*expander\.test\.js/);
      return true;
    });
  }
});
