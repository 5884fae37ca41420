// Variable expansion and word splitting against the behaviour of BuildKit's shell lexer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ExpansionError, ShellLexer, type EnvLookup } from '../../frontend/expand.js';

function lookupOf(vars: Record<string, string>): EnvLookup {
  return (name) => (Object.hasOwn(vars, name) ? vars[name] : undefined);
}

const ENV = lookupOf({
  PWD: '/home',
  SHELL: 'bash',
  KOREAN: '한국어',
  NULL: '',
  FOO: 'xxyy',
  SPACED: 'x y',
  PADDED: '  a  ',
  P: '/a/b',
  U: 'http://example.com',
});

// [input, expected] with the backslash escape and ENV.
const WORDS: Array<[string, string]> = [
  ['hello', 'hello'],
  ['he"l"lo', 'hello'],
  ["he'l'lo", 'hello'],
  ['"hello world"', 'hello world'],
  ["'hello world'", 'hello world'],
  ['hello  world', 'hello  world'],
  ["'$PWD'", '$PWD'],
  ['"$PWD"', '/home'],
  ['$PWD', '/home'],
  ['${PWD}', '/home'],
  ['${PWD}x', '/homex'],
  ['$PWDx', ''],
  ['$PWD/x', '/home/x'],
  ['a$PWD.b', 'a/home.b'],
  ['\\$PWD', '$PWD'],
  ['"\\$PWD"', '$PWD'],
  ["'\\$PWD'", '\\$PWD'],
  ['\\\\$PWD', '\\/home'],
  ['\\${PWD}', '${PWD}'],
  ['"\\a"', '\\a'],
  ['"\\\\"', '\\'],
  ['"\\""', '"'],
  ['\\a', 'a'],
  ['\\"', '"'],
  ["\\'", "'"],
  ['abc\\', 'abc'],
  ["'it''s'", 'its'],
  ['"a\'b"', "a'b"],
  ["'a\"b'", 'a"b'],
  ['"a"\'b\'c', 'abc'],
  ['$', '$'],
  ['$ x', '$ x'],
  ['a$', 'a$'],
  ['$.', '$.'],
  ['$/x', '$/x'],
  ['"$"', '$'],
  ['$1', ''],
  ['$12ab', 'ab'],
  ['$0x', 'x'],
  ['$@', ''],
  ['$#x', 'x'],
  ['$$', ''],
  ['$?', ''],
  ['${1}', ''],
  ['$KOREAN', '한국어'],
  ['"$KOREAN!"', '한국어!'],
  ['${NULL:-def}', 'def'],
  ['${NULL-def}', ''],
  ['${UNSET-def}', 'def'],
  ['${UNSET:-def}', 'def'],
  ['${PWD:-def}', '/home'],
  ['${PWD-def}', '/home'],
  ['${UNSET:-}', ''],
  ['${NULL:+alt}', ''],
  ['${NULL+alt}', 'alt'],
  ['${PWD:+alt}', 'alt'],
  ['${UNSET+alt}', ''],
  ['${UNSET:+alt}', ''],
  ['${NULL?}', ''],
  ['${PWD:?}', '/home'],
  ['${UNSET:-${UNSET2:-x}}', 'x'],
  ['${UNSET:-${PWD:-x}}', '/home'],
  ['${UNSET:-$PWD/bin}', '/home/bin'],
  ['${UNSET:-"a b"}', 'a b'],
  ["${UNSET:-'$PWD'}", '$PWD'],
  ['${UNSET:-a\\}b}', 'a}b'],
  ['${PWD:+[$SHELL]}', '[bash]'],
  ['${PWD:-a}b', '/homeb'],
  ['"${UNSET:-a b}"', 'a b'],
  ['${FOO#x}', 'xyy'],
  ['${FOO##*x}', 'yy'],
  ['${FOO#*x}', 'xyy'],
  ['${FOO#*x*y}', 'y'],
  ['${FOO#*}', 'xxyy'],
  ['${FOO##*}', ''],
  ['${FOO#}', 'xxyy'],
  ['${FOO##}', 'xxyy'],
  ['${FOO#z}', 'xxyy'],
  ['${FOO#$SHELL}', 'xxyy'],
  ['${FOO#$NULL}', 'xxyy'],
  ['${FOO%y}', 'xxy'],
  ['${FOO%y*}', 'xxy'],
  ['${FOO%%y*}', 'xx'],
  ['${FOO%x*}', 'x'],
  ['${FOO%%x*}', ''],
  ['${FOO%?}', 'xxy'],
  ['${FOO%}', 'xxyy'],
  ['${FOO:#x}', 'xyy'],
  ['${UNSET#x}', ''],
  ['${P#/}', 'a/b'],
  ['${P%/*}', '/a'],
  ['${P##*/}', 'b'],
  ['${KOREAN#한}', '국어'],
  ['${KOREAN%?}', '한국'],
  ['${FOO/x/z}', 'zxyy'],
  ['${FOO//x/z}', 'zzyy'],
  ['${FOO/y*/-}', 'xx-'],
  ['${FOO//?/.}', '....'],
  ['${FOO/q/z}', 'xxyy'],
  ['${FOO/$NULL/ww}', 'wwxxyy'],
  ['${FOO//*/z}', 'z'],
  ['${FOO///}', 'xxyy'],
  ['${UNSET///}', ''],
  ['${FOO/x/$SHELL}', 'bashxyy'],
  ['${P//\\//:}', ':a:b'],
  ['${P//\\//\\/}', '\\/a\\/b'],
  ['${U/http:\\/\\//https://}', 'https://example.com'],
  ['${U/#/x}', 'http://example.com'],
  ['${ABC:-.}${FOO%x}${ABC:-.}', '.xxyy.'],
];

