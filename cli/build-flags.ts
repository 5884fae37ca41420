// The build flags `kiln build` and `kiln debug llb` share, with docker's names.
import type { ParseArgsConfig } from 'node:util';
import type { Platform } from '../snapshotter/oci.js';
import { hostPlatform, parsePlatforms } from '../registry/platform.js';
import { parseBuildArgs } from '../frontend/buildargs.js';
import { UsageError } from './errors.js';
import type { BuildInput } from '../frontend/build-input.js';
import { compileDockerfile, type CompileResult, type ImageResolver } from '../frontend/compile.js';
import { parseDockerfile } from '../frontend/dockerfile.js';

export const buildFlagOptions = {
  file: { type: 'string', short: 'f' },
  target: { type: 'string' },
  'build-arg': { type: 'string', multiple: true },
  platform: { type: 'string' },
  'no-cache': { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

export interface BuildFlags {
  context: string;
  file?: string;
  target?: string;
  buildArgs: Map<string, string>;
  platforms: Platform[];
  noCache: boolean;
}

export function readBuildFlags(values: { file?: string; target?: string; 'build-arg'?: string[]; platform?: string; 'no-cache'?: boolean }, positionals: string[], env: NodeJS.ProcessEnv, usage: string): BuildFlags {
  if (positionals.length !== 1) throw new UsageError(`expected exactly one build context (a folder, e.g. '.'), got ${positionals.length}`, usage);
  return {
    context: positionals[0]!,
    ...(values.file !== undefined ? { file: values.file } : {}),
    ...(values.target !== undefined ? { target: values.target } : {}),
    buildArgs: parseBuildArgs(values['build-arg'] ?? [], env),
    platforms: values.platform ? parsePlatforms(values.platform) : [hostPlatform()],
    noCache: values['no-cache'] ?? false,
  };
}

/** Parses and compiles the build's Dockerfile with its flags: what `build` and `debug llb` share. */
export async function compileBuild(input: BuildInput, flags: BuildFlags, resolveImage?: ImageResolver): Promise<CompileResult> {
  return compileDockerfile(parseDockerfile(input.text, input.displayName), {
    file: input.displayName,
    text: input.text,
    ...(flags.target !== undefined ? { target: flags.target } : {}),
    buildArgs: flags.buildArgs,
    targetPlatform: flags.platforms[0]!,
    buildPlatform: hostPlatform(),
    ignorePatterns: input.ignorePatterns,
    ...(resolveImage ? { resolveImage } : {}),
    noCache: flags.noCache,
  });
}
