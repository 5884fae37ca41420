// Docker's pattern matcher on plain strings: Go filepath.Match syntax, `**`, parents, `!`
// exceptions where the last matching pattern wins, and the patterns Go rejects.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PatternMatcher } from '../../patterns/matcher.js';
import { PatternError } from '../../patterns/errors.js';
import { hasWildcard, matchComponent } from '../../patterns/glob.js';
import { parseDockerignore } from '../../frontend/dockerignore.js';

const SINGLE: Array<[string, string, boolean]> = [
  ['*', 'fileutils.go', true],
  ['*.go', 'fileutils.go', true],
  ['*.go', 'a/fileutils.go', false],
  ['*.go', 'x.go/inner', true],
  ['**', 'file', true],
  ['**', 'dir/file', true],
  ['**/', 'dir/file', true],
  ['**/**', 'dir/file', true],
  ['dir/**', 'dir/file', true],
  ['dir/**', 'dir/dir2/file', true],
  ['dir/**', 'dir', false],
  ['**/dir', 'dir', true],
  ['**/dir', 'dir/file', true],
  ['**/dir', 'a/b/dir', true],
  ['**/dir', 'a/b/xdir', false],
  ['**/dir2/*', 'dir/dir2/file', true],
  ['**/dir2/*', 'dir/dir2/file/deeper', true],
  ['**/dir2/**', 'dir/dir2/dir3/file', true],
  ['**file', 'file', true],
  ['**file', 'dir/file', true],
  ['**file', 'dir/dir/file', true],
  ['**file', 'dir/myfile', true],
  ['**.log', 'a/b/c.log', true],
  ['**/file', 'dir/dir/file', true],
  ['**/file*', 'dir/dir/file.txt', true],
  ['**/file*txt', 'dir/dir/file.txt', true],
  ['**/file*.txt*', 'dir/dir/file.txt', true],
  ['**/**/*.txt', 'dir/dir/file.txt', true],
  ['**/**/*.txt2', 'dir/dir/file.txt', false],
  ['**/*.txt', 'file.txt', true],
  ['**/**/*.txt', 'file.txt', true],
  ['a**/*.txt', 'a/file.txt', true],
  ['a**/*.txt', 'a/dir/file.txt', true],
  ['a**/*.txt', 'a/dir/dir/file.txt', true],
  ['a**/*.txt', 'ab/file.txt', true],
  ['a/*.txt', 'a/dir/file.txt', false],
  ['a/*.txt', 'a/file.txt', true],
  ['a/*.txt**', 'a/file.txt', true],
  ['a[b-d]e', 'ae', false],
  ['a[b-d]e', 'ace', true],
  ['a[b-d]e', 'aae', false],
  ['a[^b-d]e', 'aze', true],
  ['a[^b-d]e', 'ace', false],
  ['a[!b]e', '!', false],
  ['a[!b]e', 'a!e', true],
  ['a[!b]e', 'abe', true],
  ['a[!b]e', 'ace', false],
  ['[\\]a]', ']', true],
  ['[\\-]', '-', true],
  ['[x\\-]', 'x', true],
  ['[x\\-]', 'z', false],
  ['a[^x]b', 'a/b', true],
  ['[a-ζ]*', 'α', true],
  ['*[a-ζ]', 'A', false],
  ['.*', '.foo', true],
  ['.*', 'foo', false],
  ['abc.def', 'abcdef', false],
  ['abc.def', 'abc.def', true],
  ['abc?def', 'abcZdef', true],
  ['abc?def', 'abcdef', false],
  ['a?b', 'a☺b', true],
  ['a???b', 'a☺b', false],
  ['a?b', 'a/b', false],
  ['a*b', 'a/b', false],
  ['a*/b', 'abc/b', true],
  ['a*/b', 'a/c/b', false],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
  ['a*b?c*x', 'abxbbxdbxebxczzx', true],
  ['a*b?c*x', 'abxbbxdbxebxczzy', false],
  ['**/foo/bar', 'foo/bar', true],
  ['**/foo/bar', 'dir/dir2/foo/bar', true],
  ['abc/**', 'abc', false],
  ['abc/**', 'abc/def/ghi', true],
  ['**/.foo', '.foo', true],
  ['**/.foo', 'bar.foo', false],
  ['**/.foo', 'x/bar.foo', false],
  ['**/.foo', 'x/.foo', true],
  ['a(b)c/def', 'a(b)c/def', true],
  ['a(b)c/def', 'a(b)c/xyz', false],
  ['a.|)$(}+{bc', 'a.|)$(}+{bc', true],
  ['dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true],
  ['a\\\\', 'a\\', true],
  ['a\\*b', 'a*b', true],
  ['a\\*b', 'axb', false],
  ['*x', 'xxx', true],
  ['node_modules', 'node_modules', true],
  ['node_modules', 'node_modules/a/b', true],
  ['node_modules', 'src/node_modules', false],
  ['docs/', 'docs/README.md', true],
  ['/docs', 'docs/x', true],
  ['./docs', 'docs/x', true],
  ['*/temp*', 'somedir/temporary.txt', true],
  ['*/temp*', 'somedir/temp', true],
  ['*/temp*', 'temp', false],
  ['*/*/temp*', 'somedir/subdir/temporary.txt', true],
  ['temp?', 'tempa', true],
  ['temp?', 'dir/tempa', false],
  ['a*', 'ab/c', true],
  ['a', 'a/../b', false],
];

describe('PatternMatcher, one pattern', () => {
  for (const [pattern, file, expected] of SINGLE) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${file}`, () => {
      assert.equal(new PatternMatcher(parseDockerignore(pattern)).matches(file), expected);
    });
  }
});

// [patterns, path, ignored]
const MULTI: Array<[string[], string, boolean]> = [
  [['!fileutils.go', '*.go'], 'fileutils.go', true],
  [['*.go', '!fileutils.go'], 'fileutils.go', false],
  [['docs', '!docs/README.md'], 'docs/README.md', false],
  [['docs', '!docs/README.md'], 'docs/other.md', true],
  [['docs/', '!docs/README.md'], 'docs/README.md', false],
  [['docs/*', '!docs/README.md'], 'docs/README.md', false],
  [['*.md', '!README.md'], 'README.md', false],
  [['*.md', '!README.md'], 'CHANGES.md', true],
  [['*.md', '!README*.md', 'README-secret.md'], 'README-secret.md', true],
  [['*.md', '!README*.md', 'README-secret.md'], 'README-public.md', false],
  [['*.md', 'README-secret.md', '!README*.md'], 'README-secret.md', false],
  [['**', '!util/docker/web'], 'util/docker/web/foo', false],
  [['**', '!util/docker/web', 'util/docker/web/foo'], 'util/docker/web/foo', true],
  [['**', '!dist/*.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', false],
  [['*', '!src'], 'src/main.ts', false],
  [['*', '!src'], 'other/x', true],
  [['node_modules', '!node_modules/keep'], 'node_modules/keep/a.js', false],
  [['node_modules', '!node_modules/keep'], 'node_modules/drop/a.js', true],
  [[], 'anything', false],
  [['', '   '], 'anything', false],
  [['*.go'], '.', false],
  [['*.go'], '', false],
  // The matcher takes patterns as given: only the file parser drops a leading slash.
  [['/docs'], 'docs/x', false],
];

describe('PatternMatcher, several patterns (last match wins)', () => {
  for (const [patterns, file, expected] of MULTI) {
    it(`${JSON.stringify(patterns)} ${expected ? 'ignores' : 'keeps'} ${file}`, () => {
      assert.equal(new PatternMatcher(patterns).matches(file), expected);
    });
  }
});

describe('PatternMatcher.exclusions', () => {
  const cases: Array<[string[], boolean]> = [
    [['docs', 'config'], false],
    [['docs', '!docs/README.md'], true],
    [['docs', '  !docs/README.md'], true],
    [['docs', '!docs/README.md  '], true],
    [[], false],
  ];
  for (const [patterns, expected] of cases) {
    it(`${JSON.stringify(patterns)} → ${expected}`, () => assert.equal(new PatternMatcher(patterns).exclusions, expected));
  }
});

describe('PatternMatcher rejects bad patterns', () => {
  const bad = ['[', '[^', '[^bc', 'a[', '[]a]', '[-]', '[x-]', '[-x]', '[a-b-c]', '\\', 'ok/trailing\\', '!', '! ', '[a\\'];
  for (const pattern of bad) {
    it(JSON.stringify(pattern), () => {
      assert.throws(
        () => new PatternMatcher(['fine', pattern]),
        (err: unknown) => {
          assert.ok(err instanceof PatternError, String(err));
          assert.equal(err.code, 'KILN_PATTERN');
          assert.equal(err.userFacing, true);
          assert.ok(err.message.includes(JSON.stringify(pattern.trim())), `message does not name the pattern: ${err.message}`);
          return true;
        },
      );
    });
  }
  it('accepts a closing bracket outside a class', () => {
    assert.equal(new PatternMatcher(['a]']).matches('a]'), true);
  });
});

describe('matchComponent: Go filepath.Match on one name', () => {
  const cases: Array<[string, string, boolean]> = [
    ['*.txt', 'a.txt', true],
    ['a**b', 'axxb', true],
    ['?', 'ab', false],
    ['[a-c]x', 'bx', true],
    ['[^a-c]x', 'bx', false],
    ['\\*', '*', true],
    ['\\*', 'a', false],
    ['[', '[', false],
    ['[]a]', ']', false],
  ];
  for (const [pattern, name, expected] of cases) {
    it(`${JSON.stringify(pattern)} ~ ${JSON.stringify(name)} → ${expected}`, () => assert.equal(matchComponent(pattern, name), expected));
  }
  it('hasWildcard sees *, ?, [ and escapes', () => {
    assert.deepEqual(['a*', 'a?', 'a[b]', 'a\\b', 'plain'].map(hasWildcard), [true, true, true, true, false]);
  });
});
