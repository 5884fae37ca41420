// Registering and removing QEMU's binfmt_misc handlers (`kiln setup binfmt`), from the formats
// Debian's qemu-user-static ships in /usr/share/binfmts (update-binfmts' format): its magic, mask
// and interpreter paths are the installed package's own, so nothing here can drift from them.
import { execFile } from 'node:child_process';
import { access, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Platform } from '../oci/image-spec.js';
import { formatPlatform, hostPlatform } from '../oci/platform.js';
import { BINFMT_MOUNT, ELF_ARCHES, canRun, type ElfArch, elfHeader, entryMatches, readBinfmtEntries, runsNatively } from './binfmt.js';
import { BinfmtSetupError, QemuMissingError } from './errors.js';

export const DEBIAN_BINFMTS = '/usr/share/binfmts';

/** One update-binfmts format file, as the kernel's register line needs it. */
export interface BinfmtFormat {
  name: string;
  interpreter: string;
  offset: number;
  magic: Buffer;
  mask?: Buffer;
  /** Kernel flags: P (preserve argv0), C (credentials), and always F (fix-binary). */
  flags: string;
}

/** Decodes update-binfmts' magic/mask syntax: `\xNN` escapes between literal characters. */
export function decodeBinfmtBytes(text: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && text[i + 1] === 'x') {
      out.push(parseInt(text.slice(i + 2, i + 4), 16));
      i += 3;
    } else if (text[i] === '\\' && text[i + 1] === '\\') {
      out.push(0x5c);
      i += 1;
    } else out.push(text.charCodeAt(i));
  }
  return Buffer.from(out);
}

/** Reads a Debian format file (`package`, `interpreter`, `magic`, `offset`, `mask`, `credentials`, `fix_binary`, `preserve`). */
export function parseDebianFormat(name: string, text: string): BinfmtFormat {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (m) fields.set(m[1]!, m[2]!);
  }
  const interpreter = fields.get('interpreter');
  const magic = fields.get('magic');
  if (!interpreter || !magic) throw new BinfmtSetupError(`${path.join(DEBIAN_BINFMTS, name)} names no interpreter or magic`, 'reinstall it with `apt-get install --reinstall qemu-user-static`');
  const mask = fields.get('mask');
  const flags = `${fields.get('preserve') === 'yes' ? 'P' : ''}${fields.get('credentials') === 'yes' ? 'C' : ''}F`;
  return { name, interpreter, offset: Number(fields.get('offset') ?? 0), magic: decodeBinfmtBytes(magic), ...(mask ? { mask: decodeBinfmtBytes(mask) } : {}), flags };
}

/** The kernel's register line, every byte escaped so a ':' in the magic cannot end a field. */
export function registerLine(f: BinfmtFormat): string {
  const hex = (b: Buffer): string => [...b].map((x) => `\\x${x.toString(16).padStart(2, '0')}`).join('');
  return `:${f.name}:M:${f.offset}:${hex(f.magic)}:${f.mask ? hex(f.mask) : ''}:${f.interpreter}:${f.flags}`;
}

/** Debian's format for an architecture, its interpreter checked to exist. */
export async function debianFormat(arch: string, dir = DEBIAN_BINFMTS): Promise<BinfmtFormat> {
  const elf = knownArch(arch);
  const file = path.join(dir, `qemu-${elf.qemu}`);
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) throw new QemuMissingError(arch, file);
  const format = parseDebianFormat(`qemu-${elf.qemu}`, text);
  // A dangling interpreter link would register fine and fail every exec later.
  if (!(await realpath(format.interpreter).then((p) => stat(p)).then((s) => s.isFile(), () => false))) throw new QemuMissingError(arch, format.interpreter);
  return format;
}

/** Mounts binfmt_misc where the kernel exposes it, unless it is mounted already. */
export async function ensureMounted(mount = BINFMT_MOUNT): Promise<void> {
  if (await access(path.join(mount, 'register')).then(() => true, () => false)) return;
  try {
    await promisify(execFile)('mount', ['-t', 'binfmt_misc', 'binfmt_misc', mount]);
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
    throw new BinfmtSetupError(`cannot mount binfmt_misc on ${mount}: ${stderr || (err as Error).message}`, 'run `kiln setup binfmt` as root', err);
  }
}

export type InstallResult = { arch: string; status: 'installed' | 'native' | 'present'; handler?: string };

/** Registers Debian's handler for `arch` unless it runs natively or a usable handler is there. */
export async function installEmulator(arch: string, mount = BINFMT_MOUNT, dir = DEBIAN_BINFMTS): Promise<InstallResult> {
  const p: Platform = { os: 'linux', architecture: arch };
  if (runsNatively(p)) return { arch, status: 'native' };
  const format = await debianFormat(arch, dir);
  const now = await canRun(p, mount);
  if (now.how === 'emulated') return { arch, status: 'present', handler: now.entry.name };
  // An entry of that name without F, or disabled, is replaced: the kernel refuses a second one.
  if ((await readBinfmtEntries(mount)).some((e) => e.name === format.name)) await writeEntry(mount, format.name, '-1');
  await writeEntry(mount, 'register', registerLine(format));
  return { arch, status: 'installed', handler: format.name };
}

/** Removes every handler that would run `arch`'s programs; the names removed. */
export async function uninstallEmulator(arch: string, mount = BINFMT_MOUNT): Promise<string[]> {
  const elf = knownArch(arch);
  const names = (await readBinfmtEntries(mount)).filter((e) => entryMatches(e, elfHeader(elf))).map((e) => e.name);
  for (const name of names) await writeEntry(mount, name, '-1');
  return names;
}

/** The architectures `--install all` means: each one Debian's package ships a format for, but the host's own. */
export async function installableArches(dir = DEBIAN_BINFMTS): Promise<string[]> {
  const out: string[] = [];
  for (const [arch, elf] of Object.entries(ELF_ARCHES)) {
    if (runsNatively({ os: 'linux', architecture: arch })) continue;
    if (await access(path.join(dir, `qemu-${elf.qemu}`)).then(() => true, () => false)) out.push(arch);
  }
  return out;
}

export interface BinfmtStatus {
  /** Platforms this machine runs, natively or emulated (tonistiigi/binfmt's `supported`). */
  supported: string[];
  /** The enabled handlers' names (its `emulators`). */
  emulators: string[];
}

export async function binfmtStatus(mount = BINFMT_MOUNT): Promise<BinfmtStatus> {
  const host = hostPlatform();
  const supported = [formatPlatform(host)];
  for (const arch of Object.keys(ELF_ARCHES)) {
    if (arch === host.architecture) continue;
    if ((await canRun({ os: 'linux', architecture: arch }, mount, host)).how !== 'unsupported') supported.push(`linux/${arch}`);
  }
  const emulators = (await readBinfmtEntries(mount)).filter((e) => e.enabled).map((e) => e.name);
  return { supported, emulators };
}

function knownArch(arch: string): ElfArch {
  const elf = ELF_ARCHES[arch];
  if (!elf) throw new BinfmtSetupError(`kiln knows no QEMU emulator for ${arch}`, `use one of ${Object.keys(ELF_ARCHES).join(', ')}`);
  return elf;
}

async function writeEntry(mount: string, name: string, line: string): Promise<void> {
  try {
    await writeFile(path.join(mount, name), line);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint = code === 'EACCES' || code === 'EPERM' ? 'run `kiln setup binfmt` as root' : undefined;
    throw new BinfmtSetupError(`cannot write ${path.join(mount, name)}: ${(err as Error).message}`, hint, err);
  }
}
