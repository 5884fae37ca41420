// OCI platforms as containerd reads and normalises them (`--platform` values, index entries), and
// the strict match used to pick a manifest from an image index.
import { endianness } from 'node:os';
import type { Platform } from './image-spec.js';
import { InvalidPlatformError } from './errors.js';

export { InvalidPlatformError } from './errors.js';

const KNOWN_OS = new Set([
  'aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'hurd', 'illumos', 'ios', 'js', 'linux', 'nacl',
  'netbsd', 'openbsd', 'plan9', 'solaris', 'windows', 'zos',
]);
const KNOWN_ARCH = new Set([
  '386', 'amd64', 'amd64p32', 'arm', 'armbe', 'arm64', 'arm64be', 'ppc64', 'ppc64le', 'loong64', 'mips',
  'mipsle', 'mips64', 'mips64le', 'mips64p32', 'mips64p32le', 'ppc', 'riscv', 'riscv64', 's390', 's390x',
  'sparc', 'sparc64', 'wasm',
]);

/** `os` with optional `(version+feature+…)`, percent-encoded where ambiguous. */
const OS_RE = /^([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.%-]*)((?:\+[A-Za-z0-9_.%-]+)*)\))?$/;
const COMPONENT_RE = /^[A-Za-z0-9_.-]+$/;

/**
 * Parses `os`, `arch` or `os/arch[/variant]` and normalises it: aliases (`x86_64`, `aarch64`,
 * `armhf`, `armel`, `i386`, `x86`) map to Go names, lowercase throughout, the default variants
 * are made canonical (`arm` is `arm/v7`, `arm64/v8` is `arm64`, `amd64/v1` is `amd64`). A lone
 * architecture runs on linux; a lone OS takes the host's architecture.
 */
export function parsePlatform(spec: string): Platform {
  const fail = (reason: string): never => {
    throw new InvalidPlatformError(spec, reason);
  };
  if (spec.includes('*')) fail('wildcards are not supported');
  const parts = spec.split('/');
  if (parts.length > 3) fail('it has more than three parts');
  const os = OS_RE.exec(parts[0]!) ?? fail(`"${parts[0]}" is not an operating system name (letters, digits, '_' or '-')`);
  for (const part of parts.slice(1)) {
    if (!COMPONENT_RE.test(part)) fail(`"${part}" is not a valid part (letters, digits, '_', '.' or '-')`);
  }
  const p: Platform = { os: os[1]!, architecture: '' };
  const version = decodeOption(os[2] ?? '', spec);
  if (version !== '') p['os.version'] = version;
  if (os[3]) p['os.features'] = os[3].slice(1).split('+').map((f) => decodeOption(f, spec));

  if (parts.length === 1) {
    if (KNOWN_OS.has(normalizeOS(p.os))) {
      const host = hostPlatform();
      p.architecture = host.architecture;
      if (host.variant !== undefined) p.variant = host.variant;
      return normalizePlatform(p);
    }
    const [arch, variant] = normalizeArch(parts[0]!, '');
    if (!KNOWN_ARCH.has(arch)) fail('it is neither a known operating system nor a known architecture');
    return normalizePlatform({ os: 'linux', architecture: arch, ...(variant ? { variant } : {}) });
  }
  p.architecture = parts[1]!;
  if (parts[2] !== undefined) p.variant = parts[2];
  return normalizePlatform(p);
}

/** `os[(version+features)]/arch[/variant]`, the form parsePlatform reads back. */
export function formatPlatform(p: Platform): string {
  if (p.os === '') return 'unknown';
  const features = [...(p['os.features'] ?? [])].sort();
  const options = encodeOption(p['os.version'] ?? '') + features.map((f) => `+${encodeOption(f)}`).join('');
  const os = options === '' ? p.os : `${p.os}(${options})`;
  return [os, p.architecture, p.variant ?? ''].filter((s) => s !== '').join('/');
}

