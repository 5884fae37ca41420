// The progress renderers on a fixed event stream: buildx's plain layout, raw JSON lines, and the
// live view's final frame.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createProgress } from '../../cli/progress.js';
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
  { type: 'vertex.cached', digest: 'sha256:a', name: '[1/3] FROM busybox', time: t },
  { type: 'vertex.start', digest: 'sha256:b', name: '[2/3] RUN make', time: t },
  { type: 'vertex.log', digest: 'sha256:b', stream: 'stdout', data: 'building\npart', time: t + 500 },
  { type: 'vertex.log', digest: 'sha256:b', stream: 'stdout', data: 'ial line\n', time: t + 1000 },
  { type: 'vertex.done', digest: 'sha256:b', name: '[2/3] RUN make', time: t + 1200, durationMs: 1200 },
  { type: 'vertex.start', digest: 'sha256:c', name: '[3/3] RUN test', time: t + 1200 },
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

test('rawjson: one parseable event per line, unchanged', () => {
  const out = sink();
  const p = createProgress('rawjson', out);
  for (const e of events) p.event(e);
  p.close();
  assert.deepEqual(out.text().trimEnd().split('\n').map((l) => JSON.parse(l) as SolveEvent), events);
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
