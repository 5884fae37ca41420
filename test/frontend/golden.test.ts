// Golden cases: every folder under test/frontend/cases holds a Dockerfile and the expected.json that
// parseDockerfile must produce for it. UPDATE_GOLDEN=1 rewrites expected.json (then review the diff).

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseDockerfile } from '../../frontend/dockerfile.js';

const root = path.resolve(fileURLToPath(import.meta.url), '../../../..');
const casesDir = path.join(root, 'test/frontend/cases');
const update = process.env.UPDATE_GOLDEN === '1';

const cases = readdirSync(casesDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

test('golden cases are present', () => {
  assert.ok(cases.length >= 30, `expected at least 30 cases in ${casesDir}, found ${cases.length}`);
});

for (const name of cases) {
  test(`golden: ${name}`, () => {
    const dir = path.join(casesDir, name);
    const text = readFileSync(path.join(dir, 'Dockerfile'), 'utf8');
    const actual: unknown = JSON.parse(JSON.stringify(parseDockerfile(text, 'Dockerfile')));
    const expectedFile = path.join(dir, 'expected.json');
    if (update) {
      writeFileSync(expectedFile, JSON.stringify(actual, null, 2) + '\n');
      return;
    }
    assert.ok(existsSync(expectedFile), `${expectedFile} is missing: run with UPDATE_GOLDEN=1 and review it`);
    assert.deepStrictEqual(actual, JSON.parse(readFileSync(expectedFile, 'utf8')));
  });
}
