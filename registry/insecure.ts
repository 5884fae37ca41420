// Which registries may be spoken to over plain HTTP: loopback ones (as dockerd allows 127.0.0.0/8)
// and those named by --insecure-registry or the registry settings (config-file.ts). Every other one
// is HTTPS only.
import { isIP } from 'node:net';

/** `host[:port]` without the port, brackets of an IPv6 literal removed. */
export function hostName(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return colon >= 0 && host.indexOf(':') === colon ? host.slice(0, colon) : host;
}

/** `localhost`, `::1` or an address in 127.0.0.0/8 (a host name without its port). */
export function isLoopback(name: string): boolean {
  if (name === 'localhost' || name === '::1') return true;
  return isIP(name) === 4 && name.startsWith('127.');
}

/**
 * Whether `host` (as in a reference: `reg:5000`) may fall back to plain HTTP. A listed entry
 * matches the host with or without its port, and may be an IPv4 CIDR (`10.0.0.0/8`), as dockerd's.
 */
export function allowsPlainHttp(host: string, insecure: readonly string[]): boolean {
  const name = hostName(host);
  if (isLoopback(name)) return true;
  return insecure.some((entry) => entry === host || entry === name || (entry.includes('/') && inCidr(name, entry)));
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/') as [string, string];
  if (isIP(ip) !== 4 || isIP(base) !== 4) return false;
  const n = Number(bits);
  if (!Number.isInteger(n) || n < 0 || n > 32) return false;
  const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0;
  return ((toInt(ip) & mask) >>> 0) === ((toInt(base) & mask) >>> 0);
}

function toInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}
