// Which platforms this machine runs programs of: natively, or through a binfmt_misc handler (QEMU
// user emulation) the kernel has registered; and the one command that registers a missing one.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Platform } from '../oci/image-spec.js';
import { formatPlatform, hostPlatform } from '../oci/platform.js';
import { EmulatorMissingError } from './errors.js';

export const BINFMT_MOUNT = '/proc/sys/fs/binfmt_misc';

/** How an architecture's ELF executables start: what a binfmt_misc magic is matched against. */
export interface ElfArch {
  /** QEMU's name for it (qemu-<name>-static, Debian's /usr/share/binfmts/qemu-<name>). */
  qemu: string;
  elfClass: 1 | 2;
  bigEndian: boolean;
  machine: number;
}

/**
 * The architectures kiln emulates, by their OCI names (tonistiigi/binfmt's set). Held here rather
 * than read from Debian's binfmts files: detection must work whoever registered the handler (a
 * `docker run tonistiigi/binfmt`, binfmt-support) and when qemu-user-static is not installed.
 */
export const ELF_ARCHES: Readonly<Record<string, ElfArch>> = {
  amd64: { qemu: 'x86_64', elfClass: 2, bigEndian: false, machine: 0x3e },
  arm64: { qemu: 'aarch64', elfClass: 2, bigEndian: false, machine: 0xb7 },
  arm: { qemu: 'arm', elfClass: 1, bigEndian: false, machine: 0x28 },
  '386': { qemu: 'i386', elfClass: 1, bigEndian: false, machine: 0x03 },
  ppc64le: { qemu: 'ppc64le', elfClass: 2, bigEndian: false, machine: 0x15 },
  s390x: { qemu: 's390x', elfClass: 2, bigEndian: true, machine: 0x16 },
  riscv64: { qemu: 'riscv64', elfClass: 2, bigEndian: false, machine: 0xf3 },
  mips64le: { qemu: 'mips64el', elfClass: 2, bigEndian: false, machine: 0x08 },
  mips64: { qemu: 'mips64', elfClass: 2, bigEndian: true, machine: 0x08 },
  loong64: { qemu: 'loongarch64', elfClass: 2, bigEndian: false, machine: 0x102 },
};

/** One registered handler, as /proc/sys/fs/binfmt_misc/NAME describes it. */
export interface BinfmtEntry {
  name: string;
  enabled: boolean;
  interpreter: string;
  flags: string;
  offset: number;
  /** Absent for extension (`E`) entries, which never match an ELF header. */
  magic?: Buffer;
  mask?: Buffer;
}

/** Reads an entry file's text (`enabled`, `interpreter …`, `flags: …`, `offset …`, `magic …`, `mask …`). */
export function parseBinfmtEntry(name: string, text: string): BinfmtEntry {
  const entry: BinfmtEntry = { name, enabled: false, interpreter: '', flags: '', offset: 0 };
  for (const line of text.split('\n')) {
    const [key, ...rest] = line.trim().split(/\s+/);
    const value = rest.join(' ');
    if (key === 'enabled') entry.enabled = true;
    else if (key === 'interpreter') entry.interpreter = value;
    else if (key === 'flags:') entry.flags = value;
    else if (key === 'offset') entry.offset = Number(value);
    else if (key === 'magic') entry.magic = Buffer.from(value, 'hex');
    else if (key === 'mask') entry.mask = Buffer.from(value, 'hex');
  }
  return entry;
}

/** The first bytes of an executable ELF file of `arch` (e_ident, e_type = ET_EXEC, e_machine). */
export function elfHeader(arch: ElfArch): Buffer {
  const b = Buffer.alloc(20);
  b.set([0x7f, 0x45, 0x4c, 0x46, arch.elfClass, arch.bigEndian ? 2 : 1, 1]);
  if (arch.bigEndian) {
    b.writeUInt16BE(2, 16);
    b.writeUInt16BE(arch.machine, 18);
  } else {
    b.writeUInt16LE(2, 16);
    b.writeUInt16LE(arch.machine, 18);
  }
  return b;
}

