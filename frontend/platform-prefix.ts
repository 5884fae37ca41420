// The platform part of step names in a multi-platform build, as BuildKit writes it: the stage's
// platform, then `->arch` when the step's TARGET* variables name another (a cross-compiling
// stage), so `[linux/amd64->arm64 build 3/4] RUN make` says which target that run is for.
import type { Platform } from '../oci/image-spec.js';
import { formatPlatform, parsePlatform } from '../oci/platform.js';
import { isUserError } from '../errors/kiln-error.js';

/** What the step's environment says the target is: TARGETPLATFORM whole, else TARGETOS/ARCH/VARIANT. */
function targetOf(stage: Platform, env: readonly (readonly [string, string])[]): Platform | undefined {
  const get = (k: string): string | undefined => {
    for (let i = env.length - 1; i >= 0; i--) if (env[i]![0] === k) return env[i]![1];
    return undefined;
  };
  const whole = get('TARGETPLATFORM');
  if (whole !== undefined) {
    try {
      return parsePlatform(whole);
    } catch (err) {
      if (!isUserError(err)) throw err;
    }
  }
  const [os, architecture, variant] = [get('TARGETOS'), get('TARGETARCH'), get('TARGETVARIANT')];
  if (os === undefined && architecture === undefined && variant === undefined) return undefined;
  const spec = `${os || stage.os}/${architecture || stage.architecture}${variant ? `/${variant}` : ''}`;
  try {
    return parsePlatform(spec);
  } catch (err) {
    if (!isUserError(err)) throw err;
    return undefined;
  }
}

/** `linux/amd64 `, `linux/amd64->arm64 ` or `linux/amd64->windows/amd64 ` (with the space that follows it). */
export function platformPrefix(stage: Platform, env: readonly (readonly [string, string])[] = []): string {
  const target = targetOf(stage, env);
  let arrow = '';
  if (target !== undefined) {
    if (target.os !== stage.os) arrow = `->${formatPlatform(target)}`;
    else if (target.architecture !== stage.architecture) arrow = `->${target.architecture}${target.variant ? `/${target.variant}` : ''}`;
  }
  return `${formatPlatform(stage)}${arrow} `;
}
