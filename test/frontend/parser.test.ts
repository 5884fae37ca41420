// The pieces under the golden cases, on plain strings: word splitting, flag extraction, JSON form,
// heredoc markers, Go durations and line bookkeeping.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDockerfile } from '../../frontend/dockerfile.js';
import { chompHeredoc, heredocMarkers, parseHeredocWord } from '../../frontend/heredoc.js';
import { parseDuration } from '../../frontend/instructions.js';
import { parseLines, splitCommand } from '../../frontend/parser.js';
import { closest } from '../../frontend/suggest.js';
import { parseJsonArray, parseWords, splitFields } from '../../frontend/words.js';

test('splitCommand takes leading --flags, unquoting them, and stops at the first other word or --', () => {
  assert.deepStrictEqual(splitCommand('COPY --from=a --chown="x y" src dst'), { keyword: 'COPY', flags: ['--from=a', '--chown=x y'], args: 'src dst' });
  assert.deepStrictEqual(splitCommand('RUN echo --not-a-flag'), { keyword: 'RUN', flags: [], args: 'echo --not-a-flag' });
  assert.deepStrictEqual(splitCommand('COPY --link -- --file /d'), { keyword: 'COPY', flags: ['--link'], args: '--file /d' });
  assert.deepStrictEqual(splitCommand('RUN --mount=target=/a\\ b ls'), { keyword: 'RUN', flags: ['--mount=target=/a b'], args: 'ls' });
  assert.deepStrictEqual(splitCommand('  RUN\t--network=none  '), { keyword: 'RUN', flags: ['--network=none'], args: '' });
  assert.deepStrictEqual(splitCommand('CMD'), { keyword: 'CMD', flags: [], args: '' });
  assert.deepStrictEqual(splitCommand('COPY -x a b'), { keyword: 'COPY', flags: [], args: '-x a b' });
});

test('parseWords keeps quotes and escapes in words and splits on unquoted whitespace', () => {
  assert.deepStrictEqual(parseWords('a="x y" b=\'z w\' c=d\\ e', '\\'), ['a="x y"', "b='z w'", 'c=d\\ e']);
  assert.deepStrictEqual(parseWords('a="x \\" y" b', '\\'), ['a="x \\" y"', 'b']);
  assert.deepStrictEqual(parseWords("a='x \\' b", '\\'), ["a='x \\'", 'b']);
  assert.deepStrictEqual(parseWords('a=c:\\dir b=`"q`"', '`'), ['a=c:\\dir', 'b=`"q`"']);
  assert.deepStrictEqual(parseWords('  ""  x  ', '\\'), ['""', 'x']);
  assert.deepStrictEqual(parseWords('end\\', '\\'), ['end']);
  assert.deepStrictEqual(parseWords('', '\\'), []);
});

test('splitFields splits on whitespace runs without quote handling', () => {
  assert.deepStrictEqual(splitFields('a  "b c"\td'), ['a', '"b', 'c"', 'd']);
  assert.deepStrictEqual(splitFields(''), []);
});

test('parseJsonArray: strings only is exec form, other JSON arrays are rejected, anything else is shell form', () => {
  assert.deepStrictEqual(parseJsonArray(' ["a", "b c"]'), { kind: 'strings', values: ['a', 'b c'] });
  assert.deepStrictEqual(parseJsonArray('[]'), { kind: 'strings', values: [] });
  assert.deepStrictEqual(parseJsonArray('["a", 1]'), { kind: 'not-strings' });
  assert.deepStrictEqual(parseJsonArray('[null]'), { kind: 'not-strings' });
  assert.deepStrictEqual(parseJsonArray("['a']"), { kind: 'not-json' });
  assert.deepStrictEqual(parseJsonArray('["a"] b'), { kind: 'not-json' });
  assert.deepStrictEqual(parseJsonArray('{"a": 1}'), { kind: 'not-json' });
  assert.deepStrictEqual(parseJsonArray('echo [1]'), { kind: 'not-json' });
});

