// The Dockerfile source map: every op of a compiled Dockerfile points at the instruction that made
// it, the map survives marshaling, the solver's graph reads it, and a failed step quotes its lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from '../../frontend/dockerfile.js';
import { compileDockerfile, type CompileOptions, type CompileResult } from '../../frontend/compile.js';
import { marshalDefinition, opDigest, unmarshalDefinition, unmarshalOp } from '../../solver/llb/marshal.js';
import type { Op } from '../../solver/llb/types.js';
import { buildGraph } from '../../solver/graph.js';
import { SolveError, sourceExcerpt } from '../../solver/errors.js';
import { ProcessFailedError } from '../../solver/executors/errors.js';

const amd64 = { architecture: 'amd64', os: 'linux' };

async function compile(text: string, opts: Partial<CompileOptions> = {}): Promise<CompileResult> {
  return compileDockerfile(parseDockerfile(text, 'build/Dockerfile.dev'), {
    file: 'build/Dockerfile.dev',
    text,
    buildArgs: new Map(),
    targetPlatform: amd64,
    buildPlatform: amd64,
    ignorePatterns: [],
    ...opts,
  });
}

/** Each op of the Definition (terminal op left out) as a short label with the lines it maps to. */
function located(r: CompileResult): [string, string][] {
  const def = r.definition;
  return def.def.slice(0, -1).map((bytes) => {
    const op = unmarshalOp(bytes);
    const locs = def.source?.locations?.[opDigest(bytes)]?.locations ?? [];
    const lines = locs.map((l) => l.ranges!.map((rg) => `${rg.start!.line}-${rg.end!.line}`).join(',')).join(' ');
    return [label(op), lines];
  });
}