// Cases that need their own variables: [input, env, expected].
const WORDS_WITH_ENV: Array<[string, Record<string, string>, string]> = [
  ['${FOO#?\\?}', { FOO: '???y' }, '?y'],
  ['${FOO%%\\**}', { FOO: 'xx**' }, 'xx'],
  ['${FOO%%\\**\\*}', { FOO: 'a***yy*' }, 'a'],
  ['${FOO#()[]{\\}^$.\\*\\?|\\\\}', { FOO: '()[]{}^$.*?|\\x' }, 'x'],
  ['${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}', { FOO: '/foo*/*/*.txt', NEEDLE: '\\*/' }, '/foo.*/*.txt - /foo..*.txt'],
  ['${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}', { FOO: '/tmp/tmp/bar.txt', NEEDLE: '/tmp' }, '/tmp/bar.txt - /bar.txt'],
  ['${FOO/$N/$R} - ${FOO//$N/$R}', { FOO: '/a/foo/b/c.txt', N: '/?/', R: '/' }, '/foo/b/c.txt - /foo/c.txt'],
  [
    'something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz',
    { VERSION: 'v1.2.3', TARGETOS: 'linux', TARGETARCH: 'arm', TARGETVARIANT: 'v7' },
    'something-v1.2.3.linux-arm-v7.tar.gz',
  ],
  [
    'something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz',
    { VERSION: 'v1.2.3', TARGETOS: 'linux', TARGETARCH: 'amd64', TARGETVARIANT: '' },
    'something-v1.2.3.linux-amd64.tar.gz',
  ],
  // Long runs of stars must not explode.
  ['${X##*a*a*a*a*a*a*a*a*b}', { X: 'a'.repeat(200) }, 'a'.repeat(200)],
];

// The backtick escape (`# escape=\``), as Windows Dockerfiles use.
const BACKTICK_WORDS: Array<[string, string]> = [
  ['`$PWD', '$PWD'],
  ['\\$PWD', '\\/home'],
  ['C:\\path\\to', 'C:\\path\\to'],
  ['"`""', '"'],
  ['"\\"', '\\'],
  ['"``"', '`'],
  ['"`a"', '`a'],
  ['a``b', 'a`b'],
  ['`"a b`"', '"a b"'],
  ['${UNSET:-a`}b}', 'a}b'],
];

