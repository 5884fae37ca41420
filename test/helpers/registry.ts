// A real registry for tests: Debian's docker-registry (CNCF distribution) on a free 127.0.0.1 port
// with a temporary storage dir and a generated config: plain HTTP, TLS with a CA the test makes
// (installed as certs.d/<host:port>/ca.crt) plus htpasswd basic auth, or token auth against a
// small token server in this process that signs JWTs with a generated key.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { createSign, randomBytes, X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface RegistryServer {
  /** `127.0.0.1:PORT`, as a reference names it. */
  host: string;
  port: number;
  dir: string;
  /** The certs.d root holding this registry's CA (TLS variant), for KILN_CERTS_D. */
  certsD?: string;
  /** The CA file (TLS variant), for skopeo's --cert-dir. */
  caDir?: string;
  token?: TokenServer;
  /** The access log's requests so far: `PUT /v2/app/blobs/uploads/…`. */
  requests(): Promise<{ method: string; path: string; status: number }[]>;
  stop(): Promise<void>;
}

export interface TokenServer {
  url: string;
  /** Token requests answered, by scope string. */
  issued: string[];
  /** The next token handed out is signed with a key the registry does not trust (then honest again). */
  revokeNext(): void;
  /** The user the last token was issued to (from Basic credentials or a refresh token). */
  lastUser: string | undefined;
  /** Token requests answered through the refresh-token (identity token) flow. */
  refreshUsed: number;
  /** A refresh token the server handed `user` (after a login with offline_token), for identity-token tests. */
  refreshTokenFor(user: string): string | undefined;
  close(): Promise<void>;
}

export interface RegistryOptions {
  tls?: boolean;
  /** htpasswd basic auth with this user (TLS only; the registry refuses basic auth over HTTP). */
  basic?: { user: string; password: string };
  /** Token auth; `users` may log in, anyone may pull; pushing needs a user. */
  token?: { users: Record<string, string> };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function openssl(args: string[], cwd: string): Promise<void> {
  await run('openssl', args, { cwd });
}

/** A CA and a server certificate for 127.0.0.1 and localhost, signed by it. */
async function makeCerts(dir: string): Promise<void> {
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=kiln-test-ca'], dir);
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
  await writeFile(path.join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'ext.cnf'], dir);
}

