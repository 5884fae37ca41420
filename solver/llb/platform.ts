// The platform field of ops: OCI platform → pb.Platform (an op that names none gets the host's,
// oci/platform's hostPlatform, as BuildKit's default).
import type { Platform } from '../../oci/image-spec.js';
import type { PbPlatform } from './types.js';

export function toPbPlatform(p: Platform): PbPlatform {
  const out: PbPlatform = { architecture: p.architecture, os: p.os };
  if (p.variant) out.variant = p.variant;
  if (p['os.version']) out.osVersion = p['os.version'];
  if (p['os.features']?.length) out.osFeatures = [...p['os.features']];
  return out;
}

/** The OCI platform an op names; undefined when it names none. */
export function fromPbPlatform(p: PbPlatform | undefined): Platform | undefined {
  if (!p?.os || !p.architecture) return undefined;
  return {
    os: p.os,
    architecture: p.architecture,
    ...(p.variant ? { variant: p.variant } : {}),
    ...(p.osVersion ? { 'os.version': p.osVersion } : {}),
    ...(p.osFeatures?.length ? { 'os.features': [...p.osFeatures] } : {}),
  };
}
