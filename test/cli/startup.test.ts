// What `kiln` loads before it does anything: module loading is most of a cached build's time, so
// bin/kiln.js runs the bundle (dist/bundle, one file per lazily loaded command plus shared chunks,
// each naming the modules it holds in `// dist/...` comments), commands load only their own code
// and `kiln build` none of the archive writers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { kilnBin, repoRoot } from '../helpers/kiln-cli.js';

// A module loader hook that names every file module as it loads.
const hooks = `export async function load(url, context, next) {
  if (url.startsWith('file:')) process._rawDebug('loaded ' + url);
  return next(url, context);
}`;
const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;

/** The repository files (relative paths) `kiln <args>` loads. */
function loadedBy(args: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, kilnBin, ...args], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', () => {
      const prefix = `loaded file://${repoRoot}/`;
      resolve(err.split('\n').filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length)));
    });
  });
}

/** The compiled modules (`dist/...js`) and packages bundled into the files `kiln <args>` loads. */
async function modulesLoadedBy(args: string[]): Promise<string[]> {
  const files = (await loadedBy(args)).filter((f) => f !== 'bin/kiln.js');
  assert.ok(files.length > 0 && files.every((f) => f.startsWith('dist/bundle/')), `bin/kiln.js runs the bundle, not dist/ modules: ${files.join(', ')}`);
  return files.flatMap((f) => [...readFileSync(path.join(repoRoot, f), 'utf8').matchAll(/^\/\/ ((?:dist|node_modules)\/\S+)$/gm)].map((m) => m[1]!));
}

test('kiln --help loads the command table and no command', async () => {
  const loaded = await modulesLoadedBy(['--help']);
  assert.ok(loaded.includes('dist/cli/commands/index.js') && loaded.includes('dist/cli/main.js'), loaded.join(', '));
  assert.deepEqual(loaded.filter((f) => f.startsWith('dist/cli/commands/') && f !== 'dist/cli/commands/index.js'), []);
});

test('kiln build loads its own command and none of the archive writers', async () => {
  const loaded = await modulesLoadedBy(['build', '--help']);
  assert.ok(loaded.includes('dist/cli/commands/build.js'), loaded.join(', '));
  const unwanted = loaded.filter((f) => /^dist\/cli\/commands\/(?!build|index)|^dist\/exporter\/(build-output|image-save|tar-pack|oci-layout|docker-archive)\.js$|^node_modules\/tar-stream\//.test(f));
  assert.deepEqual(unwanted, []);
});