/** A bcrypt htpasswd line: libcrypt (through perl) makes `$2b$`, which the registry's Go bcrypt reads. */
async function htpasswdLine(user: string, password: string): Promise<string> {
  const salt = randomBytes(16).toString('base64').replace(/[^A-Za-z0-9]/g, '.').slice(0, 22);
  const { stdout } = await run('perl', ['-e', 'print crypt($ARGV[0], $ARGV[1])', password, `$2b$05$${salt}`]);
  if (!stdout.startsWith('$2b$')) throw new Error('perl crypt() made no bcrypt hash');
  return `${user}:${stdout}`;
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

async function startTokenServer(dir: string, service: string, issuer: string, users: Record<string, string>): Promise<TokenServer & { bundle: string }> {
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'token.key', '-out', 'token.crt', '-days', '2', '-subj', '/CN=kiln-test-token'], dir);
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rogue.key', '-out', 'rogue.crt', '-days', '2', '-subj', '/CN=kiln-test-rogue'], dir);
  const keys = {
    good: { key: await readFile(path.join(dir, 'token.key'), 'utf8'), cert: new X509Certificate(await readFile(path.join(dir, 'token.crt'))) },
    rogue: { key: await readFile(path.join(dir, 'rogue.key'), 'utf8'), cert: new X509Certificate(await readFile(path.join(dir, 'rogue.crt'))) },
  };
  let revoke = false;
  const state: TokenServer & { bundle: string } = {
    url: '',
    issued: [],
    lastUser: undefined,
    refreshUsed: 0,
    refreshTokenFor: (u: string) => [...refreshTokens].find(([, who]) => who === u)?.[0],
    bundle: path.join(dir, 'token.crt'),
    revokeNext: () => {
      revoke = true;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
  const refreshTokens = new Map<string, string>();
  const server: Server = createHttpServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization;
    let user: string | undefined;
    let scopes = url.searchParams.getAll('scope');
    let refresh: string | undefined;
    if (req.method === 'POST') {
      // The OAuth2 form: a refresh token stands for the user who logged in with a password.
      let body = '';
      for await (const c of req) body += String(c);
      const form = new URLSearchParams(body);
      user = form.get('grant_type') === 'refresh_token' ? refreshTokens.get(form.get('refresh_token') ?? '') : undefined;
      if (user === undefined) {
        res.writeHead(401).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      scopes = (form.get('scope') ?? '').split(' ').filter((x) => x !== '');
      state.refreshUsed++;
    } else if (auth?.startsWith('Basic ')) {
      const [u, p] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':') as [string, string];
      if (users[u] !== p) {
        res.writeHead(401).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      user = u;
      if (url.searchParams.get('offline_token') === 'true') {
        refresh = randomBytes(12).toString('hex');
        refreshTokens.set(refresh, u);
      }
    }
    state.lastUser = user;
    state.issued.push(scopes.join(' '));
    const access = scopes.map((s) => {
      const [type, name, actions] = s.split(':') as [string, string, string];
      const allowed = actions.split(',').filter((a) => a === 'pull' || user !== undefined);
      return { type, name, actions: allowed };
    });
    const signer = revoke ? keys.rogue : keys.good;
    revoke = false;
    const now = Math.floor(Date.now() / 1000);
    const head = { alg: 'RS256', typ: 'JWT', x5c: [signer.cert.raw.toString('base64')] };
    const claims = { iss: issuer, sub: user ?? '', aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const input = `${b64url(JSON.stringify(head))}.${b64url(JSON.stringify(claims))}`;
    const sig = createSign('RSA-SHA256').update(input).sign(signer.key);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${input}.${b64url(sig)}`, expires_in: 300, issued_at: new Date().toISOString(), ...(refresh ? { refresh_token: refresh } : {}) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  state.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/token`;
  return state;
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<RegistryServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${path.join(dir, 'storage')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${host}`,
    `  secret: ${randomBytes(8).toString('hex')}`,
  ];
  let certsD: string | undefined;
  let caDir: string | undefined;
  if (opts.tls) {
    await makeCerts(dir);
    lines.push('  tls:', `    certificate: ${path.join(dir, 'server.crt')}`, `    key: ${path.join(dir, 'server.key')}`);
    certsD = path.join(dir, 'certs.d');
    caDir = path.join(certsD, host);
    await mkdir(caDir, { recursive: true });
    await writeFile(path.join(caDir, 'ca.crt'), await readFile(path.join(dir, 'ca.crt')));
  }
  let token: (TokenServer & { bundle: string }) | undefined;
  if (opts.basic) {
    await writeFile(path.join(dir, 'htpasswd'), (await htpasswdLine(opts.basic.user, opts.basic.password)) + '\n');
    lines.push('auth:', '  htpasswd:', '    realm: kiln-test', `    path: ${path.join(dir, 'htpasswd')}`);
  } else if (opts.token) {
    token = await startTokenServer(dir, 'kiln-test-registry', 'kiln-test-issuer', opts.token.users);
    lines.push('auth:', '  token:', `    realm: ${token.url}`, '    service: kiln-test-registry', '    issuer: kiln-test-issuer', `    rootcertbundle: ${token.bundle}`);
  }
  await writeFile(path.join(dir, 'config.yml'), lines.join('\n') + '\n');
  const log = path.join(dir, 'registry.log');
  const { openSync, closeSync } = await import('node:fs');
  const fd = openSync(log, 'a');
  const child: ChildProcess = spawn('/usr/bin/docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', fd, fd], detached: false });
  closeSync(fd);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitUp(port, child, log);
  return {
    host,
    port,
    dir,
    ...(certsD ? { certsD } : {}),
    ...(caDir ? { caDir } : {}),
    ...(token ? { token } : {}),
    async requests() {
      const text = await readFile(log, 'utf8');
      return [...text.matchAll(/"(GET|HEAD|POST|PUT|PATCH|DELETE) (\S+) HTTP\/[\d.]+" (\d{3})/g)].map((m) => ({ method: m[1]!, path: m[2]!, status: Number(m[3]) }));
    },
    async stop() {
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
      await exited;
      await token?.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitUp(port: number, child: ChildProcess, log: string): Promise<void> {
  const { connect } = await import('node:net');
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${await readFile(log, 'utf8')}`);
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`docker-registry did not listen on ${port}: ${await readFile(log, 'utf8')}`);
}
