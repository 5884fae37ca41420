// The times an exported image carries (BuildKit's rules): SOURCE_DATE_EPOCH everywhere, or else
// each new layer's snapshot time, metadata steps the time of the newest new layer before them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageConfig } from '../../exporter/image-export.js';
import type { HistoryEntry, ImageConfig } from '../../oci/image-spec.js';
import type { LayerLabel } from '../../snapshotter/unpack.js';

const T0 = '2020-01-01T00:00:00.000Z'; // the base image's layer
const T1 = '2026-11-23T10:00:00.000Z';
const T2 = '2026-11-23T11:00:00.000Z';

const layer = (n: number): LayerLabel => ({ diffId: `sha256:${String(n).repeat(64)}`, digest: `sha256:${String(n + 1).repeat(64)}`, size: 1, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' });

function config(history: HistoryEntry[]): ImageConfig {
  return { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] }, history };
}

const base: HistoryEntry = { created: T0, created_by: 'base' };
const meta = (by: string): HistoryEntry => ({ created_by: by, empty_layer: true });
const step = (by: string): HistoryEntry => ({ created_by: by });

const cases: { name: string; history: HistoryEntry[]; layerTimes: string[]; want: (string | undefined)[]; created: string }[] = [
  {
    name: 'metadata before the first new layer takes its time; after a layer, the layer before it',
    history: [base, meta('ENV'), step('COPY'), meta('WORKDIR'), step('RUN'), meta('CMD')],
    layerTimes: [T0, T1, T2],
    want: [T0, T1, T1, T1, T2, T2],
    created: T2,
  },
  {
    name: 'no new layer: metadata takes the base image\'s last time',
    history: [base, meta('LABEL'), meta('CMD')],
    layerTimes: [T0],
    want: [T0, T0, T0],
    created: T0,
  },
  {
    name: 'a layer without a history entry gets one, with its snapshot time',
    history: [base],
    layerTimes: [T0, T1],
    want: [T0, T1],
    created: T1,
  },
];

for (const c of cases) {
  test(`image times: ${c.name}`, () => {
    const layers = c.layerTimes.map((_, i) => layer(i + 1));
    const out = imageConfig(config(c.history), layers, { layers: c.layerTimes });
    assert.deepEqual(out.history!.map((h) => h.created), c.want);
    assert.equal(out.created, c.created);
    assert.deepEqual(out.rootfs.diff_ids, layers.map((l) => l.diffId));
  });
}

test('image times: SOURCE_DATE_EPOCH sets the image and every entry that has no time of its own', () => {
  const epoch = '2023-11-14T22:13:20.000Z';
  const out = imageConfig(config([base, meta('ENV'), step('COPY')]), [layer(1), layer(2)], { epoch });
  assert.deepEqual(out.history!.map((h) => h.created), [T0, epoch, epoch]);
  assert.equal(out.created, epoch);
});
