// Which executor runs an op: image and local sources, file ops and exec ops; anything else is a
// clear "not supported yet".
import type { Op } from '../llb/types.js';
import type { OpExecutor } from '../types.js';
import { UnsupportedOpError } from './errors.js';
import { execOp } from './exec-op.js';
import { fileOp } from './file-op.js';
import { imageSource } from './image-source.js';
import { localSource } from './local-source.js';

export function executorFor(op: Op): OpExecutor {
  if (op.source) {
    const id = op.source.identifier ?? '';
    if (id.startsWith('docker-image://')) return imageSource;
    if (id.startsWith('local://')) return localSource;
    const scheme = /^([a-z-]+):\/\//.exec(id)?.[1] ?? id;
    throw new UnsupportedOpError(`the source ${scheme}:// (${id})`, 'kiln builds from images in its store and the local context only; download the file or clone the repository into the context');
  }
  if (op.file) return fileOp;
  if (op.exec) return execOp;
  const kind = op.build ? 'build' : op.merge ? 'merge (COPY --link)' : op.diff ? 'diff' : 'an empty';
  throw new UnsupportedOpError(`${kind} op`, 'rewrite the Dockerfile without it');
}