function label(op: Op): string {
  if (op.source) return op.source.identifier!.replace(/^docker-image:\/\/docker\.io\/library\//, 'image:').replace(/^local:\/\/context$/, 'context');
  if (op.exec) return `exec ${op.exec.meta!.args!.at(-1)}`;
  if (op.file) return `file ${op.file.actions!.map((a) => (a.copy ? `copy ${a.copy.src}` : a.mkdir ? `mkdir ${a.mkdir.path}` : a.mkfile ? `mkfile ${a.mkfile.path}` : '?')).join(' ')}`;
  return 'other';
}

const DOCKERFILE = [
  'FROM busybox AS build', // 1
  'WORKDIR /src', // 2
  'RUN echo one && \\', // 3
  '    echo two > /two', // 4
  'COPY a.txt .', // 5
  'RUN <<EOF', // 6
  '#!/bin/sh', // 7
  'echo heredoc', // 8
  'EOF', // 9
  '', // 10
  'FROM alpine', // 11
  'ENV X=1', // 12
  'COPY --from=build /two /two', // 13
  'RUN --mount=type=cache,target=/c true', // 14
  '',
].join('\n');

test('every op points at the lines of the instruction that made it; ops of an earlier stage keep their own', async () => {
  const r = await compile(DOCKERFILE);
  assert.deepEqual(located(r).sort(), [
    ['context', '5-5'],
    ['exec echo one &&     echo two > /two', '3-4'],
    ['exec true', '14-14'],
    ['exec /dev/pipes/EOF', '6-9'],
    ['file copy /a.txt', '5-5'],
    ['file copy /two', '13-13'],
    ['file mkdir /src', '2-2'],
    ['file mkfile /EOF', '6-9'],
    ['image:alpine:latest', '11-11'],
    ['image:busybox:latest', '1-1'],
  ].sort());
  const info = r.definition.source?.infos;
  assert.equal(info?.length, 1);
  assert.equal(info?.[0]?.filename, 'build/Dockerfile.dev');
  assert.equal(info?.[0]?.language, 'Dockerfile');
  assert.equal(new TextDecoder().decode(info?.[0]?.data), DOCKERFILE);
});

test('the source map changes no op: the same Dockerfile compiles to the same bytes with or without it', async () => {
  const withText = await compile(DOCKERFILE);
  const without = await compile(DOCKERFILE, { text: undefined });
  assert.deepEqual(withText.definition.def, without.definition.def);
  assert.equal(without.definition.source?.infos?.[0]?.data, undefined, 'no text, no data');
  assert.deepEqual(without.definition.source?.locations, withText.definition.source?.locations);
});

test('one op made by two instructions keeps both places; ONBUILD trigger ops point at the FROM', async () => {
  const twice = await compile('FROM busybox AS a\nRUN make\nFROM busybox AS b\nRUN make\nFROM scratch\nCOPY --from=a / /a\nCOPY --from=b / /b\n');
  const make = twice.definition.def.find((b) => unmarshalOp(b).exec);
  const places = twice.definition.source?.locations?.[opDigest(make!)]?.locations?.map((l) => l.ranges?.[0]?.start?.line);
  assert.deepEqual(places, [2, 4]);

  const triggered = await compile('# base has ONBUILD\nFROM base\nRUN after\n', {
    resolveImage: async (ref) => ({ ref, config: { architecture: 'amd64', os: 'linux', config: { OnBuild: ['RUN trigger'] }, rootfs: { type: 'layers', diff_ids: [] } } }),
  });
  assert.deepEqual(located(triggered).sort(), [
    ['exec after', '3-3'],
    ['exec trigger', '2-2'],
    ['image:base:latest', '2-2'],
  ]);
});

test('the map survives marshaling, and the solver graph reads each op\'s file, lines and text from it', async () => {
  const r = await compile(DOCKERFILE);
  const back = unmarshalDefinition(marshalDefinition(r.definition));
  const g = buildGraph(back);
  const run = g.vertices.find((v) => v.op.exec?.meta?.args?.at(-1)?.startsWith('echo one'));
  assert.equal(run?.location, 'build/Dockerfile.dev:3');
  assert.deepEqual({ ...run?.source, text: run?.source?.text === DOCKERFILE }, { filename: 'build/Dockerfile.dev', startLine: 3, endLine: 4, text: true });
});

test('the excerpt: two lines around a one-line instruction, one around a longer one, clipped at the file edges', () => {
  const text = 'FROM a\nRUN b\nRUN c\nRUN d \\\n  e\nRUN f\nRUN g\n';
  assert.equal(
    sourceExcerpt({ filename: 'Dockerfile', text, startLine: 3, endLine: 3 }),
    ['Dockerfile:3', '--------------------', '   1 |     FROM a', '   2 |     RUN b', '   3 | >>> RUN c', '   4 |     RUN d \\', '   5 |       e', '--------------------', ''].join('\n'),
  );
  assert.equal(
    sourceExcerpt({ filename: 'Dockerfile', text, startLine: 4, endLine: 5 }),
    ['Dockerfile:4', '--------------------', '   3 |     RUN c', '   4 | >>> RUN d \\', '   5 | >>>   e', '   6 |     RUN f', '--------------------', ''].join('\n'),
  );
  assert.equal(
    sourceExcerpt({ filename: 'Dockerfile', text, startLine: 1, endLine: 1 }),
    ['Dockerfile:1', '--------------------', '   1 | >>> FROM a', '   2 |     RUN b', '   3 |     RUN c', '--------------------', ''].join('\n'),
  );
  assert.equal(sourceExcerpt({ filename: 'Dockerfile', startLine: 4, endLine: 5 }), 'Dockerfile:4\n', 'without the text, only the place');
});

test('a failed step is one line in the message and a block in detail: its output, then its lines', () => {
  const err = new SolveError(
    { name: '[2/2] RUN c', digest: 'sha256:x', location: 'Dockerfile:3', source: { filename: 'Dockerfile', text: 'FROM a\nRUN b\nRUN c\n', startLine: 3, endLine: 3 }, output: ['out 1', 'out 2'] },
    new ProcessFailedError('[2/2] RUN c', ['/bin/sh', '-c', 'c'], 3),
  );
  assert.equal(err.message, '[2/2] RUN c (Dockerfile:3): process "/bin/sh -c c" did not complete successfully: exit code: 3');
  assert.equal(
    err.detail,
    ['------', ' > [2/2] RUN c:', 'out 1', 'out 2', '------', 'Dockerfile:3', '--------------------', '   1 |     FROM a', '   2 |     RUN b', '   3 | >>> RUN c', '--------------------', ''].join('\n'),
  );
});
