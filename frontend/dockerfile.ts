// The frontend's entry for reading a Dockerfile: text in, directives plus typed stages out.

import type { Directives } from './directives.js';
import { DockerfileError, DockerfileErrorCode } from './errors.js';
import { toInstruction, type Instruction, type InstructionOf } from './instructions.js';
import { parseLines } from './parser.js';
import { groupStages, type Stage } from './stages.js';


export interface ParsedDockerfile {
  file: string;
  directives: Directives;
  globalArgs: InstructionOf<'arg'>[];
  stages: Stage[];
}

/** Parses `text`; `file` names it in ranges and error messages. Throws DockerfileError. */
export function parseDockerfile(text: string, file: string): ParsedDockerfile {
  const { directives, nodes } = parseLines(text, file);
  if (nodes.length === 0) {
    throw new DockerfileError(file, 0, 'the Dockerfile is empty: it needs at least a FROM instruction', DockerfileErrorCode.empty);
  }
  const instructions = nodes.map((node) => toInstruction(node, directives.escape));
  return { file, directives, ...groupStages(instructions, file) };
}

/**
 * Parses a base image's ONBUILD triggers, which run at the start of a stage built on it.
 * `image` names them in errors, since they come from the image, not from the Dockerfile.
 */
export function parseTriggers(triggers: string[], image: string, escape: Directives['escape']): Instruction[] {
  const file = `${image} (ONBUILD)`;
  return triggers.flatMap((t) => parseLines(t, file).nodes.map((node) => toInstruction(node, escape)));
}
