// The library surface as a program uses it: `import { build } from 'kiln'` (the package's own
// entry), building the README's example into a real store and reading the result back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { importBusybox, repoRoot, runKiln } from '../helpers/kiln-cli.js';

type Kiln = typeof import('../../api/index.js');

test("import { build } from 'kiln' builds examples/hello into the store, with its events and metadata", async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-api-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const root = path.join(dir, 'root');
  await importBusybox(dir, root);

  // The package name, resolved through package.json's "exports" as any program's import would be.
  const kiln = (await import('kiln' as string)) as Kiln;
  const store = await kiln.openStore(root);
  const snapshotter = await kiln.openSnapshots(store);
  const events: string[] = [];
  const result = await kiln.build({
    store,
    snapshotter,
    context: path.join(repoRoot, 'examples/hello'),
    outputs: kiln.buildOutputs([], ['hello:api']),
    sourceDateEpoch: 1_700_000_000,
    onEvent: (e) => events.push(e.type === 'warning' ? `warning ${e.message}` : e.type),
  });
  assert.match(result.image?.manifestDigest ?? '', /^sha256:[a-f0-9]{64}$/);
  assert.equal(result.metadata?.['containerimage.digest'], result.image?.manifestDigest);
  assert.equal(result.metadata?.['image.name'], 'docker.io/library/hello:api');
  assert.ok(events.includes('vertex.start') && events.includes('vertex.done') && events.includes('export.done'), events.join(' '));

  const ran = await runKiln(['run', '--rm', '--root', root, 'hello:api']);
  assert.equal(ran.stdout.toString(), 'Hello from kiln, world!\n', ran.stderr);
  const again = await kiln.build({ store, snapshotter, context: path.join(repoRoot, 'examples/hello'), outputs: kiln.buildOutputs([], ['hello:api']), sourceDateEpoch: 1_700_000_000 });
  assert.equal(again.image?.manifestDigest, result.image?.manifestDigest, 'a rebuild is the same image');
});
