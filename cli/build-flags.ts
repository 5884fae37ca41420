// The build flags `kiln build` and `kiln debug llb` share, with docker's names.
import type { ParseArgsConfig } from 'node:util';
import { hostPlatform, parseBuildArgs, parsePlatforms, type Platform } from '../api/index.js';
import { UsageError } from './errors.js';

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
