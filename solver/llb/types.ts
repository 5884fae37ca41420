// TypeScript shapes of the messages in ops.proto, as marshal.ts reads and writes them.
//
// Property names are the proto field names in lowerCamelCase (`OSVersion` → `osVersion`,
// `ID` → `id`, `ignore_cache` → `ignoreCache`, `secretenv` → `secretEnv`). As in proto3 an
// absent property means the field's default (0, '', false, empty list, enum value 0); decoded
// ops carry no defaults, so ops compare equal exactly when their bytes are equal. Enums are
// numbers (see the `as const` tables below). int64 fields that hold indices are numbers;
// timestamps and sizes may exceed 2^53 and decode to a bigint when they do.

export type Int64 = number | bigint;

export interface Op {
  inputs?: Input[];
  /** At most one of exec/source/file/build/merge/diff; none for the terminal op. */
  exec?: ExecOp;
  source?: SourceOp;
  file?: FileOp;
  build?: BuildOp;
  merge?: MergeOp;
  diff?: DiffOp;
  platform?: PbPlatform;
  constraints?: WorkerConstraints;
}

export interface PbPlatform {
  architecture?: string;
  os?: string;
  variant?: string;
  osVersion?: string;
  osFeatures?: string[];
}

export interface Input {
  digest?: string;
  index?: number;
}

export const NetMode = { UNSET: 0, HOST: 1, NONE: 2 } as const;
export const SecurityMode = { SANDBOX: 0, INSECURE: 1 } as const;
export const MountType = { BIND: 0, SECRET: 1, SSH: 2, CACHE: 3, TMPFS: 4 } as const;
export const MountContentCache = { DEFAULT: 0, ON: 1, OFF: 2 } as const;
export const CacheSharingOpt = { SHARED: 0, PRIVATE: 1, LOCKED: 2 } as const;

/** Index values with a meaning of their own (BuildKit's pb.Empty, pb.SkipOutput, pb.RootMount). */
export const EMPTY_INPUT = -1;
export const SKIP_OUTPUT = -1;
export const ROOT_MOUNT = '/';

export interface ExecOp {
  meta?: Meta;
  mounts?: Mount[];
  network?: number;
  security?: number;
  secretEnv?: SecretEnv[];
  cdiDevices?: CdiDevice[];
}

export interface Meta {
  args?: string[];
  env?: string[];
  cwd?: string;
  user?: string;
  proxyEnv?: ProxyEnv;
  extraHosts?: HostIp[];
  hostname?: string;
  ulimit?: Ulimit[];
  cgroupParent?: string;
  removeMountStubsRecursive?: boolean;
  validExitCodes?: number[];
}

export interface HostIp { host?: string; ip?: string }
export interface Ulimit { name?: string; soft?: Int64; hard?: Int64 }
export interface SecretEnv { id?: string; name?: string; optional?: boolean }
export interface CdiDevice { name?: string; optional?: boolean }

export interface ProxyEnv {
  httpProxy?: string;
  httpsProxy?: string;
  ftpProxy?: string;
  noProxy?: string;
  allProxy?: string;
}

export interface Mount {
  input?: number;
  selector?: string;
  dest?: string;
  output?: number;
  readonly?: boolean;
  mountType?: number;
  tmpfsOpt?: TmpfsOpt;
  cacheOpt?: CacheOpt;
  secretOpt?: SecretOpt;
  sshOpt?: SshOpt;
  resultId?: string;
  contentCache?: number;
}

export interface TmpfsOpt { size?: Int64 }
export interface CacheOpt { id?: string; sharing?: number }

export interface SecretOpt {
  id?: string;
  uid?: number;
  gid?: number;
  mode?: number;
  optional?: boolean;
}

export type SshOpt = SecretOpt;

export interface SourceOp {
  identifier?: string;
  attrs?: Record<string, string>;
}

export interface BuildOp {
  builder?: number;
  inputs?: Record<string, { input?: number }>;
  def?: PbDefinition;
  attrs?: Record<string, string>;
}

export interface FileOp {
  actions?: FileAction[];
}

export interface FileAction {
  input?: number;
  secondaryInput?: number;
  output?: number;
  /** Exactly one of copy/mkfile/mkdir/rm/symlink. */
  copy?: FileActionCopy;
  mkfile?: FileActionMkFile;
  mkdir?: FileActionMkDir;
  rm?: FileActionRm;
  symlink?: FileActionSymlink;
}

export interface FileActionCopy {
  src?: string;
  dest?: string;
  owner?: PbChownOpt;
  mode?: number;
  followSymlink?: boolean;
  dirCopyContents?: boolean;
  attemptUnpackDockerCompatibility?: boolean;
  createDestPath?: boolean;
  allowWildcard?: boolean;
  allowEmptyWildcard?: boolean;
  timestamp?: Int64;
  includePatterns?: string[];
  excludePatterns?: string[];
  alwaysReplaceExistingDestPaths?: boolean;
  modeStr?: string;
  requiredPaths?: string[];
}

export interface FileActionMkFile {
  path?: string;
  mode?: number;
  data?: Uint8Array;
  owner?: PbChownOpt;
  timestamp?: Int64;
}

export interface FileActionMkDir {
  path?: string;
  mode?: number;
  makeParents?: boolean;
  owner?: PbChownOpt;
  timestamp?: Int64;
}

export interface FileActionRm {
  path?: string;
  allowNotFound?: boolean;
  allowWildcard?: boolean;
}

export interface FileActionSymlink {
  oldpath?: string;
  newpath?: string;
  owner?: PbChownOpt;
  timestamp?: Int64;
}

export interface PbChownOpt { user?: PbUserOpt; group?: PbUserOpt }
/** One of byName/byId; byId 0 (root) is written, since a oneof member is always present. */
export interface PbUserOpt { byName?: { name?: string; input?: number }; byId?: number }

export interface MergeOp { inputs?: { input?: number }[] }
export interface DiffOp { lower?: { input?: number }; upper?: { input?: number } }

export interface WorkerConstraints { filter?: string[] }

export interface OpMetadata {
  ignoreCache?: boolean;
  description?: Record<string, string>;
  exportCache?: { value?: boolean };
  caps?: Record<string, boolean>;
  progressGroup?: { id?: string; name?: string; weak?: boolean };
}

export interface Source {
  locations?: Record<string, { locations?: Location[] }>;
  infos?: SourceInfo[];
}

export interface SourceInfo {
  filename?: string;
  data?: Uint8Array;
  definition?: PbDefinition;
  language?: string;
}

export interface Location { sourceIndex?: number; ranges?: Range[] }
export interface Range { start?: Position; end?: Position }
export interface Position { line?: number; character?: number }

/** pb.Definition as it sits on the wire (every field optional). */
export interface PbDefinition {
  def?: Uint8Array[];
  metadata?: Record<string, OpMetadata>;
  source?: Source;
}

/** A marshaled graph as kiln passes it around: `def` ends with the terminal op. */
export interface Definition {
  def: Uint8Array[];
  /** Keyed by op digest (`sha256:…`). */
  metadata: Record<string, OpMetadata>;
  source?: Source;
}
