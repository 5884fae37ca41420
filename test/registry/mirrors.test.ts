// Registry mirrors and insecure hosts from kiln's config file (as dockerd's daemon.json): a mirror
// registry that has the image is asked first and an origin that lacks it is never asked, an origin
// is the fallback for what the mirror lacks, the environment wins over the file, and a bad file
// is one error naming the file and the key. Two real registries.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Store } from '../../snapshotter/store.js';
import { ContentStore } from '../../snapshotter/content.js';
import { RegistryClient } from '../../registry/client.js';
import { registrySettings } from '../../registry/config-file.js';
import { pushImage } from '../../registry/push.js';
import { pull } from '../../api/pull.js';
import { runKiln } from '../helpers/kiln-cli.js';
import { startRegistry, type RegistryServer } from '../helpers/registry.js';
import { makeImage } from './image-fixture.js';

describe('registry mirrors from the config file', () => {
  let origin: RegistryServer;
  let mirror: RegistryServer;
  let dir: string;
  let src: ContentStore;
  let config: string;
  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ HOME: dir, KILN_CONFIG: config, ...extra });
  const writeConfig = (doc: unknown): Promise<void> => writeFile(config, typeof doc === 'string' ? doc : JSON.stringify(doc));
  /** Pushes a new image of random bytes to `reg` as `repo:tag`; returns its manifest digest. */
  const publish = async (reg: RegistryServer, repo: string, tag: string): Promise<string> => {
    const client = new RegistryClient(reg.host, { env: { HOME: dir } });
    try {
      const img = await makeImage(src, [3000]);
      await pushImage(client, repo, { ...img.push, tag }, `${repo}:${tag}`);
      return img.manifestDigest;
    } finally {
      await client.close();
    }
  };

  before(async () => {
    [origin, mirror] = await Promise.all([startRegistry(), startRegistry()]);
    dir = await mkdtemp(path.join(tmpdir(), 'kiln-mirrors-'));
    src = new ContentStore(path.join(dir, 'src'));
    config = path.join(dir, 'kiln-config.json');
  });
  after(async () => {
    await Promise.all([origin.stop(), mirror.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('pulls from the mirror the file names, never asking the origin that lacks the image', async () => {
    const digest = await publish(mirror, 'team/app', '1');
    await writeConfig({ mirrors: { [origin.host]: [`http://${mirror.host}`] } });
    const store = await Store.open(path.join(dir, 'store-a'));
    const got = await pull(store, `${origin.host}/team/app:1`, { env: env() });
    assert.equal(got.name, `${origin.host}/team/app:1`, 'recorded under the name asked for');
    assert.equal(got.target.digest, digest);
    assert.deepEqual((await origin.requests()).filter((r) => r.path.includes('team/app')), []);
    assert.ok((await mirror.requests()).some((r) => r.method === 'GET' && r.path === '/v2/team/app/manifests/1' && r.status === 200));
  });

  it('falls back to the origin for what the mirror lacks', async () => {
    const digest = await publish(origin, 'team/only-origin', '1');
    await writeConfig({ mirrors: { [origin.host]: [`http://${mirror.host}/`] } });
    const store = await Store.open(path.join(dir, 'store-b'));
    assert.equal((await pull(store, `${origin.host}/team/only-origin:1`, { env: env() })).target.digest, digest);
    assert.ok((await mirror.requests()).some((r) => r.path === '/v2/team/only-origin/manifests/1' && r.status === 404), 'the mirror was asked first');
  });

  it('takes registry-mirrors for Docker Hub names; KILN_REGISTRY_MIRRORS wins over the file', async () => {
    const inFile = await publish(origin, 'library/mirrored', '1');
    const inEnv = await publish(mirror, 'library/mirrored', '1');
    await writeConfig({ 'registry-mirrors': [`http://${origin.host}`] });
    const viaFile = await pull(await Store.open(path.join(dir, 'store-c')), 'mirrored:1', { env: env() });
    assert.equal(viaFile.name, 'docker.io/library/mirrored:1');
    assert.equal(viaFile.target.digest, inFile);
    const viaEnv = await pull(await Store.open(path.join(dir, 'store-d')), 'mirrored:1', { env: env({ KILN_REGISTRY_MIRRORS: mirror.host }) });
    assert.equal(viaEnv.target.digest, inEnv);
  });

  it('reads insecure-registries, and an http:// mirror is spoken to in plain HTTP; the environment list wins', async () => {
    await writeConfig({ 'insecure-registries': ['10.0.0.0/8', 'reg.example:5000'], mirrors: { 'ghcr.io': ['http://mirror.example:5000', 'https://secure.example'] } });
    const s = registrySettings(env());
    assert.deepEqual(s.insecure, ['10.0.0.0/8', 'reg.example:5000', 'mirror.example:5000']);
    assert.deepEqual(s.mirrors.get('ghcr.io'), ['mirror.example:5000', 'secure.example']);
    assert.deepEqual(registrySettings(env({ KILN_INSECURE_REGISTRIES: 'other.example' })).insecure, ['mirror.example:5000', 'other.example']);
  });

  it('finds $XDG_CONFIG_HOME/kiln/config.json without KILN_CONFIG', async () => {
    const xdg = path.join(dir, 'xdg');
    await mkdir(path.join(xdg, 'kiln'), { recursive: true });
    await writeFile(path.join(xdg, 'kiln', 'config.json'), JSON.stringify({ 'registry-mirrors': ['https://hub-mirror.example'] }));
    assert.deepEqual(registrySettings({ HOME: dir, XDG_CONFIG_HOME: xdg }).mirrors.get('docker.io'), ['hub-mirror.example']);
    assert.deepEqual(registrySettings({ HOME: path.join(dir, 'nobody') }).mirrors.size, 0, 'no file: no mirrors');
  });

  it('refuses a bad file with one line naming the file and the key', async () => {
    const refused = async (doc: unknown, message: RegExp): Promise<void> => {
      await writeConfig(doc);
      assert.throws(() => registrySettings(env()), (err: Error & { code?: string }) => err.code === 'KILN_CONFIG' && message.test(err.message) && err.message.startsWith(`${config}: `));
    };
    await refused('{"registry-mirrors": [', /not valid JSON/);
    await refused({ 'registry-mirrors': ['ftp://mirror.example'] }, /"registry-mirrors": mirror "ftp:\/\/mirror\.example" has the scheme ftp: use http:\/\/ or https:\/\//);
    await refused({ 'registry-mirrors': ['https://u:p@mirror.example'] }, /holds credentials/);
    await refused({ 'registry-mirrors': ['https://mirror.example/some/path'] }, /has a path/);
    await refused({ 'registry-mirrors': 'https://mirror.example' }, /"registry-mirrors" must be a list of strings/);
    await refused({ mirrors: { 'ghcr.io': ['not a url'] } }, /"mirrors\.ghcr\.io": mirror "not a url" is not a URL/);
    await refused({ 'insecure-registries': ['http://reg.example'] }, /"insecure-registries": "http:\/\/reg\.example" is a host\[:port\] or CIDR/);
    await refused({ 'registry-mirror': [] }, /unknown key "registry-mirror"/);
    assert.throws(() => registrySettings({ KILN_CONFIG: path.join(dir, 'absent.json') }), /absent\.json: cannot be read \(ENOENT\)/);

    await writeConfig({ 'registry-mirrors': ['ftp://mirror.example'] });
    const cli = await runKiln(['pull', '--root', path.join(dir, 'store-e'), 'busybox'], { env: { ...process.env, ...env() } });
    assert.equal(cli.code, 1);
    assert.equal(cli.stderr.trim().split('\n').length, 1, cli.stderr);
    assert.match(cli.stderr, /^error: .*kiln-config\.json: "registry-mirrors": mirror "ftp:\/\/mirror\.example" has the scheme ftp/);
  });
});
