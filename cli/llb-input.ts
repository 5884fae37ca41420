// `kiln build --llb FILE.pb`: a Definition read from a file or stdin (as `kiln debug llb --format pb`
// prints it), the image config given beside it, and the base images any Definition names.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CliIO } from './command.js';
import { UsageError } from './errors.js';
import { LlbDecodeError } from '../solver/llb/errors.js';
import { unmarshalDefinition, unmarshalOp } from '../solver/llb/marshal.js';
import type { Definition } from '../solver/llb/types.js';
import type { ImageConfig } from '../snapshotter/oci.js';

async function readInput(file: string, flag: string, io: CliIO): Promise<Buffer> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    return Buffer.concat(chunks);
  }
  try {
    return await readFile(path.resolve(io.cwd, file));
  } catch (err) {
    throw new UsageError(`${flag} ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

export async function readLlbFile(file: string, io: CliIO): Promise<Definition> {
  const bytes = await readInput(file, '--llb', io);
  const where = file === '-' ? 'stdin' : file;
  try {
    const def = unmarshalDefinition(bytes);
    if (def.def.length === 0) throw new LlbDecodeError('it holds no ops');
    // Ops are checked here, where the file can be named, rather than halfway through the solve.
    for (const op of def.def) unmarshalOp(op);
    return def;
  } catch (err) {
    if (err instanceof LlbDecodeError) {
      throw new LlbDecodeError(`--llb ${where}: not a pb.Definition (${err.message}); write one with 'kiln debug llb --format pb CONTEXT > FILE.pb'`);
    }
    throw err;
  }
}

/**
 * The image config for a Definition's result: an image config JSON, or what `kiln debug llb`
 * prints (whose `config` is one).
 */
export async function readLlbConfig(file: string, io: CliIO): Promise<ImageConfig> {
  const text = (await readInput(file, '--llb-config', io)).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--llb-config ${file}: not JSON (${(err as Error).message})`);
  }
  const candidate = isImageConfig(value) ? value : isImageConfig((value as { config?: unknown } | null)?.config) ? (value as { config: ImageConfig }).config : undefined;
  if (!candidate) throw new UsageError(`--llb-config ${file}: not an image config (expected architecture, os and config), nor 'kiln debug llb' output holding one`);
  return candidate;
}

function isImageConfig(v: unknown): v is ImageConfig {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  return typeof c.architecture === 'string' && typeof c.os === 'string' && typeof c.config === 'object' && c.config !== null;
}

const IMAGE_SOURCE = 'docker-image://';

/** Every image a Definition's source ops name (FROM, COPY --from=IMAGE, RUN --mount from=IMAGE), sorted. */
export function sourceImages(def: Definition): string[] {
  const refs = new Set<string>();
  for (const bytes of def.def) {
    const id = unmarshalOp(bytes).source?.identifier;
    if (id?.startsWith(IMAGE_SOURCE)) refs.add(id.slice(IMAGE_SOURCE.length));
  }
  return [...refs].sort();
}