// [input, part of the message]
const ERRORS: Array<[string, RegExp]> = [
  ['${', /missing '}'/],
  ['${}', /bad substitution/],
  ['${:}', /bad substitution/],
  ['${:-x}', /bad substitution/],
  ['${{x}}', /bad substitution/],
  ['${PWD', /missing '}'/],
  ['${PWD:', /missing '}'/],
  ['${PWD:-x', /missing '}'/],
  ['${PWD:-${UNSET}', /missing '}'/],
  ['${PWD#x', /missing '}'/],
  ['${PWD=x}', /unsupported modifier \(=\)/],
  ['${PWD:=x}', /unsupported modifier \(:=\)/],
  ['${PWD:x}', /unsupported modifier \(:x\)/],
  ['${PWD:/x/y}', /unsupported modifier \(:\/\)/],
  ['${PWD x}', /unsupported modifier \( \)/],
  ['${#PWD}', /unsupported modifier \(P\)/],
  ['"abc', /matching double-quote/],
  ['"abc\\', /matching double-quote/],
  ["'abc", /matching single-quote/],
  ['"${UNSET:-"x"}', /matching double-quote/],
  ['${UNSET?}', /UNSET: is not allowed to be unset/],
  ['${UNSET:?}', /UNSET: is not allowed to be unset/],
  ['${NULL:?}', /NULL: is not allowed to be empty/],
  ['${UNSET?custom $PWD}', /UNSET: custom \/home/],
  ['${NULL:?need $SHELL}', /NULL: need bash/],
  ['${FOO#\\x}', /invalid escape/],
  ['${FOO%a\\b}', /invalid escape/],
  ['${FOO/\\x/y}', /invalid escape/],
  ['${FOO//ww}', /missing '\/'/],
  ['${FOO//}', /missing '\/'/],
  ['${FOO/a}', /missing '\/'/],
  ['${FOO/a/b', /missing '}'/],
];

describe('ShellLexer.processWord (backslash escape)', () => {
  const lexer = new ShellLexer('\\');
  for (const [input, expected] of WORDS) {
    it(`${input} → ${JSON.stringify(expected)}`, () => {
      assert.equal(lexer.processWord(input, ENV).value, expected);
    });
  }
  for (const [input, vars, expected] of WORDS_WITH_ENV) {
    it(`${input} with ${JSON.stringify(vars).slice(0, 60)}`, () => {
      assert.equal(lexer.processWord(input, lookupOf(vars)).value, expected);
    });
  }
});

describe('ShellLexer.processWord (backtick escape)', () => {
  const lexer = new ShellLexer('`');
  for (const [input, expected] of BACKTICK_WORDS) {
    it(`${input} → ${JSON.stringify(expected)}`, () => {
      assert.equal(lexer.processWord(input, ENV).value, expected);
    });
  }
});

describe('ShellLexer errors', () => {
  const lexer = new ShellLexer('\\');
  for (const [input, message] of ERRORS) {
    it(`${input} fails with ${message}`, () => {
      assert.throws(
        () => lexer.processWord(input, ENV),
        (err: unknown) => {
          assert.ok(err instanceof ExpansionError, `not an ExpansionError: ${String(err)}`);
          assert.equal(err.code, 'KILN_DOCKERFILE_EXPAND');
          assert.equal(err.userFacing, true);
          assert.equal(err.word, input);
          assert.match(err.message, message);
          assert.ok(err.message.includes(JSON.stringify(input)), `message does not name the word: ${err.message}`);
          return true;
        },
      );
    });
  }
  it('a variable lookup that throws is not turned into an ExpansionError', () => {
    const boom = new Error('lookup bug');
    assert.throws(() => lexer.processWord('$X', () => { throw boom; }), (err) => err === boom);
  });
});

