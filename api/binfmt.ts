// `kiln setup binfmt` as a library call: registers (or removes) QEMU's binfmt_misc handlers for the
// platforms asked, mounting binfmt_misc first, and reports what this machine runs afterwards.
import type { Platform } from '../oci/image-spec.js';
import { BINFMT_MOUNT } from '../runner/binfmt.js';
import {
  DEBIAN_BINFMTS,
  binfmtStatus,
  ensureMounted,
  installEmulator,
  installableArches,
  uninstallEmulator,
  type BinfmtStatus,
  type InstallResult,
} from '../runner/binfmt-register.js';

export { canRun, assertCanRun, type RunSupport } from '../runner/binfmt.js';
export type { BinfmtStatus, InstallResult } from '../runner/binfmt-register.js';

export interface SetupBinfmtOptions {
  /** Platforms whose emulators to register, or every one Debian's qemu-user-static ships. */
  install?: Platform[] | 'all';
  uninstall?: Platform[];
  /** Where binfmt_misc is (tests); default /proc/sys/fs/binfmt_misc. */
  mount?: string;
  /** Where Debian's format files are (tests); default /usr/share/binfmts. */
  formats?: string;
}

export interface SetupBinfmtResult {
  uninstalled: { arch: string; handlers: string[] }[];
  installed: InstallResult[];
  status: BinfmtStatus;
}

export async function setupBinfmt(opts: SetupBinfmtOptions = {}): Promise<SetupBinfmtResult> {
  const mount = opts.mount ?? BINFMT_MOUNT;
  const formats = opts.formats ?? DEBIAN_BINFMTS;
  await ensureMounted(mount);
  const uninstalled: SetupBinfmtResult['uninstalled'] = [];
  for (const arch of archesOf(opts.uninstall ?? [])) uninstalled.push({ arch, handlers: await uninstallEmulator(arch, mount) });
  const arches = opts.install === 'all' ? await installableArches(formats) : archesOf(opts.install ?? []);
  const installed: InstallResult[] = [];
  for (const arch of arches) installed.push(await installEmulator(arch, mount, formats));
  return { uninstalled, installed, status: await binfmtStatus(mount) };
}

/** One handler serves an architecture's every variant (arm/v6 and arm/v7 alike). */
function archesOf(platforms: Platform[]): string[] {
  return [...new Set(platforms.map((p) => p.architecture))];
}
