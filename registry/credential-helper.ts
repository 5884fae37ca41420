// The docker-credential-<name> protocol: `get` (server URL on stdin, JSON out), `store` (JSON in)
// and `erase` (server URL in). The helper's output is never echoed: it may hold the secret.
import { spawn } from 'node:child_process';
import { CredentialHelperError } from './errors.js';

export interface HelperCredentials {
  Username: string;
  Secret: string;
}

/** docker-credential-helpers' answer when it has nothing for the server. */
const NOT_FOUND = /credentials not found/i;

function runHelper(helper: string, host: string, action: 'get' | 'store' | 'erase', input: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${helper}`, [action], { env, stdio: ['pipe', 'pipe', 'ignore'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(new CredentialHelperError(helper, host, err.code === 'ENOENT' ? 'not found on PATH' : `cannot be started (${err.code ?? 'error'})`)),
    );
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString('utf8') }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** The helper's credentials for `serverUrl`; undefined when it has none. */
export async function helperGet(helper: string, host: string, serverUrl: string, env: NodeJS.ProcessEnv): Promise<HelperCredentials | undefined> {
  const { code, stdout } = await runHelper(helper, host, 'get', serverUrl, env);
  if (code !== 0) {
    if (NOT_FOUND.test(stdout)) return undefined;
    throw new CredentialHelperError(helper, host, `'get' exited with status ${code}`);
  }
  try {
    const parsed = JSON.parse(stdout) as Partial<HelperCredentials>;
    if (typeof parsed.Username !== 'string' || typeof parsed.Secret !== 'string') throw new Error('fields');
    return { Username: parsed.Username, Secret: parsed.Secret };
  } catch {
    throw new CredentialHelperError(helper, host, "'get' did not print {\"Username\", \"Secret\"} JSON");
  }
}

export async function helperStore(helper: string, host: string, serverUrl: string, creds: HelperCredentials, env: NodeJS.ProcessEnv): Promise<void> {
  const { code } = await runHelper(helper, host, 'store', JSON.stringify({ ServerURL: serverUrl, ...creds }), env);
  if (code !== 0) throw new CredentialHelperError(helper, host, `'store' exited with status ${code}`);
}

export async function helperErase(helper: string, host: string, serverUrl: string, env: NodeJS.ProcessEnv): Promise<void> {
  const { code, stdout } = await runHelper(helper, host, 'erase', serverUrl, env);
  if (code !== 0 && !NOT_FOUND.test(stdout)) throw new CredentialHelperError(helper, host, `'erase' exited with status ${code}`);
}
