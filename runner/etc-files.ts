// The /etc/hosts, /etc/resolv.conf and /etc/hostname a container sees, written by the runner the
// way Docker writes them and bind-mounted over the image's own.

import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface EtcFiles {
  hosts: string;
  resolvConf: string;
  hostname: string;
}

const LOCALHOST = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

// Docker's fallback when the host's resolvers are all local and unreachable from the container.
const FALLBACK_NAMESERVERS = ['8.8.8.8', '8.8.4.4'];

export function renderHosts(hostname: string): string {
  return [...LOCALHOST, `127.0.1.1\t${hostname}`].join('\n') + '\n';
}

const isLocalResolver = (ip: string): boolean => /^127\./.test(ip) || ip === '::1' || ip === '0:0:0:0:0:0:0:1';

/**
 * The host's resolv.conf as the container should see it. With its own network namespace a
 * loopback resolver (systemd-resolved's 127.0.0.53, dnsmasq on 127.0.0.1) would be the container's
 * own loopback, so those lines go, and Docker's public fallbacks stand in when nothing is left.
 */
export function renderResolvConf(host: string, network: 'host' | 'none'): string {
  if (network === 'host') return host;
  const lines = host.split('\n').filter((line) => {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    return !m || !isLocalResolver(m[1] as string);
  });
  if (!lines.some((l) => /^\s*nameserver\s/.test(l))) {
    while (lines.length && lines[lines.length - 1] === '') lines.pop();
    lines.push(...FALLBACK_NAMESERVERS.map((ip) => `nameserver ${ip}`), '');
  }
  return lines.join('\n');
}

async function hostResolvConf(): Promise<string> {
  const main = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  // systemd-resolved keeps the real upstream servers here; Docker prefers it when the main file
  // points at the stub resolver.
  if (/^\s*nameserver\s+127\.0\.0\.53\b/m.test(main)) {
    const upstream = await readFile('/run/systemd/resolve/resolv.conf', 'utf8').catch(() => undefined);
    if (upstream) return upstream;
  }
  return main;
}

/** Writes the three files into `dir` and returns their paths. */
export async function writeEtcFiles(dir: string, hostname: string, network: 'host' | 'none'): Promise<EtcFiles> {
  const files: EtcFiles = {
    hosts: path.join(dir, 'hosts'),
    resolvConf: path.join(dir, 'resolv.conf'),
    hostname: path.join(dir, 'hostname'),
  };
  await Promise.all([
    writeFile(files.hosts, renderHosts(hostname)),
    writeFile(files.resolvConf, renderResolvConf(await hostResolvConf(), network)),
    writeFile(files.hostname, `${hostname}\n`),
  ]);
  return files;
}