// [input, env, value, matched, unmatched]
const MATCHES: Array<[string, Record<string, string>, string, string[], string[]]> = [
  ['x', { DUMMY: 'dummy' }, 'x', [], []],
  ['x ${UNUSED}', { DUMMY: 'dummy' }, 'x ', [], ['UNUSED']],
  ['x ${FOO}', { FOO: 'y' }, 'x y', ['FOO'], []],
  ['${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}', { FOO: 'xxx', BAR: '' }, 'xxx  ccc', ['FOO', 'BAR'], ['BAZ']],
  ['${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}', { FOO: 'xxx', BAR: '' }, 'xxx bbb ccc', ['FOO', 'BAR'], ['BAZ']],
  ['${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}', { FOO: 'xxx', BAR: '' }, 'aaa bbb ', ['FOO', 'BAR'], ['BAZ']],
  ['${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}', { FOO: 'xxx', BAR: '' }, 'aaa  ', ['FOO', 'BAR'], ['BAZ']],
  ['${FOO:-}', {}, '', [], ['FOO']],
  ['${FOO#$BAR}', { FOO: 'xxyy', BAR: 'x' }, 'xyy', ['FOO', 'BAR'], []],
  ['${FOO/$N/$R}', { FOO: 'ab' }, 'ab', ['FOO'], ['N', 'R']],
  ["'$NOT' \\$ALSO_NOT $1", {}, '$NOT $ALSO_NOT ', [], ['1']],
  ['${A:-${B}}', { A: 'a' }, 'a', ['A'], ['B']],
];

describe('ShellLexer matched and unmatched names', () => {
  const lexer = new ShellLexer('\\');
  for (const [input, vars, value, matched, unmatched] of MATCHES) {
    it(input, () => {
      const got = lexer.processWord(input, lookupOf(vars));
      assert.equal(got.value, value);
      assert.deepEqual([...got.matched].sort(), [...matched].sort());
      assert.deepEqual([...got.unmatched].sort(), [...unmatched].sort());
    });
  }
});

// [input, words]
const SPLITS: Array<[string, string[]]> = [
  ['hello world', ['hello', 'world']],
  ['  hello   world  ', ['hello', 'world']],
  ['a\tb\nc', ['a', 'b', 'c']],
  ['"hello world"', ['hello world']],
  ["'a b' c", ['a b', 'c']],
  ['a\\ b', ['a b']],
  ['a" "b', ['a b']],
  ['$SPACED', ['x', 'y']],
  ['"$SPACED"', ['x y']],
  ['pre$SPACED', ['prex', 'y']],
  ['$PADDED', ['a']],
  ['"$PADDED"', ['  a  ']],
  ['$UNSET', []],
  ['a $UNSET b', ['a', 'b']],
  ['$NULL', []],
  ['""', []],
  ["''", []],
  ['"" a', ['a']],
  ['x"" y', ['x', 'y']],
  ['a"b c"d', ['ab cd']],
  ['${UNSET:-"a b"}', ['a', 'b']],
  ['80/tcp 443 ${PORT:-8080}', ['80/tcp', '443', '8080']],
  ['a\\\\', ['a\\']],
  ['\\"a b\\"', ['"a', 'b"']],
  ['a\\', ['a']],
  ['', []],
];

describe('ShellLexer.processWords', () => {
  const lexer = new ShellLexer('\\');
  for (const [input, words] of SPLITS) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(words)}`, () => {
      assert.deepEqual(lexer.processWords(input, ENV).values, words);
    });
  }
  it('keeps the joined value with its whitespace', () => {
    const got = lexer.processWords('a  $SPACED', ENV);
    assert.equal(got.value, 'a  x y');
    assert.deepEqual(got.values, ['a', 'x', 'y']);
    assert.deepEqual([...got.matched], ['SPACED']);
  });
});

describe('ShellLexer with literal quotes (heredoc bodies)', () => {
  const lexer = new ShellLexer('\\', { literalQuotes: true });
  const cases: Array<[string, string]> = [
    ['"$PWD"', '"/home"'],
    ["'$PWD'", "'/home'"],
    ['\\$PWD', '$PWD'],
    ["${UNSET:-'x'}", "'x'"],
    ['echo "unclosed', 'echo "unclosed'],
  ];
  for (const [input, expected] of cases) {
    it(`${input} → ${expected}`, () => {
      assert.equal(lexer.processWord(input, ENV).value, expected);
    });
  }
});
