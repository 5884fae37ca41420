// Loads ops.proto with protobufjs and hands out its message types, for the codec to walk.
//
// The .proto is read from the source tree at run time, so one file is both our schema and what
// protoc decodes with.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { PACKAGE_DIR } from '../../native/package-dir.js';

export const PROTO_PATH = path.join(PACKAGE_DIR, 'solver', 'llb', 'ops.proto');

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
