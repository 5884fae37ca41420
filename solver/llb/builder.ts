// The builder API the frontend compiles Dockerfiles with: source, exec, file and merge ops linked by
// their outputs, then flattened into a Definition. Each kind of op lives in its own file.
export { Output, type OpOptions, type State, type Vertex } from './vertex.js';
export { git, http, image, local, type LocalOptions } from './source.js';
export { exec, type ExecMount, type ExecResult, type ExecSpec } from './exec.js';
export { file, type ChownOpt, type CopySpec, type FileActionSpec, type UserOpt } from './fileop.js';
export { merge } from './merge.js';
export { definition, type DefinitionOptions } from './definition.js';
export type { Definition, OpMetadata } from './types.js';
