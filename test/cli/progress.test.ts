// The progress renderers on a fixed event stream: buildx's plain layout, BuildKit's SolveStatus JSON, and the
// live view's final frame.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createProgress } from '../../cli/progress.js';
import { rawjsonWarning } from '../../cli/progress-rawjson.js';
import type { SolveEvent } from '../../solver/types.js';

function sink(isTTY = false): Writable & { text(): string; isTTY: boolean } {
  const chunks: string[] = [];
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return Object.assign(w, { isTTY, text: () => chunks.join('') });
}

const t = 1_000_000;
const events: SolveEvent[] = [
  { type: 'vertex.cached', digest: 'sha256:a', name: '[1/3] FROM busybox', inputs: [], time: t },
  { type: 'vertex.start', digest: 'sha256:b', name: '[2/3] RUN make', inputs: ['sha256:a'], time: t },
  { type: 'vertex.log', digest: 'sha256:b', stream: 'stdout', data: 'building\npart', time: t + 500 },
  { type: 'vertex.log', digest: 'sha256:b', stream: 'stdout', data: 'ial line\n', time: t + 1000 },
  { type: 'vertex.done', digest: 'sha256:b', name: '[2/3] RUN make', time: t + 1200, durationMs: 1200 },
  { type: 'vertex.start', digest: 'sha256:c', name: '[3/3] RUN test', inputs: ['sha256:b'], time: t + 1200 },
  { type: 'vertex.error', digest: 'sha256:c', name: '[3/3] RUN test', time: t + 1300, error: 'exit code 1' },
];

test('plain: numbered steps, CACHED/DONE/ERROR lines and output lines timed from the step start', () => {
  const out = sink();
  const p = createProgress('plain', out);
  for (const e of events) p.event(e);
  p.close();
  assert.equal(
    out.text(),
    [
      '',
      '#1 [1/3] FROM busybox',
      '#1 CACHED',
      '',
      '#2 [2/3] RUN make',
      '#2 0.500 building',
      '#2 1.000 partial line',
      '#2 DONE 1.2s',
      '',
      '#3 [3/3] RUN test',
      '#3 ERROR: exit code 1',
      '',
    ].join('\n'),
  );
});

test('rawjson: BuildKit SolveStatus objects, one per line, each vertex update whole', () => {
  const out = sink();
  const p = createProgress('rawjson', out);
  for (const e of events) p.event(e);
  p.event({ type: 'export.start', what: 'exporting layers', time: t + 1400 });
  p.event({ type: 'export.done', what: 'exporting layers', time: t + 1500 });
  p.close();
  const lines = out.text().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const at = (ms: number): string => new Date(ms).toISOString();
  assert.deepEqual(lines.slice(0, 7), [
    { vertexes: [{ digest: 'sha256:a', name: '[1/3] FROM busybox', started: at(t), completed: at(t), cached: true }] },
    { vertexes: [{ digest: 'sha256:b', inputs: ['sha256:a'], name: '[2/3] RUN make', started: at(t) }] },
    { logs: [{ vertex: 'sha256:b', stream: 1, data: Buffer.from('building\npart').toString('base64'), timestamp: at(t + 500) }] },
    { logs: [{ vertex: 'sha256:b', stream: 1, data: Buffer.from('ial line\n').toString('base64'), timestamp: at(t + 1000) }] },
    { vertexes: [{ digest: 'sha256:b', inputs: ['sha256:a'], name: '[2/3] RUN make', started: at(t), completed: at(t + 1200) }] },
    { vertexes: [{ digest: 'sha256:c', inputs: ['sha256:b'], name: '[3/3] RUN test', started: at(t + 1200) }] },
    { vertexes: [{ digest: 'sha256:c', inputs: ['sha256:b'], name: '[3/3] RUN test', started: at(t + 1200), completed: at(t + 1300), error: 'exit code 1' }] },
  ]);
  const exporter = lines.slice(7);
  assert.equal(exporter.length, 4, 'the exporter vertex, its status begun and done, the vertex completed');
  const [begun, status, done, completed] = exporter as [{ vertexes: { digest: string; name: string }[] }, { statuses: { vertex: string; name: string; completed?: string }[] }, { statuses: { completed?: string }[] }, { vertexes: { completed?: string }[] }];
  assert.equal(begun.vertexes[0]!.name, 'exporting to image');
  assert.equal(status.statuses[0]!.vertex, begun.vertexes[0]!.digest);
  assert.equal(status.statuses[0]!.name, 'exporting layers');
  assert.equal(done.statuses[0]!.completed, at(t + 1500));
  assert.ok(completed.vertexes[0]!.completed);
});

test('auto picks the live view on a terminal, and its last frame shows every step and its state', () => {
  const out = sink(true);
  const p = createProgress('auto', out);
  for (const e of events) p.event(e);
  p.close();
  const text = out.text();
  assert.match(text, /\x1b\[J/, 'redraws in place');
  const frame = text.slice(text.lastIndexOf('[+] Building'));
  assert.match(frame, /\(3\/3\)/);
  assert.match(frame, /=> \[1\/3\] FROM busybox +CACHED/);
  assert.match(frame, /=> \[2\/3\] RUN make +1\.2s/);
  assert.match(frame, /=> \[3\/3\] RUN test +ERROR 0\.1s\n => > ERROR: exit code 1/);
  assert.equal(createProgress('auto', sink(false)).constructor, createProgress('plain', sink()).constructor);
});

test('rawjson: a frontend warning is a SolveStatus warning, its text base64 in short', () => {
  const line = JSON.parse(rawjsonWarning('Dockerfile:3: something to fix')) as { warnings: { level: number; short: string }[] };
  assert.equal(line.warnings.length, 1);
  assert.equal(line.warnings[0]!.level, 1);
  assert.equal(Buffer.from(line.warnings[0]!.short, 'base64').toString(), 'Dockerfile:3: something to fix');
});
