// Authentication against real registries: TLS with a test CA from certs.d and htpasswd basic auth
// (credentials from the docker config, and from a docker-credential helper), and token auth with
// a token server, whose scopes, caching and a refused token are checked. No secret may show.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ContentStore } from '../../snapshotter/content.js';
import { RegistryClient } from '../../registry/client.js';
import { pushImage } from '../../registry/push.js';
import { fetchManifest } from '../../registry/manifest-resolve.js';
import { startRegistry, type RegistryServer } from '../helpers/registry.js';
import { makeImage } from './image-fixture.js';

const PASSWORD = 'pw-Secret-7f3a9';

function dockerConfig(dir: string, config: unknown): Promise<void> {
  return mkdir(dir, { recursive: true }).then(() => writeFile(path.join(dir, 'config.json'), JSON.stringify(config)));
}

function auth(user: string, password: string): string {
  return Buffer.from(`${user}:${password}`).toString('base64');
}

function noSecret(err: unknown): true {
  assert.ok(!String((err as Error).message).includes(PASSWORD), 'the password is not in the error');
  assert.ok(!String((err as Error).stack).includes(PASSWORD));
  return true;
}

describe('TLS and basic auth', () => {
  let reg: RegistryServer;
  let dir: string;
  let src: ContentStore;

  before(async () => {
    reg = await startRegistry({ tls: true, basic: { user: 'alice', password: PASSWORD } });
    dir = await mkdtemp(path.join(tmpdir(), 'kiln-auth-test-'));
    src = new ContentStore(path.join(dir, 'src'));
  });
  after(async () => {
    await reg.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a certificate from an unknown CA, naming the certs.d directory', async () => {
    const client = new RegistryClient(reg.host, { env: { HOME: dir }, certsDir: path.join(dir, 'no-certs'), retry: { attempts: 1 } });
    await assert.rejects(fetchManifest(client, 'a', 'latest', 'a'), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'KILN_REGISTRY_TLS');
      assert.match(err.message, new RegExp(`no-certs/${reg.host}/ca.crt`));
      return true;
    });
    await client.close();
  });

  it('asks for credentials when there are none, and says the registry refused wrong ones', async () => {
    const anon = new RegistryClient(reg.host, { env: { HOME: dir }, certsDir: reg.certsD! });
    await assert.rejects(fetchManifest(anon, 'a', 'latest', 'a'), (err: Error & { code?: string }) => err.code === 'KILN_REGISTRY_UNAUTHORIZED' && /requires authentication/.test(err.message));
    await anon.close();
    const wrong = new RegistryClient(reg.host, { env: { HOME: dir }, certsDir: reg.certsD!, credentials: { username: 'alice', password: PASSWORD + 'x' } });
    await assert.rejects(fetchManifest(wrong, 'a', 'latest', 'a'), (err: Error & { code?: string }) => err.code === 'KILN_REGISTRY_UNAUTHORIZED' && /refused the credentials/.test(err.message) && noSecret(err));
    await wrong.close();
  });

  it('pushes and pulls with the auths entry of DOCKER_CONFIG', async () => {
    const cfg = path.join(dir, 'docker-auths');
    await dockerConfig(cfg, { auths: { [reg.host]: { auth: auth('alice', PASSWORD) } } });
    const client = new RegistryClient(reg.host, { env: { HOME: dir, DOCKER_CONFIG: cfg }, certsDir: reg.certsD! });
    const img = await makeImage(src, [4000]);
    await pushImage(client, 'sec/app', { ...img.push, tag: '1' }, 'sec/app:1');
    assert.equal((await fetchManifest(client, 'sec/app', '1', 'sec/app:1')).digest, img.manifestDigest);
    await client.close();
  });

  it('gets the credentials from a docker-credential helper on PATH', async () => {
    const bin = path.join(dir, 'bin');
    await mkdir(bin, { recursive: true });
    const helper = path.join(bin, 'docker-credential-kilntest');
    await writeFile(
      helper,
      `#!/bin/sh\n[ "$1" = get ] || exit 1\nread url\nif [ "$url" = "${reg.host}" ]; then printf '{"ServerURL":"%s","Username":"alice","Secret":"${PASSWORD}"}' "$url"; else echo "credentials not found in native keychain"; exit 1; fi\n`,
    );
    await chmod(helper, 0o755);
    const cfg = path.join(dir, 'docker-helper');
    await dockerConfig(cfg, { credsStore: 'kilntest' });
    const env = { HOME: dir, DOCKER_CONFIG: cfg, PATH: `${bin}:${process.env.PATH}` };
    const client = new RegistryClient(reg.host, { env, certsDir: reg.certsD! });
    const img = await makeImage(src, [3000]);
    await pushImage(client, 'helper/app', { ...img.push, tag: '1' }, 'helper/app:1');
    assert.equal((await fetchManifest(client, 'helper/app', '1', 'helper/app:1')).digest, img.manifestDigest);
    await client.close();
    // Another host: the helper has nothing, so the request is anonymous and refused.
    await dockerConfig(cfg, { credHelpers: { 'elsewhere:1': 'kilntest' }, credsStore: 'missinghelper' });
    const missing = new RegistryClient(reg.host, { env, certsDir: reg.certsD! });
    await assert.rejects(fetchManifest(missing, 'helper/app', '1', 'helper/app:1'), (err: Error & { code?: string }) => err.code === 'KILN_CREDENTIAL_HELPER' && /docker-credential-missinghelper .*not found on PATH/.test(err.message));
    await missing.close();
  });
});

