// Groups instructions into build stages: ARGs before the first FROM are global, every FROM opens a
// stage, stage names are unique. Whether referenced stages exist is the compiler's concern.

import { DockerfileError, DockerfileErrorCode } from './errors.js';
import type { Instruction, InstructionOf } from './instructions.js';

export interface Stage {
  /** 0-based position in the file. */
  index: number;
  /** Lower-cased `AS` name. */
  name?: string;
  from: InstructionOf<'from'>;
  /** Everything after the FROM, in order. */
  instructions: Instruction[];
}

export interface Stages {
  globalArgs: InstructionOf<'arg'>[];
  stages: Stage[];
}

export function groupStages(instructions: readonly Instruction[], file: string): Stages {
  const globalArgs: InstructionOf<'arg'>[] = [];
  const stages: Stage[] = [];
  const named = new Map<string, number>();
  for (const ins of instructions) {
    if (ins.kind === 'from') {
      const stage: Stage = { index: stages.length, from: ins, instructions: [] };
      if (ins.stageName !== undefined) {
        const first = named.get(ins.stageName);
        if (first !== undefined) {
          throw new DockerfileError(file, ins.range.startLine,
            `duplicate stage name "${ins.stageName}" (first defined on line ${first}): give each stage its own name`,
            DockerfileErrorCode.stage);
        }
        named.set(ins.stageName, ins.range.startLine);
        stage.name = ins.stageName;
      }
      stages.push(stage);
    } else if (stages.length > 0) {
      stages[stages.length - 1]!.instructions.push(ins);
    } else if (ins.kind === 'arg') {
      globalArgs.push(ins);
    } else {
      throw new DockerfileError(file, ins.range.startLine,
        `${ins.kind.toUpperCase()} comes before any FROM: only ARG may precede the first FROM, so start the stage with FROM <image>`,
        DockerfileErrorCode.stage);
    }
  }
  if (stages.length === 0) {
    const line = instructions[0]?.range.startLine ?? 0;
    throw new DockerfileError(file, line, 'the Dockerfile has no FROM instruction: add FROM <image> to start a stage', DockerfileErrorCode.stage);
  }
  return { globalArgs, stages };
}
