// The cases of distribution/reference's normalize tests (the names Docker accepts and refuses,
// and how it normalises them), run against kiln's parser: the cases, not Go's code.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { familiarName, parseReference } from '../../oci/reference.js';

const HEX = '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a';
const LONG_NAMESPACE = `${'this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_'.repeat(4)}/docker`;

const VALID = [
  'docker/docker', 'library/debian', 'debian', 'localhost/library/debian', 'localhost/debian', 'LOCALDOMAIN/library/debian',
  'LOCALDOMAIN/debian', 'docker.io/docker/docker', 'docker.io/library/debian', 'docker.io/debian', 'index.docker.io/docker/docker',
  'index.docker.io/library/debian', 'index.docker.io/debian', '127.0.0.1:5000/docker/docker', '127.0.0.1:5000/library/debian',
  '127.0.0.1:5000/debian', '192.168.0.1', '192.168.0.1:80', '192.168.0.1:8/debian', '192.168.0.2:25000/debian',
  'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev', '[fc00::1]:5000/docker', '[fc00::1]:5000/docker/docker',
  '[fc00:1:2:3:4:5:6:7]:5000/library/debian', `docker.io/${HEX}`, 'Docker/docker', 'DOCKER/docker', 'docker-rules/docker',
  'docker---rules/docker', 'doc/docker', 'd/docker', 'jess/t', 'dock__er/docker',
];

const INVALID = [
  'https://github.com/docker/docker', 'docker/Docker', '-docker', '-docker/docker', '-docker.io/docker/docker', 'docker///docker',
  'docker.io/docker/Docker', 'docker.io/docker///docker', '[fc00::1]', '[fc00::1]:5000', 'fc00::1:5000/debian',
  '[fe80::1%eth0]:5000/debian', '[2001:db8:3:4::192.0.2.33]:5000/debian', HEX, 'docker-/docker', '-docker-/docker', '____/____',
  '_docker/_docker', 'dock..er/docker', 'dock_.er/docker', 'dock-.er/docker', 'docker/', LONG_NAMESPACE,
];

// [input forms, domain, path, familiar name]
const INFO: Array<[string[], string, string, string]> = [
  [['localhost/fooo'], 'localhost', 'fooo', 'localhost/fooo'],
  [['localhost/fooo/bar'], 'localhost', 'fooo/bar', 'localhost/fooo/bar'],
  [['LOCALDOMAIN/fooo'], 'LOCALDOMAIN', 'fooo', 'LOCALDOMAIN/fooo'],
  [['fooo/bar', 'docker.io/fooo/bar', 'index.docker.io/fooo/bar'], 'docker.io', 'fooo/bar', 'fooo/bar'],
  [['ubuntu', 'docker.io/library/ubuntu', 'library/ubuntu'], 'docker.io', 'library/ubuntu', 'ubuntu'],
  [['nonlibrary/ubuntu', 'docker.io/nonlibrary/ubuntu'], 'docker.io', 'nonlibrary/ubuntu', 'nonlibrary/ubuntu'],
  [['other/library'], 'docker.io', 'other/library', 'other/library'],
  [['127.0.0.1:8000/private/moonbase'], '127.0.0.1:8000', 'private/moonbase', '127.0.0.1:8000/private/moonbase'],
  [['example.com:8000/privatebasee'], 'example.com:8000', 'privatebasee', 'example.com:8000/privatebasee'],
  [['ubuntu-12.04-base', 'index.docker.io/library/ubuntu-12.04-base'], 'docker.io', 'library/ubuntu-12.04-base', 'ubuntu-12.04-base'],
  [['foo', 'docker.io/foo'], 'docker.io', 'library/foo', 'foo'],
  [['library/foo/bar'], 'docker.io', 'library/foo/bar', 'library/foo/bar'],
  [['store/foo/bar'], 'docker.io', 'store/foo/bar', 'store/foo/bar'],
  [['Foo/bar'], 'Foo', 'bar', 'Foo/bar'],
];

describe("Docker's reference cases", () => {
  it('accepts the names Docker accepts', () => {
    for (const name of VALID) assert.doesNotThrow(() => parseReference(name), name);
  });
  it('refuses the names Docker refuses, with a one-line reason', () => {
    for (const name of INVALID) {
      assert.throws(() => parseReference(name), (err: Error & { code?: string }) => err.code === 'KILN_INVALID_REFERENCE' && !err.message.includes('\n'), name);
    }
  });
  it('normalises as Docker does', () => {
    for (const [forms, domain, repoPath, familiar] of INFO) {
      for (const form of forms) {
        const ref = parseReference(form);
        assert.deepEqual([ref.domain, ref.path, familiarName({ domain: ref.domain, path: ref.path })], [domain, repoPath, familiar], form);
      }
    }
  });
});
