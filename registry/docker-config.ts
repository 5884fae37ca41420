// ~/.docker/config.json (or $DOCKER_CONFIG/config.json), the credentials part of it: `auths`,
// `credsStore` and `credHelpers`, read and written as docker does, other keys kept untouched.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { DockerConfigError } from './errors.js';

export interface AuthEntry {
  /** base64 of `user:password`. */
  auth?: string;
  identitytoken?: string;
  username?: string;
  password?: string;
}

export interface DockerConfig {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [key: string]: unknown;
}

/** The key docker files Docker Hub's credentials under. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

export function configDir(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_CONFIG || path.join(env.HOME || homedir(), '.docker');
}

export function configFile(env: NodeJS.ProcessEnv): string {
  return path.join(configDir(env), 'config.json');
}

export async function readDockerConfig(env: NodeJS.ProcessEnv): Promise<DockerConfig> {
  const file = configFile(env);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new DockerConfigError(file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const data = JSON.parse(text) as unknown;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error('not an object');
    return data as DockerConfig;
  } catch (err) {
    // The message of a JSON error can quote the file, and so a secret: only its kind is said.
    throw new DockerConfigError(file, `is not a JSON object (${(err as Error).name})`);
  }
}

/** Written to a temp file beside it and renamed, mode 0600, as docker keeps it. */
export async function writeDockerConfig(env: NodeJS.ProcessEnv, config: DockerConfig): Promise<void> {
  const file = configFile(env);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(config, null, '\t') + '\n', { mode: 0o600 });
  await rename(tmp, file);
}

/** The config key a registry host is filed under (Docker Hub has its legacy URL). */
export function configKey(host: string): string {
  return host === 'docker.io' || host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_HUB_KEY : host;
}

/** A config key as a bare host: `https://reg:5000/v1/` → `reg:5000`, as docker's ConvertToHostname. */
export function keyHost(key: string): string {
  const bare = key.replace(/^https?:\/\//, '');
  const host = bare.split('/')[0]!;
  return host === 'index.docker.io' ? 'docker.io' : host;
}