/** The platform this process runs on, normalised. */
export function hostPlatform(): Platform {
  const os = NODE_OS[process.platform] ?? process.platform;
  let arch: string = NODE_ARCH[process.arch] ?? process.arch;
  if (arch === 'ppc64' && endianness() === 'LE') arch = 'ppc64le';
  let variant = '';
  if (arch === 'arm') {
    const armVersion = (process.config.variables as Record<string, unknown>)['arm_version'];
    if (armVersion !== undefined) variant = `v${String(armVersion)}`;
  }
  return normalizePlatform({ os, architecture: arch, ...(variant ? { variant } : {}) });
}

/**
 * Whether an index entry's platform (`have`) is the one asked for (`want`), as containerd's
 * strict matcher decides: equal after normalisation (so arm64 and arm64/v8 are one platform),
 * and every OS feature the entry needs is one `want` has.
 */
export function platformMatches(want: Platform, have: Platform): boolean {
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture || (w.variant ?? '') !== (h.variant ?? '')) return false;
  const offered = new Set(w['os.features'] ?? []);
  return (h['os.features'] ?? []).every((f) => offered.has(f));
}

/** A comma-separated `--platform` list; duplicates are dropped, order is kept. */
export function parsePlatforms(list: string): Platform[] {
  const out = new Map<string, Platform>();
  for (const item of list.split(',')) {
    const spec = item.trim();
    if (spec === '') continue;
    const p = parsePlatform(spec);
    out.set(formatPlatform(p), p);
  }
  if (out.size === 0) throw new InvalidPlatformError(list, 'no platform given');
  return [...out.values()];
}

function normalizePlatform(p: Platform): Platform {
  const [architecture, variant] = normalizeArch(p.architecture, p.variant ?? '');
  // Keys in the order of the OCI Go struct, so JSON written from this matches other tools'.
  const out: Platform = { architecture, os: normalizeOS(p.os) };
  if (p['os.version'] !== undefined && p['os.version'] !== '') out['os.version'] = p['os.version'];
  if (p['os.features'] !== undefined && p['os.features'].length > 0) {
    out['os.features'] = [...new Set(p['os.features'])].sort();
  }
  if (variant !== '') out.variant = variant;
  return out;
}

function normalizeOS(os: string): string {
  const lower = os.toLowerCase();
  return lower === 'macos' ? 'darwin' : lower;
}

function normalizeArch(rawArch: string, rawVariant: string): [string, string] {
  const arch = rawArch.toLowerCase();
  const variant = rawVariant.toLowerCase();
  switch (arch) {
    case 'i386':
    case 'x86':
      return ['386', ''];
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return ['amd64', variant === 'v1' ? '' : variant];
    case 'aarch64':
    case 'arm64':
      return ['arm64', variant === '8' || variant === 'v8' ? '' : variant];
    case 'armhf':
      return ['arm', 'v7'];
    case 'armel':
      return ['arm', 'v6'];
    case 'arm':
      if (variant === '' || variant === '7') return ['arm', 'v7'];
      if (variant === '5' || variant === '6' || variant === '8') return ['arm', `v${variant}`];
      return ['arm', variant];
    default:
      return [arch, variant];
  }
}

/** OS versions and features escape `%`, `+`, `(`, `)` and `/`, which the specifier syntax uses. */
function encodeOption(v: string): string {
  return v.replace(/[%+()/]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decodeOption(v: string, spec: string): string {
  if (!v.includes('%')) return v;
  try {
    return decodeURIComponent(v);
  } catch {
    throw new InvalidPlatformError(spec, `"${v}" has a bad percent escape`);
  }
}

const NODE_OS: Partial<Record<NodeJS.Platform, string>> = { win32: 'windows', sunos: 'solaris' };
const NODE_ARCH: Partial<Record<string, string>> = {
  x64: 'amd64',
  ia32: '386',
  mipsel: 'mipsle',
  mips64el: 'mips64le',
};
