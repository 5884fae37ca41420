// The image config a stage builds up: starting points and the history entries Docker writes.
import type { ImageConfig, Platform } from '../oci/image-spec.js';

/** The PATH BuildKit gives Linux images that do not set one (scratch included). */
export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function emptyConfig(platform: Platform): ImageConfig {
  const cfg: ImageConfig = {
    architecture: platform.architecture,
    os: platform.os,
    config: {},
    rootfs: { type: 'layers', diff_ids: [] },
    history: [],
  };
  if (platform.variant) cfg.variant = platform.variant;
  return cfg;
}

/** BuildKit's config for `FROM scratch`: the root as working directory and, on Linux, the default PATH. */
export function scratchConfig(platform: Platform): ImageConfig {
  const cfg = withDefaultPath(emptyConfig(platform));
  cfg.config.WorkingDir = '/';
  return cfg;
}

/** A deep copy, so a stage built on another stage never changes its parent's config. */
export function cloneConfig(cfg: ImageConfig): ImageConfig {
  return structuredClone(cfg);
}

/** Ensures PATH is set, as BuildKit does for every Linux stage. */
export function withDefaultPath(cfg: ImageConfig): ImageConfig {
  const env = cfg.config.Env ?? [];
  if (cfg.os === 'linux' && !env.some((e) => e.startsWith('PATH='))) cfg.config.Env = [...env, DEFAULT_PATH];
  return cfg;
}

export function getEnv(cfg: ImageConfig, key: string): string | undefined {
  for (const e of cfg.config.Env ?? []) {
    const eq = e.indexOf('=');
    if ((eq < 0 ? e : e.slice(0, eq)) === key) return eq < 0 ? '' : e.slice(eq + 1);
  }
  return undefined;
}

/** Sets or replaces one variable, keeping the position of an existing one (Docker's order). */
export function setEnv(cfg: ImageConfig, key: string, value: string): void {
  const env = cfg.config.Env ?? [];
  const i = env.findIndex((e) => e === key || e.startsWith(key + '='));
  if (i >= 0) env[i] = `${key}=${value}`;
  else env.push(`${key}=${value}`);
  cfg.config.Env = env;
}

export function addHistory(cfg: ImageConfig, createdBy: string, emptyLayer: boolean): void {
  (cfg.history ??= []).push(emptyLayer ? { created_by: createdBy, comment: 'buildkit.dockerfile.v0', empty_layer: true } : { created_by: createdBy, comment: 'buildkit.dockerfile.v0' });
}
