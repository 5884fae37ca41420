// The /etc files a container gets: hosts with its name, resolv.conf without unreachable local resolvers.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { renderHosts, renderResolvConf, writeEtcFiles } from '../../runner/etc-files.js';

describe('etc files', () => {
  it('hosts has the localhost lines and the container name', () => {
    const hosts = renderHosts('box1');
    assert.match(hosts, /^127\.0\.0\.1\tlocalhost$/m);
    assert.match(hosts, /^::1\tlocalhost ip6-localhost ip6-loopback$/m);
    assert.match(hosts, /^127\.0\.1\.1\tbox1$/m);
  });

  it('drops loopback resolvers for a separate network and falls back to public ones', () => {
    const stub = 'search example.com\nnameserver 127.0.0.53\noptions edns0 trust-ad\n';
    assert.equal(renderResolvConf(stub, 'none'), 'search example.com\noptions edns0 trust-ad\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n');
    const mixed = 'nameserver 127.0.0.1\nnameserver 10.0.0.2\nnameserver ::1\n';
    assert.equal(renderResolvConf(mixed, 'none'), 'nameserver 10.0.0.2\n');
    // Sharing the host's network, its loopback resolver is reachable: keep the file as is.
    assert.equal(renderResolvConf(stub, 'host'), stub);
  });

  it('writes the three files into a directory', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-etc-'));
    try {
      const files = await writeEtcFiles(dir, 'c0ffee', 'none');
      assert.equal(await readFile(files.hostname, 'utf8'), 'c0ffee\n');
      assert.match(await readFile(files.hosts, 'utf8'), /\tc0ffee\n$/);
      assert.doesNotMatch(await readFile(files.resolvConf, 'utf8'), /nameserver 127\./);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
