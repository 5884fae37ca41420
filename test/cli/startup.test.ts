// What `kiln` loads before it does anything: module loading is most of a cached build's time, so
// commands load only their own modules and `kiln build` none of the archive writers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
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

test('kiln --help loads the command table and no command', async () => {
  const loaded = await loadedBy(['--help']);
  assert.deepEqual(loaded.filter((f) => f.startsWith('dist/')).sort(), ['dist/cli/commands/index.js', 'dist/cli/errors.js', 'dist/cli/main.js']);
});

test('kiln build loads its own command and none of the archive writers', async () => {
  const loaded = await loadedBy(['build', '--help']);
  assert.ok(loaded.includes('dist/cli/commands/build.js'));
  const unwanted = loaded.filter((f) => /^dist\/cli\/commands\/(?!build|index)|^dist\/exporter\/(build-output|image-save|tar-pack|oci-layout|docker-archive)\.js$/.test(f));
  assert.deepEqual(unwanted, []);
});
