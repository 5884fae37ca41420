// `kiln build --output` values in buildx's syntax (CSV `key=value` fields, `-o DIR`, `-o -`) parsed
// into the exporter's typed outputs; parsing only, so it is tested on plain strings.
import path from 'node:path';
import { OutputSpecError } from './errors.js';
import { isUserError } from '../errors/kiln-error.js';
import { CsvSyntaxError, splitCsvRecord } from '../frontend/csv.js';
import { parseReference } from '../oci/reference.js';

import type { CompressionSpec, LayerCompression, OutputSpec } from '../exporter/build-output.js';

export type { OutputSpec };

export type OutputType = OutputSpec['type'];

/** buildx's layer keys, taken by the outputs that write image layers. */
const COMPRESSION_KEYS = ['compression', 'compression-level', 'force-compression', 'oci-mediatypes'] as const;

/** The keys each type takes; anything else (annotation=, oci-artifact=, …) is refused, not ignored. */
const KEYS: Record<OutputType, readonly string[]> = {
  image: ['type', 'name', 'push', 'push-by-digest', ...COMPRESSION_KEYS],
  oci: ['type', 'dest', 'name', ...COMPRESSION_KEYS],
  docker: ['type', 'dest', 'name', ...COMPRESSION_KEYS],
  local: ['type', 'dest'],
  tar: ['type', 'dest'],
  cacheonly: ['type'],
};

function parseFields(spec: string): Map<string, string> {
  let fields: string[];
  try {
    fields = splitCsvRecord(spec);
  } catch (err) {
    if (!(err instanceof CsvSyntaxError)) throw err;
    throw new OutputSpecError(spec, `${err.reason}; quote a field holding commas whole, e.g. "name=a,b"`);
  }
  const attrs = new Map<string, string>();
  for (const field of fields) {
    const eq = field.indexOf('=');
    if (eq <= 0) throw new OutputSpecError(spec, `'${field}' is not KEY=VALUE`);
    const key = field.slice(0, eq).trim().toLowerCase();
    if (attrs.has(key)) throw new OutputSpecError(spec, `${key} is given twice`);
    attrs.set(key, field.slice(eq + 1));
  }
  return attrs;
}

function isOutputType(t: string): t is OutputType {
  return Object.hasOwn(KEYS, t);
}

function parseBool(spec: string, key: string, value: string): boolean {
  if (/^(true|1)$/i.test(value)) return true;
  if (/^(false|0)$/i.test(value)) return false;
  throw new OutputSpecError(spec, `${key}=${value}: expected true or false`);
}

/** The levels each codec takes (the layer engine's ranges); uncompressed ignores a level, as BuildKit does. */
const LEVELS: Record<LayerCompression, readonly [number, number] | undefined> = {
  gzip: [0, 9],
  zstd: [1, 22],
  uncompressed: undefined,
};

function isLayerCompression(c: string): c is LayerCompression {
  return Object.hasOwn(LEVELS, c);
}

/** The compression keys of an output, or undefined when it names none (the image goes as built). */
function parseCompression(spec: string, attrs: Map<string, string>): CompressionSpec | undefined {
  if (!COMPRESSION_KEYS.some((k) => attrs.has(k))) return undefined;
  const compression = attrs.get('compression') ?? 'gzip';
  if (!isLayerCompression(compression)) {
    const hint = compression === 'estargz' ? 'kiln does not write estargz layers; ' : '';
    throw new OutputSpecError(spec, `compression=${compression}: ${hint}use gzip, zstd or uncompressed`);
  }
  const out: CompressionSpec = { compression, force: false, ociMediaTypes: true };
  const level = attrs.get('compression-level');
  if (level !== undefined) {
    if (!/^-?\d+$/.test(level.trim())) throw new OutputSpecError(spec, `compression-level=${level}: expected a whole number`);
    const range = LEVELS[compression];
    const n = Number(level);
    if (range !== undefined) {
      if (n < range[0] || n > range[1]) throw new OutputSpecError(spec, `compression-level=${level}: ${compression} takes ${range[0]} to ${range[1]}`);
      out.level = n;
    }
  }
  const force = attrs.get('force-compression');
  // buildx: a bare force-compression= means true.
  if (force !== undefined) out.force = force === '' || parseBool(spec, 'force-compression', force);
  const oci = attrs.get('oci-mediatypes');
  if (oci !== undefined) out.ociMediaTypes = parseBool(spec, 'oci-mediatypes', oci);
  return out;
}

export interface OutputContext {
  /** The -t names: image and archive outputs without `name=` take these. */
  tags: readonly string[];
  /** Relative dests are taken from here. */
  cwd: string;
  /** A name to its full reference; throws on an invalid one. */
  normalize: (name: string) => string;
}

