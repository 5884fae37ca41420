// kiln's registry settings file, read as dockerd reads daemon.json: `registry-mirrors` (Docker
// Hub's mirrors), `insecure-registries`, and `mirrors` ({"host": [URL, …]}, the same for any
// registry, as containerd's hosts.toml mirrors). The file is $KILN_CONFIG, else
// $XDG_CONFIG_HOME/kiln/config.json (~/.config/kiln/config.json) when it exists, else
// /etc/kiln/config.json when it exists. KILN_REGISTRY_MIRRORS and KILN_INSECURE_REGISTRIES, when
// set, win over the file's lists.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { KilnConfigError } from './errors.js';

export const SYSTEM_CONFIG = '/etc/kiln/config.json';
const KEYS = ['registry-mirrors', 'insecure-registries', 'mirrors'] as const;

export interface RegistrySettings {
  /** Mirror hosts (`host[:port]`) by the registry they stand for, tried in order before it. */
  mirrors: Map<string, string[]>;
  /** Hosts or CIDRs allowed plain HTTP besides loopback; `http://` mirrors are among them. */
  insecure: string[];
}

/** The file's path and text, or undefined when no file is there (only KILN_CONFIG must exist). */
function readConfig(env: NodeJS.ProcessEnv): { file: string; text: string } | undefined {
  const user = path.join(env.XDG_CONFIG_HOME || path.join(env.HOME || homedir(), '.config'), 'kiln', 'config.json');
  const candidates = env.KILN_CONFIG ? [env.KILN_CONFIG] : [user, SYSTEM_CONFIG];
  for (const file of candidates) {
    try {
      return { file, text: readFileSync(file, 'utf8') };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' || env.KILN_CONFIG) throw new KilnConfigError(file, `cannot be read (${code ?? (err as Error).message})`);
    }
  }
  return undefined;
}

function stringList(file: string, key: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new KilnConfigError(file, `"${key}" must be a list of strings`);
  return value as string[];
}

/**
 * A mirror as `host[:port]`, and whether it speaks plain HTTP. The file wants a URL, as dockerd
 * does; the environment's list also takes a bare `host[:port]` (HTTPS, or HTTP where allowed).
 */
function parseMirror(entry: string, where: { file: string; key: string } | undefined): { host: string; http: boolean } {
  const bare = !/^[a-z][a-z0-9+.-]*:\/\//i.test(entry);
  if (bare && where === undefined) return { host: entry.replace(/\/+$/, ''), http: false };
  const refuse = (why: string): never => {
    if (where) throw new KilnConfigError(where.file, `"${where.key}": mirror "${entry}" ${why}`);
    throw new KilnConfigError('KILN_REGISTRY_MIRRORS', `mirror "${entry}" ${why}`);
  };
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return refuse('is not a URL (write https://host[:port])');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') refuse(`has the scheme ${url.protocol.slice(0, -1)}: use http:// or https://`);
  if (url.username !== '' || url.password !== '') refuse('holds credentials: put them in the docker config (kiln login) instead');
  if (url.search !== '' || url.hash !== '') refuse('has a query or fragment');
  if (url.pathname !== '/') refuse('has a path: kiln speaks to a mirror at its root (/v2/)');
  return { host: url.host, http: url.protocol === 'http:' };
}

function addMirrors(settings: RegistrySettings, registry: string, entries: string[], where: { file: string; key: string } | undefined): void {
  const hosts = entries.map((e) => e.trim()).filter((e) => e !== '').map((e) => parseMirror(e, where));
  settings.mirrors.set(registry, [...(settings.mirrors.get(registry) ?? []), ...hosts.map((m) => m.host)]);
  settings.insecure.push(...hosts.filter((m) => m.http).map((m) => m.host));
}

function fromFile(file: string, text: string, settings: RegistrySettings, env: NodeJS.ProcessEnv): void {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new KilnConfigError(file, `not valid JSON (${(err as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new KilnConfigError(file, 'expected a JSON object');
  const o = doc as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !(KEYS as readonly string[]).includes(k));
  if (unknown.length > 0) throw new KilnConfigError(file, `unknown key "${unknown[0]}" (kiln reads ${KEYS.join(', ')})`);
  if (o['insecure-registries'] !== undefined && env.KILN_INSECURE_REGISTRIES === undefined) {
    const list = stringList(file, 'insecure-registries', o['insecure-registries']);
    const bad = list.find((h) => h.includes('://'));
    if (bad !== undefined) throw new KilnConfigError(file, `"insecure-registries": "${bad}" is a host[:port] or CIDR, without a scheme`);
    settings.insecure.push(...list);
  }
  if (o['registry-mirrors'] !== undefined && env.KILN_REGISTRY_MIRRORS === undefined) {
    addMirrors(settings, 'docker.io', stringList(file, 'registry-mirrors', o['registry-mirrors']), { file, key: 'registry-mirrors' });
  }
  if (o.mirrors !== undefined) {
    if (typeof o.mirrors !== 'object' || o.mirrors === null || Array.isArray(o.mirrors)) throw new KilnConfigError(file, '"mirrors" must map registry hosts to lists of mirror URLs');
    for (const [registry, list] of Object.entries(o.mirrors)) {
      if (registry === 'docker.io' && env.KILN_REGISTRY_MIRRORS !== undefined) continue;
      addMirrors(settings, registry, stringList(file, `mirrors.${registry}`, list), { file, key: `mirrors.${registry}` });
    }
  }
}

/** The settings the environment and the config file give together. */
export function registrySettings(env: NodeJS.ProcessEnv): RegistrySettings {
  const settings: RegistrySettings = { mirrors: new Map(), insecure: [] };
  const config = readConfig(env);
  if (config) fromFile(config.file, config.text, settings, env);
  if (env.KILN_INSECURE_REGISTRIES !== undefined) settings.insecure.push(...env.KILN_INSECURE_REGISTRIES.split(',').map((s) => s.trim()).filter((s) => s !== ''));
  if (env.KILN_REGISTRY_MIRRORS !== undefined) addMirrors(settings, 'docker.io', env.KILN_REGISTRY_MIRRORS.split(','), undefined);
  return settings;
}
