// `build` of a Definition instead of a Dockerfile (`kiln build --llb FILE.pb`): the pb.Definition
// as `kiln debug llb --format pb` prints it, and the image config given beside it.
import type { ImageConfig } from '../oci/image-spec.js';
import { LlbDecodeError } from '../solver/llb/errors.js';
import { unmarshalDefinition, unmarshalOp } from '../solver/llb/marshal.js';
import type { Definition } from '../solver/llb/types.js';
import { OptionError } from './errors.js';

/** Decodes a pb.Definition read from `where` (a file's name, or stdin), every op checked up front. */
export function decodeDefinition(bytes: Uint8Array, where: string): Definition {
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
export function decodeImageConfig(text: string, where: string): ImageConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new OptionError('llb-config', where, `not JSON (${(err as Error).message})`);
  }
  const candidate = isImageConfig(value) ? value : isImageConfig((value as { config?: unknown } | null)?.config) ? (value as { config: ImageConfig }).config : undefined;
  if (!candidate) throw new OptionError('llb-config', where, "not an image config (expected architecture, os and config), nor 'kiln debug llb' output holding one");
  return candidate;
}

function isImageConfig(v: unknown): v is ImageConfig {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  return typeof c.architecture === 'string' && typeof c.os === 'string' && typeof c.config === 'object' && c.config !== null;
}
