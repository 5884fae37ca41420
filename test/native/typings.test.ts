// The addon's TypeScript types are generated from the Rust source (napi-rs, `npm run
// build:native` writes native/kiln-native.d.ts). These tests fail when the committed file no
// longer matches what the build generates, or when it names functions the loaded addon lacks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { native } from '../../native/binding.js';
import { repoRoot } from '../helpers/kiln-cli.js';

const declarations = path.join(repoRoot, 'native', 'kiln-native.d.ts');

test('the committed typings are what the last native build generated', () => {
  // The build (npm ci / npm run build:native) rewrites the file; a difference from the commit
  // means a Rust signature changed without its typings being committed.
  const status = execFileSync('git', ['status', '--porcelain', '--', 'native/kiln-native.d.ts'], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(status, '', `native/kiln-native.d.ts differs from the commit: run npm run build:native and commit it\n${status}`);
});

test('every function and class the typings declare is in the loaded addon, and nothing else is', () => {
  const declared = [...readFileSync(declarations, 'utf8').matchAll(/^export declare (?:function|class) (\w+)\b/gm)].map((m) => m[1]).sort();
  const exported = Object.keys(native).filter((k) => typeof (native as unknown as Record<string, unknown>)[k] === 'function').sort();
  assert.ok(declared.length > 10, `too few declarations parsed: ${declared.join(', ')}`);
  assert.deepEqual(declared, exported);
});