test('heredoc markers: names, quoting, chomp, fd prefix, and words that are not markers', () => {
  assert.deepStrictEqual(heredocMarkers('RUN cat <<EOF > /x'), [{ name: 'EOF', expand: true, chomp: false }]);
  assert.deepStrictEqual(heredocMarkers('COPY <<-"a b" <<\'c\' /d/'), [
    { name: 'a b', expand: false, chomp: true },
    { name: 'c', expand: false, chomp: false },
  ]);
  assert.deepStrictEqual(heredocMarkers('RUN 2<<E1 x'), [{ name: 'E1', expand: true, chomp: false }]);
  assert.deepStrictEqual(heredocMarkers('RUN echo "<<A" \'<<B\' x<<C << <<<D'), []);
  assert.deepStrictEqual(parseHeredocWord('<<E"O"F'), { name: 'EOF', expand: false, chomp: false });
  assert.equal(parseHeredocWord('<<'), undefined);
  assert.equal(parseHeredocWord('<<""'), undefined);
  assert.equal(chompHeredoc('\t\ta\n\tb\n  c\n'), 'a\nb\n  c\n');
});

test('parseDuration follows Go time.ParseDuration', () => {
  const table: Array<[string, number | undefined]> = [
    ['30s', 30e9], ['1m30s', 90e9], ['500ms', 5e8], ['1.5h', 5400e9], ['2h45m', 9900e9], ['1h2m3s4ms5us6ns', 3723004005006],
    ['0', 0], ['0s', 0], ['-1s', -1e9], ['+2s', 2e9], ['.5s', 5e8], ['1.s', 1e9], ['10µs', 10000], ['7ns', 7],
    ['', undefined], ['5', undefined], ['s', undefined], ['.s', undefined], ['5sec', undefined], ['1d', undefined], ['1h 2m', undefined], ['--1s', undefined],
  ];
  for (const [text, want] of table) assert.equal(parseDuration(text), want, text);
});

test('closest suggests near names only', () => {
  assert.equal(closest('COPPY', ['COPY', 'ADD']), 'COPY');
  assert.equal(closest('workdri', ['WORKDIR', 'USER']), 'WORKDIR');
  assert.equal(closest('XYZZY', ['COPY', 'ADD']), undefined);
});

test('ranges cover continuation lines and heredoc bodies; comments and blank lines are not instructions', () => {
  const { nodes } = parseLines('# c\nFROM a\n\nRUN a \\\n# inside\n\n  b\nCOPY <<x <<y /d\n1\nx\n2\ny\nENV z=1\n', 'F');
  assert.deepStrictEqual(nodes.map((n) => [n.keyword, n.range.startLine, n.range.endLine]), [
    ['FROM', 2, 2], ['RUN', 4, 7], ['COPY', 8, 12], ['ENV', 13, 13],
  ]);
  assert.equal(nodes[1]!.original, 'RUN a   b');
  assert.deepStrictEqual(nodes[2]!.heredocs.map((h) => h.content), ['1\n', '2\n']);
});

test('the escape directive changes the continuation character only', () => {
  const backtick = parseDockerfile('# escape=`\nFROM a\nRUN echo \\\nRUN b `\n c\n', 'D');
  const runs = backtick.stages[0]!.instructions;
  assert.deepStrictEqual(runs.map((i) => i.kind === 'run' && !i.cmd.json ? i.cmd.script : ''), ['echo \\', 'b  c']);
});

test('heredoc bodies are verbatim: no continuation, comment or directive handling inside', () => {
  const parsed = parseDockerfile('FROM a\nRUN <<EOF\n# escape=`\nline \\\n\n  # kept\nEOF\nRUN done\n', 'D');
  const [heredocRun, after] = parsed.stages[0]!.instructions;
  assert.ok(heredocRun?.kind === 'run' && after?.kind === 'run');
  assert.equal(heredocRun.heredocs[0]!.content, '# escape=`\nline \\\n\n  # kept\n');
  assert.deepStrictEqual(after.range, { file: 'D', startLine: 8, endLine: 8 });
  assert.equal(parsed.directives.escape, '\\');
});

test('RUN mounts holding $VAR are left for the compiler; the others are checked now', () => {
  const parsed = parseDockerfile('FROM a\nRUN --mount=type=$T,target=/x,nonsense=1 true\n', 'D');
  const run = parsed.stages[0]!.instructions[0];
  assert.ok(run?.kind === 'run');
  assert.deepStrictEqual(run.mounts, ['type=$T,target=/x,nonsense=1']);
  assert.throws(() => parseDockerfile('FROM a\nRUN --mount=type=cache,target=/x,nonsense=1 true\n', 'D'), /unknown key "nonsense"/);
});
