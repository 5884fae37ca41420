// LLB parity with BuildKit: for each case folder, the op digests BuildKit's own dockerfile2llb
// (v0.34.2, built on linux/amd64 for linux/amd64 or the case's `platform`, base images resolved
// to empty configs) produced for the Dockerfile,
// in Definition order. Equal digests mean byte-identical ops, so BuildKit tools read our LLB
// and would cache it the same. Cases use no build context: BuildKit's context op carries a
// per-build session id, so nothing downstream of it can match. A case's buildkit.json is written
// by test/frontend/buildkit-llb/write-case.sh NAME.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../helpers/kiln-cli.js';
import { parseDockerfile } from '../../frontend/dockerfile.js';
import { compileDockerfile } from '../../frontend/compile.js';
import { opDigest } from '../../solver/llb/marshal.js';
import { parsePlatform } from '../../oci/platform.js';

const casesDir = path.join(repoRoot, 'test', 'frontend', 'buildkit-parity');
const amd64 = { architecture: 'amd64', os: 'linux' };

for (const name of readdirSync(casesDir)) {
  test(`BuildKit parity: ${name}`, async () => {
    const dir = path.join(casesDir, name);
    const expected = JSON.parse(readFileSync(path.join(dir, 'buildkit.json'), 'utf8')) as { ops: string[]; platform?: string };
    const df = parseDockerfile(readFileSync(path.join(dir, 'Dockerfile'), 'utf8'), 'Dockerfile');
    const targetPlatform = expected.platform !== undefined ? parsePlatform(expected.platform) : amd64;
    const r = await compileDockerfile(df, { file: 'Dockerfile', buildArgs: new Map(), targetPlatform, buildPlatform: amd64, ignorePatterns: [] });
    assert.deepEqual(r.definition.def.map((b) => opDigest(b)), expected.ops);
  });
}
