// `--secret` specs read as buildx reads them (CSV): a quoted src holding a comma, env secrets, and
// one-line errors naming the flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readSecrets } from '../../api/secrets.js';
import { OptionError } from '../../api/errors.js';

test('readSecrets: quoted fields, file and env secrets, and clear errors', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-secrets-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'a,b'), 'file-value');
  const secrets = await readSecrets(['id=f,"src=a,b"', 'id=e,env=FROM_ENV', 'id=SAME'], { cwd: dir, env: { FROM_ENV: 'env-value', SAME: 'same-value' } });
  assert.deepEqual([...secrets].map(([k, v]) => [k, v.toString()]), [['f', 'file-value'], ['e', 'env-value'], ['SAME', 'same-value']]);
  for (const [spec, message] of [
    ['id=x,"src=a', /--secret=id=x,"src=a: a quoted field is not closed/],
    ['id=x,src', /'src' is not KEY=VALUE/],
    ['id=x,env=UNSET_VAR', /environment variable UNSET_VAR is not set/],
  ] as const) {
    await assert.rejects(readSecrets([spec], { cwd: dir, env: {} }), (err: unknown) => err instanceof OptionError && message.test(err.message));
  }
});