/** One `--output` value; dests come back absolute, except '-' (stdout). */
export function parseOutputSpec(spec: string, ctx: OutputContext): OutputSpec {
  const at = (dest: string): string => (dest === '-' ? dest : path.resolve(ctx.cwd, dest));
  // buildx: a value without '=' is a directory for the local exporter, '-' a tar on stdout.
  if (!spec.includes('=')) {
    if (spec === '') throw new OutputSpecError("''", 'empty; use type=TYPE[,dest=PATH] or a directory');
    return spec === '-' ? { type: 'tar', dest: '-' } : { type: 'local', dest: at(spec) };
  }
  const attrs = parseFields(spec);
  const type = attrs.get('type');
  if (type === undefined) throw new OutputSpecError(spec, 'no type=; use type=image, oci, docker, local, tar or cacheonly');
  // buildx's type=registry is type=image,push=true.
  if (type === 'registry') return parseOutputSpec(`${spec},push=true`.replace(/(^|,)type=registry(?=,|$)/, '$1type=image'), ctx);
  if (!isOutputType(type)) throw new OutputSpecError(spec, `unknown type '${type}'; use image, oci, docker, local, tar or cacheonly`);
  for (const key of attrs.keys()) {
    if (!KEYS[type].includes(key)) throw new OutputSpecError(spec, `kiln does not support ${key}= for type=${type} (it takes ${KEYS[type].filter((k) => k !== 'type').join(', ') || 'no other keys'})`);
  }
  const nameAttr = attrs.get('name');
  const names = nameAttr === undefined ? ctx.tags.map(ctx.normalize) : nameAttr.split(',').map((n) => n.trim()).filter((n) => n !== '').map((n) => {
    try {
      return ctx.normalize(n);
    } catch (err) {
      if (!isUserError(err)) throw err;
      throw new OutputSpecError(spec, err.message);
    }
  });
  const compression = parseCompression(spec, attrs);
  const layers = compression !== undefined ? { compression } : {};
  if (type === 'image') {
    const push = attrs.get('push');
    const pushing = push !== undefined && parseBool(spec, 'push', push);
    const byDigest = attrs.get('push-by-digest');
    if (byDigest !== undefined && parseBool(spec, 'push-by-digest', byDigest)) {
      // BuildKit ignores push-by-digest without push; a build that pushes nothing is refused here.
      if (!pushing) throw new OutputSpecError(spec, 'push-by-digest=true pushes only with push=true; add push=true or use type=registry');
      if (compression !== undefined) throw new OutputSpecError(spec, 'push-by-digest=true pushes the image as built: the compression keys are not taken with it yet; drop them');
      return { type, names: repositories(spec, nameAttr ?? ctx.tags.join(',')), push: true, pushByDigest: true };
    }
    if (pushing) {
      if (names.length === 0) throw new OutputSpecError(spec, 'push=true needs a name to push to; add name=REGISTRY/REPO:TAG or -t');
      return { type, names, push: true, ...layers };
    }
    return { type, names, ...layers };
  }
  if (type === 'cacheonly') return { type };
  const dest = attrs.get('dest');
  if (dest === undefined || dest === '') {
    const example = type === 'local' ? 'dest=DIR' : 'dest=FILE.tar (or dest=- for stdout)';
    throw new OutputSpecError(spec, `type=${type} needs ${example}`);
  }
  if (type === 'local') {
    if (dest === '-') throw new OutputSpecError(spec, 'type=local writes a directory, not stdout; use type=tar,dest=- for a tar on stdout');
    return { type, dest: at(dest) };
  }
  if (type === 'tar') return { type, dest: at(dest) };
  return { type, dest: at(dest), names, ...layers };
}

/** push-by-digest's names: repositories without a tag, normalised (`localhost:5000/app`, `docker.io/library/app`). */
function repositories(spec: string, list: string): string[] {
  const names = list.split(',').map((n) => n.trim()).filter((n) => n !== '');
  if (names.length === 0) throw new OutputSpecError(spec, 'push-by-digest=true needs a repository to push to; add name=REGISTRY/REPO');
  return names.map((n) => {
    // As BuildKit: a tag would name the manifest, which pushing by digest leaves untagged.
    if (n.includes('@') || n.slice(n.lastIndexOf('/') + 1).includes(':')) throw new OutputSpecError(spec, `cannot push the tagged name ${n} by digest; give the repository alone (name=REGISTRY/REPO)`);
    try {
      const r = parseReference(n);
      return `${r.domain}/${r.path}`;
    } catch (err) {
      if (!isUserError(err)) throw err;
      throw new OutputSpecError(spec, err.message);
    }
  });
}

/**
 * Every `--output` of a build; none means an image in the store under the -t names (buildx's
 * default with the docker driver). BuildKit ≥ 0.13 (and buildx with it) takes several outputs,
 * so kiln does too, as long as no two write the same place.
 */
export function parseOutputSpecs(specs: readonly string[], ctx: OutputContext): OutputSpec[] {
  if (specs.length === 0) return [{ type: 'image', names: ctx.tags.map(ctx.normalize) }];
  const outputs = specs.map((s) => parseOutputSpec(s, ctx));
  const seen = new Map<string, string>();
  for (const [i, out] of outputs.entries()) {
    if (!('dest' in out)) continue;
    const prior = seen.get(out.dest);
    if (prior !== undefined) {
      const what = out.dest === '-' ? 'stdout' : out.dest;
      throw new OutputSpecError(specs[i]!, `${what} is also the destination of --output ${prior}; give each output its own dest`);
    }
    seen.set(out.dest, specs[i]!);
  }
  return outputs;
}

/** The names the build pushes under their tags (its image outputs' with push=true). */
export function pushNames(outputs: readonly OutputSpec[]): string[] {
  return [...new Set(outputs.flatMap((o) => (o.type === 'image' && o.push && !o.pushByDigest ? o.names : [])))];
}

/** The repositories the build pushes its manifest to by digest (push-by-digest=true). */
export function digestPushNames(outputs: readonly OutputSpec[]): string[] {
  return [...new Set(outputs.flatMap((o) => (o.type === 'image' && o.pushByDigest ? o.names : [])))];
}

/**
 * The names the build records in the local store as built: its image outputs', but repositories
 * pushed by digest and outputs that convert the layers (those record the converted image).
 */
export function storeNames(outputs: readonly OutputSpec[]): string[] {
  return [...new Set(outputs.flatMap((o) => (o.type === 'image' && !o.pushByDigest && o.compression === undefined ? o.names : [])))];
}

/** Every name the build's image goes by, in the store or in an archive (metadata's image.name). */
export function outputNames(outputs: readonly OutputSpec[]): string[] {
  return [...new Set(outputs.flatMap((o) => ('names' in o ? o.names : [])))];
}
