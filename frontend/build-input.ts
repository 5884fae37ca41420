// Reads what a build starts from: the Dockerfile (by -f or in the context) and its ignore file.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { readDockerignore } from './dockerignore.js';
import { BuildInputError } from './errors.js';

export interface BuildInput {
  contextDir: string;
  /** Absolute path of the Dockerfile. */
  dockerfilePath: string;
  /** The name messages use: what the user typed, or `Dockerfile`. */
  displayName: string;
  text: string;
  ignorePatterns: string[];
}

export async function readBuildInput(context: string, fileFlag: string | undefined, cwd: string): Promise<BuildInput> {
  const contextDir = path.resolve(cwd, context);
  const st = await stat(contextDir).catch(() => undefined);
  if (!st?.isDirectory()) throw new BuildInputError(`build context '${context}' is not a directory; pass the folder that holds the files the Dockerfile copies`);
  const dockerfilePath = fileFlag ? path.resolve(cwd, fileFlag) : path.join(contextDir, 'Dockerfile');
  const displayName = fileFlag ?? 'Dockerfile';
  let text: string;
  try {
    text = await readFile(dockerfilePath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BuildInputError(`cannot read Dockerfile '${displayName}' (${code === 'ENOENT' ? 'no such file' : code}); name it with -f PATH`);
  }
  const ignorePatterns = await readDockerignore(contextDir, dockerfilePath);
  return { contextDir, dockerfilePath, displayName, text, ignorePatterns };
}
