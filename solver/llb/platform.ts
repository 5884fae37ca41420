// The platform field of ops: OCI platform → pb.Platform, and the default BuildKit uses when an
// op names none (the host's, normalised as containerd's platforms.Normalize does).
import os from 'node:os';
import type { Platform } from '../../snapshotter/oci.js';
import type { PbPlatform } from './types.js';

const GOARCH: Record<string, string> = {
  x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', s390x: 's390x', riscv64: 'riscv64',
  loong64: 'loong64', mips: 'mips', mipsel: 'mipsle', ppc64: os.endianness() === 'LE' ? 'ppc64le' : 'ppc64',
};

export function hostPlatform(): Platform {
  const architecture = GOARCH[process.arch] ?? process.arch;
  // Normalize drops the default variants of amd64 (v1) and arm64 (v8) and assumes v7 for arm.
  return architecture === 'arm' ? { architecture, os: 'linux', variant: 'v7' } : { architecture, os: 'linux' };
}

export function toPbPlatform(p: Platform): PbPlatform {
  const out: PbPlatform = { architecture: p.architecture, os: p.os };
  if (p.variant) out.variant = p.variant;
  if (p['os.version']) out.osVersion = p['os.version'];
  if (p['os.features']?.length) out.osFeatures = [...p['os.features']];
  return out;
}
