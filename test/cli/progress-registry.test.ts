// `kiln push`/`kiln pull`'s blob view on a fixed event stream: plain lines for scripts, and on a
// terminal a live line per blob with its bytes that ends as the blob's outcome.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createRegistryProgress } from '../../cli/progress-registry.js';
import type { RegistryEvent } from '../../api/index.js';

function sink(isTTY: boolean, columns = 80): Writable & { text(): string; isTTY: boolean; columns: number } {
  const chunks: string[] = [];
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return Object.assign(w, { isTTY, columns, text: () => chunks.join('') });
}

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const ref = '127.0.0.1:5000/app:1';
const bytes = (digest: string, done: number, size: number): RegistryEvent => ({ type: 'blob.bytes', ref, digest, size, done, direction: 'push', time: 0 });
const blob = (digest: string, size: number, status: 'pushed' | 'exists'): RegistryEvent => ({ type: 'blob', ref, digest, size, status, time: 0 });

/** What a terminal shows once the writes are played: cursor-up and clear-below are honoured. */
function screen(text: string): string[] {
  const lines: string[] = [];
  let row = 0;
  for (const part of text.split(/(\x1b\[\d*F|\x1b\[J)/)) {
    const up = /^\x1b\[(\d*)F$/.exec(part);
    if (up) row = Math.max(0, row - Number(up[1] || 1));
    else if (part === '\x1b[J') lines.length = row;
    else for (const ch of part.split(/(\n)/)) {
      if (ch === '\n') row++;
      else if (ch !== '') lines[row] = (lines[row] ?? '') + ch;
    }
  }
  return lines.slice(0, row);
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
}

test('plain: one line per blob once it is done, bytes not shown', () => {
  const out = sink(false);
  const p = createRegistryProgress(out);
  for (const e of [bytes(A, 10, 20), blob(A, 20, 'pushed'), blob(B, 5, 'exists')]) p.event(e);
  p.close();
  assert.equal(out.text(), `${A}: pushed\n${B}: exists\n`);
});

test('tty: a bar with the bytes while the blob moves, its outcome and size once done, one line each', async () => {
  const out = sink(true);
  const p = createRegistryProgress(out);
  p.event(bytes(A, 5_000_000, 10_000_000));
  p.event(blob(B, 2_000, 'exists'));
  await until(() => out.text().includes('pushing'));
  assert.deepEqual(screen(out.text()), ['aaaaaaaaaaaa: pushing [==========>         ] 5MB/10MB', 'bbbbbbbbbbbb: exists 2kB']);
  p.event(bytes(A, 10_000_000, 10_000_000));
  p.event(blob(A, 10_000_000, 'pushed'));
  p.close();
  assert.deepEqual(screen(out.text()), ['aaaaaaaaaaaa: pushed 10MB', 'bbbbbbbbbbbb: exists 2kB']);
});

test('tty: a resumed upload does not move the bar back; lines fit the terminal width', async () => {
  const out = sink(true, 40);
  const p = createRegistryProgress(out);
  p.event(bytes(A, 8_000_000, 10_000_000));
  p.event(bytes(A, 6_000_000, 10_000_000));
  p.close();
  const [line] = screen(out.text());
  assert.equal(line, 'aaaaaaaaaaaa: pushing [================…');
  assert.equal(line!.length, 40);
});
