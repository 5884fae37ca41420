// .dockerignore parsing, Docker's pattern matching rules, and which ignore file a build reads.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DockerignoreError, parseDockerignore, readDockerignore } from '../../frontend/dockerignore.js';
import { PatternMatcher } from '../../patterns/matcher.js';

describe('parseDockerignore', () => {
  const cases: Array<[string, string, string[]]> = [
    ['plain lines', 'node_modules\n*.log\n', ['node_modules', '*.log']],
    ['comments and blank lines dropped', '# comment\n\n  \nfoo\n#bar\n', ['foo']],
    ['only column-one # is a comment', '  # not a comment\n', ['# not a comment']],
    ['trimmed', '  foo  \n\tbar\t\n', ['foo', 'bar']],
    ['leading slash dropped', '/test2\n/a/file/here\n', ['test2', 'a/file/here']],
    ['cleaned like filepath.Clean', 'a//b/./c/\nx/../y\n./z\n/../up\n', ['a/b/c', 'y', 'z', 'up']],
    ['.. kept when relative', '../outside\n', ['../outside']],
    ['exceptions keep ! in front, cleaned behind it', '!README.md\n! /inverted/abs/path\n!a/../b/\n', ['!README.md', '!inverted/abs/path', '!b']],
    ['lone ! kept for the matcher to reject', '!\n! \n', ['!', '!']],
    ['CRLF line ends', 'a\r\nb\r\n', ['a', 'b']],
    ['UTF-8 BOM stripped', '\uFEFFfoo\nbar', ['foo', 'bar']],
    ['root alone stays /', '/\n', ['/']],
    ['dot', '.\n', ['.']],
    ['empty file', '', []],
  ];
  for (const [name, text, expected] of cases) {
    it(name, () => assert.deepEqual(parseDockerignore(text), expected));
  }
});

// [.dockerignore line, path, matches]; paths are judged with parent-directory matching.
describe('readDockerignore', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'kiln-dockerignore-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function layout(name: string, files: Record<string, string>): Promise<string> {
    const dir = path.join(root, name);
    for (const [rel, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
      await writeFile(path.join(dir, rel), text);
    }
    await mkdir(dir, { recursive: true });
    return dir;
  }

  it('reads <context>/.dockerignore', async () => {
    const ctx = await layout('plain', { '.dockerignore': '# c\nnode_modules\n/dist\n', Dockerfile: 'FROM scratch\n' });
    assert.deepEqual(await readDockerignore(ctx, path.join(ctx, 'Dockerfile')), ['node_modules', 'dist']);
    assert.deepEqual(await readDockerignore(ctx), ['node_modules', 'dist']);
  });

  it('prefers <Dockerfile>.dockerignore next to the Dockerfile', async () => {
    const ctx = await layout('specific', {
      '.dockerignore': 'from-context\n',
      'build/app.Dockerfile': 'FROM scratch\n',
      'build/app.Dockerfile.dockerignore': 'from-dockerfile\n',
    });
    assert.deepEqual(await readDockerignore(ctx, path.join(ctx, 'build/app.Dockerfile')), ['from-dockerfile']);
  });

  it('falls back to the context file when the Dockerfile has none', async () => {
    const ctx = await layout('fallback', { '.dockerignore': 'from-context\n', 'build/app.Dockerfile': 'FROM scratch\n' });
    assert.deepEqual(await readDockerignore(ctx, path.join(ctx, 'build/app.Dockerfile')), ['from-context']);
  });

  it('finds the Dockerfile-specific file for a Dockerfile outside the context', async () => {
    const ctx = await layout('outside-ctx', { '.dockerignore': 'from-context\n' });
    const elsewhere = await layout('outside-df', { 'Dockerfile': 'FROM scratch\n', 'Dockerfile.dockerignore': 'beside\n' });
    assert.deepEqual(await readDockerignore(ctx, path.join(elsewhere, 'Dockerfile')), ['beside']);
  });

  it('returns no patterns without any ignore file', async () => {
    const ctx = await layout('none', { Dockerfile: 'FROM scratch\n' });
    assert.deepEqual(await readDockerignore(ctx, path.join(ctx, 'Dockerfile')), []);
  });

  it('reports an ignore file that cannot be read as a user-facing error naming it', async () => {
    const ctx = await layout('dir-not-file', {});
    await mkdir(path.join(ctx, '.dockerignore'));
    await assert.rejects(readDockerignore(ctx), (err: unknown) => {
      assert.ok(err instanceof DockerignoreError);
      assert.match(err.message, /\.dockerignore/);
      assert.match(err.message, /EISDIR/);
      return true;
    });
  });

  it('matches the context with what it read', async () => {
    const ctx = await layout('end-to-end', { '.dockerignore': '*.md\n!README*.md\nREADME-secret.md\nnode_modules\n' });
    const m = new PatternMatcher(await readDockerignore(ctx));
    const got = ['README.md', 'README-secret.md', 'CHANGES.md', 'node_modules/x/y.js', 'src/a.md', 'src/a.ts'].filter((f) => m.matches(f));
    assert.deepEqual(got, ['README-secret.md', 'CHANGES.md', 'node_modules/x/y.js']);
  });
});

describe('readDockerignore refuses a bad pattern', () => {
  it('as a user error naming the file and the pattern', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kiln-ignore-bad-'));
    try {
      await writeFile(path.join(dir, '.dockerignore'), 'fine\n[x-\n');
      await assert.rejects(readDockerignore(dir), (err: unknown) => {
        assert.ok(err instanceof DockerignoreError, String(err));
        assert.match(err.message, /\.dockerignore: invalid pattern "\[x-"/);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
