// A Dockerfile and its context compiled to LLB, as `build` solves it and `kiln debug llb` prints
// it: the Dockerfile read (by path, or in the context), its .dockerignore, the build args.
import path from 'node:path';
import { readBuildInput } from '../frontend/build-input.js';
import { compileDockerfile, type CompileResult, type ImageResolver } from '../frontend/compile.js';
import { parseDockerfile } from '../frontend/dockerfile.js';
import { hostPlatform } from '../oci/platform.js';
import type { Platform } from '../oci/image-spec.js';
import type { Definition } from '../solver/llb/types.js';
import { marshalDefinition } from '../solver/llb/marshal.js';
import { definitionToJSON, type OpJSON } from '../solver/llb/json.js';

export interface CompileOptions {
  /** The build context folder (relative to `cwd`). */
  context: string;
  /** The Dockerfile (relative to `cwd`; default: the context's Dockerfile). */
  file?: string;
  /** Names the Dockerfile in messages instead of its path (a Dockerfile read from stdin). */
  fileName?: string;
  cwd?: string;
  target?: string;
  buildArgs?: Map<string, string>;
  /** The platform built for (default: this machine's). */
  platform?: Platform;
  noCache?: boolean;
  /** How FROM images are found; without one they are named, unpinned, with empty configs. */
  resolveImage?: ImageResolver;
  /** One of several platforms built at once: step names carry the platform. */
  prefixPlatform?: boolean;
}

export interface CompiledBuild extends CompileResult {
  contextDir: string;
}

export async function compileBuild(opts: CompileOptions): Promise<CompiledBuild> {
  const input = await readBuildInput(opts.context, opts.file, opts.cwd ?? process.cwd());
  if (opts.fileName !== undefined) input.displayName = opts.fileName;
  const result = await compileDockerfile(parseDockerfile(input.text, input.displayName), {
    file: input.displayName,
    text: input.text,
    ...(opts.target !== undefined ? { target: opts.target } : {}),
    buildArgs: opts.buildArgs ?? new Map(),
    targetPlatform: opts.platform ?? hostPlatform(),
    buildPlatform: hostPlatform(),
    ignorePatterns: input.ignorePatterns,
    ...(opts.resolveImage ? { resolveImage: opts.resolveImage } : {}),
    noCache: opts.noCache ?? false,
    ...(opts.prefixPlatform ? { prefixPlatform: true } : {}),
  });
  return { ...result, contextDir: path.resolve(input.contextDir) };
}

/** A Definition as the binary pb.Definition `buildctl build` reads on stdin. */
export function definitionBytes(def: Definition): Uint8Array {
  return marshalDefinition(def);
}

/** A Definition as JSON for people: each op decoded, with its digest. */
export function definitionJson(def: Definition): OpJSON[] {
  return definitionToJSON(def);
}
