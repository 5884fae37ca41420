#!/usr/bin/env node
// Runs kiln's bundle (dist/kiln.cjs, made by `npm run build:ts`) through V8's code cache. A cached
// build otherwise spends more time compiling kiln than running it, and Node 20 keeps no such cache
// itself. One cache per command, holding what that command compiled, is written beside the bundle
// after a run without a usable one; V8 rejects a cache made for other source or another V8.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const bundle = path.join(dist, 'kiln.cjs');
const command = /^[a-z]+$/.test(process.argv[2] ?? '') ? process.argv[2] : 'other';
const cacheFile = path.join(dist, 'v8-cache', `${command}.bin`);

let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  // First run of this command: the cache is made below.
}
const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(bundle, 'utf8')}\n})`;
const script = new vm.Script(source, { filename: bundle, ...(cachedData ? { cachedData } : {}) });
const mod = { exports: {} };
script.runInThisContext().call(mod.exports, mod.exports, createRequire(bundle), mod, bundle, dist);
process.exitCode = await mod.exports.main(process.argv.slice(2));

if (cachedData === undefined || script.cachedDataRejected) {
  try {
    mkdirSync(path.dirname(cacheFile), { recursive: true });
    const tmp = `${cacheFile}.${process.pid}`;
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, cacheFile); // whole or not at all, even with several kilns starting at once
  } catch {
    // A read-only install runs without the cache, only slower.
  }
}