describe('token auth', () => {
  let reg: RegistryServer;
  let dir: string;
  let src: ContentStore;

  before(async () => {
    reg = await startRegistry({ token: { users: { bob: PASSWORD } } });
    dir = await mkdtemp(path.join(tmpdir(), 'kiln-token-test-'));
    src = new ContentStore(path.join(dir, 'src'));
  });
  after(async () => {
    await reg.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('pushes with a push-scoped token fetched with the credentials, one token for the whole push', async () => {
    const client = new RegistryClient(reg.host, { env: { HOME: dir }, credentials: { username: 'bob', password: PASSWORD } });
    const img = await makeImage(src, [1000, 2000, 3000]);
    await pushImage(client, 'tok/app', { ...img.push, tag: '1' }, 'tok/app:1');
    const token = reg.token!;
    assert.deepEqual([...new Set(token.issued)], ['repository:tok/app:pull,push']);
    assert.equal(token.issued.length, 1, 'the token is cached for its scope');
    assert.equal(token.lastUser, 'bob');
    await client.close();
  });

  it('pulls anonymously with a pull token, and cannot push without credentials', async () => {
    const anon = new RegistryClient(reg.host, { env: { HOME: dir } });
    const got = await fetchManifest(anon, 'tok/app', '1', 'tok/app:1');
    assert.ok(got.digest.startsWith('sha256:'));
    assert.equal(reg.token!.issued.at(-1), 'repository:tok/app:pull');
    const img = await makeImage(src, [500]);
    await assert.rejects(pushImage(anon, 'tok/other', img.push, 'tok/other'), (err: Error & { code?: string }) => err.code === 'KILN_REGISTRY_UNAUTHORIZED');
    await anon.close();
  });

  it('uses an identity token (the docker config\'s identitytoken) through the refresh-token flow', async () => {
    const token = reg.token!;
    const refresh = token.refreshTokenFor('bob');
    assert.ok(refresh, 'the token server handed out a refresh token for the offline_token request');
    const cfg = path.join(dir, 'docker-identity');
    await dockerConfig(cfg, { auths: { [reg.host]: { identitytoken: refresh } } });
    const client = new RegistryClient(reg.host, { env: { HOME: dir, DOCKER_CONFIG: cfg } });
    const img = await makeImage(src, [700]);
    const used = token.refreshUsed;
    await pushImage(client, 'tok/identity', { ...img.push, tag: '1' }, 'tok/identity:1');
    assert.ok(token.refreshUsed > used, 'the push got its token with the refresh token');
    assert.equal(token.lastUser, 'bob');
    await client.close();
  });

  it('fetches a new token when the registry refuses the one it has', async () => {
    const client = new RegistryClient(reg.host, { env: { HOME: dir }, credentials: { username: 'bob', password: PASSWORD } });
    const before = reg.token!.issued.length;
    reg.token!.revokeNext();
    const got = await fetchManifest(client, 'tok/app', '1', 'tok/app:1');
    assert.ok(got.digest.startsWith('sha256:'));
    assert.equal(reg.token!.issued.length - before, 2, 'the refused token was replaced');
    await client.close();
  });
});
