// Loads ops.proto with protobufjs and hands out its message types, for the codec to walk.
//
// The .proto is read from the source tree at run time, so one file is both our schema and what
// protoc decodes with.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/**
 * The schema in kiln's tree, found by walking up from this module: it runs from solver/llb/
 * (source), dist/solver/llb/ (compiled) or dist/ (bundled).
 */
function findProto(): string {
  const start = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'solver', 'llb', 'ops.proto');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`solver/llb/ops.proto is in no folder above ${start}`);
  }
}

export const PROTO_PATH = findProto();

function loadRoot(): protobuf.Root {
  // keepCase: the codec maps proto names to our property names itself (see codec.ts).
  const { root } = protobuf.parse(readFileSync(PROTO_PATH, 'utf8'), { keepCase: true });
  root.resolveAll();
  return root;
}

const root = loadRoot();

export const schema = {
  Op: root.lookupType('pb.Op'),
  Definition: root.lookupType('pb.Definition'),
  OpMetadata: root.lookupType('pb.OpMetadata'),
} as const;
