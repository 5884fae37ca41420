// kiln login/logout against a TLS registry with htpasswd auth (its CA in a certs.d the test
// makes): credentials checked, stored in the docker config or through a docker-credential helper,
// used by push and pull, removed by logout; the password never shows in output or in the store.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { importBusybox, runKiln } from '../helpers/kiln-cli.js';
import { startRegistry, type RegistryServer } from '../helpers/registry.js';

const run = promisify(execFile);
const PASSWORD = 'hunter2-Zq81xv';

describe('kiln login and logout', () => {
  let reg: RegistryServer;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const outputs: string[] = [];
  const kiln = async (args: string[], input?: string) => {
    const r = await runKiln(args, { env, ...(input !== undefined ? { input } : {}) });
    const out = r.stdout.toString('utf8');
    outputs.push(out, r.stderr);
    return { ...r, out };
  };
  const config = async (): Promise<{ auths?: Record<string, { auth?: string }> }> => JSON.parse(await readFile(path.join(dir, 'docker', 'config.json'), 'utf8'));

  before(async () => {
    reg = await startRegistry({ tls: true, basic: { user: 'alice', password: PASSWORD } });
    dir = await mkdtemp(path.join(tmpdir(), 'kiln-login-'));
    env = { ...process.env, HOME: dir, DOCKER_CONFIG: path.join(dir, 'docker'), KILN_CERTS_D: reg.certsD!, KILN_ROOT: path.join(dir, 'root') };
    await importBusybox(dir, path.join(dir, 'root'), env);
    assert.equal((await kiln(['tag', 'kiln.local/busybox', `${reg.host}/private/busybox:1`])).code, 0);
  });
  after(async () => {
    await reg.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses wrong credentials, stores right ones in the docker config, and push and pull use them', async () => {
    const wrong = await kiln(['login', '-u', 'alice', '--password-stdin', reg.host], 'nope\n');
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /refused the credentials/);
    const ok = await kiln(['login', '-u', 'alice', '--password-stdin', reg.host], `${PASSWORD}\n`);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.out, /^Login Succeeded/);
    assert.equal((await config()).auths?.[reg.host]?.auth, Buffer.from(`alice:${PASSWORD}`).toString('base64'));
    const pushed = await kiln(['push', `${reg.host}/private/busybox:1`]);
    assert.equal(pushed.code, 0, pushed.stderr);
    const pulled = await kiln(['pull', '--root', path.join(dir, 'other'), `${reg.host}/private/busybox:1`]);
    assert.equal(pulled.code, 0, pulled.stderr);

    const out = await kiln(['logout', reg.host]);
    assert.equal(out.out, `Removing login credentials for ${reg.host}\n`);
    assert.equal((await config()).auths?.[reg.host], undefined);
    const refused = await kiln(['pull', '--root', path.join(dir, 'other2'), `${reg.host}/private/busybox:1`]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`requires authentication; run 'kiln login ${reg.host}'`));
  });

  it('stores through the credsStore helper, which then serves them; no password anywhere', async () => {
    const bin = path.join(dir, 'bin');
    await mkdir(bin, { recursive: true });
    const saved = path.join(dir, 'helper-saved.json');
    await writeFile(
      path.join(bin, 'docker-credential-kilnfile'),
      `#!/bin/sh\ncase "$1" in\n store) cat > ${saved} ;;\n get) read url; if [ -f ${saved} ]; then cat ${saved}; else echo "credentials not found in native keychain"; exit 1; fi ;;\n erase) rm -f ${saved} ;;\nesac\n`,
    );
    await chmod(path.join(bin, 'docker-credential-kilnfile'), 0o755);
    await writeFile(path.join(dir, 'docker', 'config.json'), JSON.stringify({ credsStore: 'kilnfile' }));
    env = { ...env, PATH: `${bin}:${process.env.PATH}` };
    const ok = await kiln(['login', '-u', 'alice', '--password-stdin', reg.host], PASSWORD);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.out, /stored in docker-credential-kilnfile/);
    assert.ok((await readFile(saved, 'utf8')).includes(PASSWORD), 'the helper got the secret');
    assert.ok(!(await readFile(path.join(dir, 'docker', 'config.json'), 'utf8')).includes(PASSWORD), 'the config did not');
    const pulled = await kiln(['pull', '--root', path.join(dir, 'other3'), `${reg.host}/private/busybox:1`]);
    assert.equal(pulled.code, 0, pulled.stderr);
    const ctx = path.join(dir, 'ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(path.join(ctx, 'Dockerfile'), `FROM ${reg.host}/private/busybox:1\nRUN echo built > /b\n`);
    const built = await kiln(['build', '--progress', 'rawjson', '--root', path.join(dir, 'other4'), '--metadata-file', path.join(dir, 'meta.json'), '--push', '-t', `${reg.host}/private/built:1`, ctx]);
    assert.equal(built.code, 0, built.stderr);

    for (const text of [...outputs, await readFile(path.join(dir, 'meta.json'), 'utf8')]) assert.ok(!text.includes(PASSWORD), 'no output holds the password');
    for (const root of ['root', 'other', 'other3', 'other4']) {
      const grep = await run('grep', ['-rl', PASSWORD, path.join(dir, root)]).then(() => 0, (e: { code: number }) => e.code);
      assert.equal(grep, 1, `nothing under ${root} holds the password`);
    }
    const out = await kiln(['logout', reg.host]);
    assert.equal(out.code, 0, out.stderr);
    await assert.rejects(readFile(saved), /ENOENT/);
  });
});
