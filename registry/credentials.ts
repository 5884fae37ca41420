// The credentials for a registry host as docker finds them: credHelpers[host], else credsStore,
// else the `auths` entry (base64 `auth`, or an `identitytoken` for the OAuth2 refresh flow).
// login stores them the same way; logout removes them.
import { configKey, keyHost, readDockerConfig, writeDockerConfig, type AuthEntry, type DockerConfig } from './docker-config.js';
import { helperErase, helperGet, helperStore } from './credential-helper.js';

export interface Credentials {
  username?: string;
  password?: string;
  /** A refresh token from an earlier login (docker's `identitytoken`, a helper's `<token>` user). */
  identityToken?: string;
}

/** A credential helper's user name that means "the secret is an identity token". */
const TOKEN_USER = '<token>';

function helperFor(config: DockerConfig, host: string): string | undefined {
  const helpers = config.credHelpers ?? {};
  const named = Object.entries(helpers).find(([key]) => key === host || keyHost(key) === host)?.[1];
  return named ?? (config.credsStore || undefined);
}

function entryFor(config: DockerConfig, host: string): AuthEntry | undefined {
  const auths = config.auths ?? {};
  const key = configKey(host);
  if (Object.hasOwn(auths, key)) return auths[key];
  return Object.entries(auths).find(([k]) => keyHost(k) === host)?.[1];
}

function decodeEntry(entry: AuthEntry): Credentials | undefined {
  const out: Credentials = {};
  if (entry.auth) {
    const text = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon > 0) {
      out.username = text.slice(0, colon);
      out.password = text.slice(colon + 1);
    }
  } else if (entry.username !== undefined && entry.password !== undefined) {
    out.username = entry.username;
    out.password = entry.password;
  }
  if (entry.identitytoken) out.identityToken = entry.identitytoken;
  return out.username !== undefined || out.identityToken !== undefined ? out : undefined;
}

/** What the docker config holds for `host`; undefined means anonymous. */
export async function findCredentials(host: string, env: NodeJS.ProcessEnv): Promise<Credentials | undefined> {
  const config = await readDockerConfig(env);
  const helper = helperFor(config, host);
  if (helper !== undefined) {
    const got = await helperGet(helper, host, configKey(host), env);
    if (got === undefined) return undefined;
    return got.Username === TOKEN_USER ? { identityToken: got.Secret } : { username: got.Username, password: got.Secret };
  }
  const entry = entryFor(config, host);
  return entry ? decodeEntry(entry) : undefined;
}

/** Records credentials for `host`: through its helper when one is configured, else in `auths`. */
export async function saveCredentials(host: string, creds: { username: string; password: string }, env: NodeJS.ProcessEnv): Promise<string> {
  const config = await readDockerConfig(env);
  const key = configKey(host);
  const helper = helperFor(config, host);
  if (helper !== undefined) {
    await helperStore(helper, host, key, { Username: creds.username, Secret: creds.password }, env);
    // docker leaves an empty entry so the host shows in `auths`; no secret goes into it.
    config.auths = { ...config.auths, [key]: {} };
  } else {
    config.auths = { ...config.auths, [key]: { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') } };
  }
  await writeDockerConfig(env, config);
  return helper !== undefined ? `docker-credential-${helper}` : 'config';
}

/** Forgets `host`'s credentials; false when there were none in the config. */
export async function removeCredentials(host: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const config = await readDockerConfig(env);
  const key = configKey(host);
  const helper = helperFor(config, host);
  if (helper !== undefined) await helperErase(helper, host, key, env);
  const auths = config.auths ?? {};
  const keys = Object.keys(auths).filter((k) => k === key || keyHost(k) === host);
  for (const k of keys) delete auths[k];
  if (keys.length > 0 || helper !== undefined) await writeDockerConfig(env, { ...config, auths });
  return keys.length > 0;
}
