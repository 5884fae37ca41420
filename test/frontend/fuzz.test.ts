// Property tests (fast-check) of the Dockerfile reader: random token soup and mutations of the
// golden cases' real Dockerfiles either parse or fail with a DockerfileError that has a line
// (or 0, for the whole file); nothing else is thrown. The shell lexer throws only ExpansionError.
// Large adversarial inputs (1 MiB) parse without hanging.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { parseDockerfile } from '../../frontend/dockerfile.js';
import { DockerfileError } from '../../frontend/errors.js';
import { ExpansionError, ShellLexer } from '../../frontend/expand.js';
import { repoRoot } from '../helpers/kiln-cli.js';

const TOKENS = [
  'FROM ', 'RUN ', 'COPY ', 'ADD ', 'ENV ', 'ARG ', 'LABEL ', 'WORKDIR ', 'USER ', 'CMD ', 'ENTRYPOINT ', 'ONBUILD ', 'HEALTHCHECK ',
  'SHELL ', 'EXPOSE ', 'VOLUME ', 'STOPSIGNAL ', 'MAINTAINER ', 'AS ', '--from=', '--mount=', 'type=cache,', 'target=/x', '--chmod=',
  '--link', '--platform=', '<<EOF', '<<-EOT', 'EOF', '\n', '\r\n', '\\', '\\\n', '`', '"', "'", '$', '${', '}', ':-', ':+', '[', ']', ',', '=',
  ' ', '\t', '#', '# escape=`\n', '# syntax=docker/dockerfile:1\n', 'busybox', 'a', '/b', '..', '*', '0', '\u00e9', '\u0000',
];

function assertOnlyDockerfileErrors(text: string): void {
  try {
    parseDockerfile(text, 'Dockerfile');
  } catch (err) {
    assert.ok(err instanceof DockerfileError, `${JSON.stringify(text)} threw ${(err as Error)?.stack ?? String(err)}`);
    assert.ok(Number.isInteger(err.line) && err.line >= 0 && err.line <= text.split('\n').length, `line ${err.line} of ${JSON.stringify(text)}`);
  }
}

test('random Dockerfile token soup parses or fails with a located DockerfileError', () => {
  fc.assert(fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }).map((t) => t.join('')), assertOnlyDockerfileErrors), { numRuns: 3000 });
});

test('mutations of the golden cases’ Dockerfiles parse or fail with a located DockerfileError', async () => {
  const dir = path.join(repoRoot, 'test', 'frontend', 'cases');
  const originals = await Promise.all((await readdir(dir)).map((c) => readFile(path.join(dir, c, 'Dockerfile'), 'utf8').catch(() => '')));
  const real = originals.filter((t) => t !== '');
  assert.ok(real.length > 20, 'the golden cases were read');
  const mutation = fc.tuple(fc.constantFrom(...real), fc.array(fc.tuple(fc.nat(), fc.constantFrom('delete', 'insert', 'duplicate'), fc.constantFrom(...TOKENS)), { minLength: 1, maxLength: 8 }));
  fc.assert(
    fc.property(mutation, ([text, edits]) => {
      let t = text;
      for (const [at, kind, token] of edits) {
        const i = at % (t.length + 1);
        t = kind === 'delete' ? t.slice(0, i) + t.slice(i + 1) : kind === 'insert' ? t.slice(0, i) + token + t.slice(i) : t.slice(0, i) + t.slice(i, i + 20) + t.slice(i);
      }
      assertOnlyDockerfileErrors(t);
    }),
    { numRuns: 3000 },
  );
});

test('the shell lexer expands random words or throws ExpansionError, nothing else', () => {
  const env = new Map([['A', 'x y'], ['EMPTY', ''], ['P', '/usr/bin']]);
  const word = fc.array(fc.constantFrom('$', '${', '}', 'A', 'EMPTY', 'P', 'UNSET', ':-', ':+', ':?', '#', '%', '/', '"', "'", '\\', ' ', 'w', '`'), { maxLength: 30 }).map((t) => t.join(''));
  for (const lexer of [new ShellLexer('\\'), new ShellLexer('`'), new ShellLexer('\\', { literalQuotes: true })]) {
    fc.assert(
      fc.property(word, (w) => {
        try {
          lexer.processWords(w, (n) => env.get(n));
          lexer.processWord(w, (n) => env.get(n));
        } catch (err) {
          assert.ok(err instanceof ExpansionError, `${JSON.stringify(w)} threw ${(err as Error)?.stack ?? String(err)}`);
        }
      }),
      { numRuns: 2000 },
    );
  }
});

test('1 MiB adversarial Dockerfiles parse without hanging', () => {
  const mib = 1 << 20;
  const inputs = [
    'FROM busybox\nRUN ' + 'a \\\n'.repeat(mib / 4),
    'FROM busybox\n' + 'ENV ' + 'k="v" '.repeat(mib / 6) + '\n',
    'FROM busybox\nRUN <<EOF\n' + 'line\n'.repeat(mib / 5) + 'EOF\n',
    'FROM busybox\n' + '# comment\n'.repeat(mib / 10),
    'FROM busybox\nLABEL a=' + '"'.repeat(mib) + '\n',
    'FROM busybox\nCOPY ' + '["a", '.repeat(mib / 6) + '"/d"]\n',
  ];
  for (const text of inputs) assertOnlyDockerfileErrors(text);
});