/** Whether the kernel would hand `header` to this entry's interpreter (its magic test, masked). */
export function entryMatches(entry: BinfmtEntry, header: Buffer): boolean {
  const { magic, mask } = entry;
  if (!magic || entry.offset + magic.length > header.length) return false;
  return magic.every((m, i) => ((header[entry.offset + i]! ^ m) & (mask?.[i] ?? 0xff)) === 0);
}

/** Every registered handler; none when binfmt_misc is not mounted. */
export async function readBinfmtEntries(mount = BINFMT_MOUNT): Promise<BinfmtEntry[]> {
  const names = await readdir(mount).catch(() => [] as string[]);
  const entries: BinfmtEntry[] = [];
  for (const name of names.filter((n) => n !== 'register' && n !== 'status').sort()) {
    const text = await readFile(path.join(mount, name), 'utf8').catch(() => undefined);
    if (text !== undefined) entries.push(parseBinfmtEntry(name, text));
  }
  return entries;
}

/** The architectures this host executes without an emulator: its own, and 386 on amd64 (IA-32 compatibility). */
export function runsNatively(p: Platform, host: Platform = hostPlatform()): boolean {
  if (p.os !== host.os) return false;
  if (p.architecture === host.architecture) return true;
  return host.architecture === 'amd64' && p.architecture === '386';
}

export type RunSupport =
  | { how: 'native' }
  | { how: 'emulated'; entry: BinfmtEntry }
  /** `fix`: the architecture name `kiln setup binfmt --install` takes; absent when nothing kiln knows runs it. */
  | { how: 'unsupported'; reason: string; fix?: string };

/**
 * How programs of `p` run here. A handler counts only when it is enabled and has the F flag: the
 * kernel then opened its interpreter when it was registered, so it runs inside a container whose
 * rootfs has no /usr/bin/qemu-*; without F the interpreter is looked up in the container and fails.
 */
export async function canRun(p: Platform, mount = BINFMT_MOUNT, host: Platform = hostPlatform()): Promise<RunSupport> {
  if (runsNatively(p, host)) return { how: 'native' };
  if (p.os !== 'linux' || host.os !== 'linux') return { how: 'unsupported', reason: `kiln runs linux programs on linux only` };
  const arch = ELF_ARCHES[p.architecture];
  if (!arch) return { how: 'unsupported', reason: `kiln knows no emulator for ${p.architecture}` };
  const matching = (await readBinfmtEntries(mount)).filter((e) => entryMatches(e, elfHeader(arch)));
  const usable = matching.find((e) => e.enabled && e.flags.includes('F'));
  if (usable) return { how: 'emulated', entry: usable };
  const reason =
    matching.length === 0
      ? `no binfmt_misc handler is registered for ${p.architecture}`
      : matching.some((e) => e.enabled)
        ? `the binfmt_misc handler ${matching[0]!.name} lacks the F (fix-binary) flag, so containers cannot reach its interpreter`
        : `the binfmt_misc handler ${matching[0]!.name} is disabled`;
  return { how: 'unsupported', reason, fix: p.architecture };
}

/**
 * Fails when any of `platforms` cannot run here, naming all of them in one message with the one
 * command that registers their emulators.
 */
export async function assertCanRun(platforms: Platform[], mount = BINFMT_MOUNT, host: Platform = hostPlatform()): Promise<void> {
  const problems: { platform: string; reason: string; fix?: string }[] = [];
  const seen = new Set<string>();
  for (const p of platforms) {
    const name = formatPlatform(p);
    if (seen.has(name)) continue;
    seen.add(name);
    const support = await canRun(p, mount, host);
    if (support.how === 'unsupported') problems.push({ platform: name, reason: support.reason, ...(support.fix ? { fix: support.fix } : {}) });
  }
  if (problems.length > 0) throw new EmulatorMissingError(formatPlatform(host), problems);
}
