// Which executor runs an op: image, local and http sources, file, exec and merge ops; anything
// else is a clear "not supported yet".
import type { Op } from '../llb/types.js';
import type { OpExecutor } from '../types.js';
import { UnsupportedOpError } from './errors.js';
import { httpSource } from './http-source.js';
import { imageSource } from './image-source.js';
import { localSource } from './local-source.js';

/**
 * An executor with no cache-key step, loaded when an op first runs: a fully cached build then
 * never loads the runner, the tar code or child_process (about 40 ms of module loading).
 */
function onFirstRun(load: () => Promise<OpExecutor>): OpExecutor {
  let loaded: Promise<OpExecutor> | undefined;
  return { run: async (...args) => (await (loaded ??= load())).run(...args) };
}

const execOp = onFirstRun(async () => (await import('./exec-op.js')).execOp);
const fileOp = onFirstRun(async () => (await import('./file-op.js')).fileOp);
const mergeOp = onFirstRun(async () => (await import('./merge-op.js')).mergeOp);

export function executorFor(op: Op): OpExecutor {
  if (op.source) {
    const id = op.source.identifier ?? '';
    if (id.startsWith('docker-image://')) return imageSource;
    if (id.startsWith('local://')) return localSource;
    if (id.startsWith('http://') || id.startsWith('https://')) return httpSource;
    const scheme = /^([a-z-]+):\/\//.exec(id)?.[1] ?? id;
    throw new UnsupportedOpError(`the source ${scheme}:// (${id})`, 'kiln builds from images in its store, the local context and http(s) URLs; clone the repository into the context');
  }
  if (op.file) return fileOp;
  if (op.exec) return execOp;
  if (op.merge) return mergeOp;
  const kind = op.build ? 'build' : op.diff ? 'diff' : 'an empty';
  throw new UnsupportedOpError(`${kind} op`, 'rewrite the Dockerfile without it');
}
