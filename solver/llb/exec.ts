// Exec ops: a process run over a root filesystem and mounts, laid out as BuildKit's llb.Run
// lays them out, so the same RUN gives the same op bytes in kiln and in BuildKit.
import { LlbBuildError } from './errors.js';
import { hostPlatform } from '../../oci/platform.js';
import { toPbPlatform } from './platform.js';
import {
  CacheSharingOpt, EMPTY_INPUT, MountType, NetMode, ROOT_MOUNT, SecurityMode, SKIP_OUTPUT,
  type ExecOp, type Meta, type Mount, type Op, type ProxyEnv,
} from './types.js';
import { InputList, metadataOf, OpVertex, Output, type OpOptions, type State } from './vertex.js';

export interface ExecMount {
  dest: string;
  input: State;
  selector?: string;
  /** A readonly or noOutput mount has no output (index -1). */
  readonly?: boolean;
  noOutput?: boolean;
  type?: 'bind' | 'secret' | 'ssh' | 'cache' | 'tmpfs';
  cache?: { id: string; sharing: 'shared' | 'private' | 'locked' };
  tmpfs?: { size?: number };
  /** mode defaults to 0o400, as llb.AddSecret's. */
  secret?: { id: string; uid?: number; gid?: number; mode?: number; optional?: boolean };
  /** mode defaults to 0o600, as llb.AddSSHSocket's. */
  ssh?: { id: string; uid?: number; gid?: number; mode?: number; optional?: boolean };
}

export interface ExecSpec extends OpOptions {
  args: string[];
  env: string[];
  cwd: string;
  user?: string;
  hostname?: string;
  network?: 'default' | 'host' | 'none';
  security?: 'sandbox' | 'insecure';
  root: State;
  mounts?: ExecMount[];
  secretEnv?: { id: string; name: string; optional?: boolean }[];
  validExitCodes?: number[];
  /** Proxy settings: kept apart from env so they never enter the cache key or the image. */
  proxyEnv?: ProxyEnv;
  /** Defaults to true: BuildKit's client always sets it. */
  removeMountStubsRecursive?: boolean;
}

export interface ExecResult {
  root: Output;
  /** The output of the mount at `dest`; throws if that mount has none (readonly, cache, …). */
  mount(dest: string): Output;
}

const NETWORK = { default: NetMode.UNSET, host: NetMode.HOST, none: NetMode.NONE } as const;
const SECURITY = { sandbox: SecurityMode.SANDBOX, insecure: SecurityMode.INSECURE } as const;
const SHARING = { shared: CacheSharingOpt.SHARED, private: CacheSharingOpt.PRIVATE, locked: CacheSharingOpt.LOCKED } as const;

function hasOutput(m: ExecMount): boolean {
  const type = m.type ?? 'bind';
  return !m.readonly && !m.noOutput && type === 'bind';
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function exec(spec: ExecSpec): ExecResult {
  if (spec.args.length === 0) throw new LlbBuildError('exec: args are required');
  if (!spec.cwd) throw new LlbBuildError('exec: a working directory is required');

  const all: ExecMount[] = [{ dest: ROOT_MOUNT, input: spec.root }, ...(spec.mounts ?? [])];
  // BuildKit sorts filesystem mounts by destination before numbering inputs and outputs;
  // secret and SSH mounts follow, in the order given. Array.sort is stable.
  const fsMounts = all.filter((m) => m.type !== 'secret' && m.type !== 'ssh').sort((a, b) => byteOrder(a.dest, b.dest));
  const secrets = all.filter((m) => m.type === 'secret');
  const sshes = all.filter((m) => m.type === 'ssh');

  const inputs = new InputList();
  const walk: Output[] = [];
  const outputIndex = new Map<string, number>();
  const mounts: Mount[] = [];
  let nextOutput = 0;
  for (const m of fsMounts) {
    const type = m.type ?? 'bind';
    if (type === 'tmpfs' && m.input) throw new LlbBuildError(`exec: tmpfs mount ${m.dest} must not have an input`);
    if (type === 'cache' && !m.cache) throw new LlbBuildError(`exec: cache mount ${m.dest} needs cache options`);
    const pm: Mount = { input: EMPTY_INPUT, dest: m.dest, output: SKIP_OUTPUT };
    if (m.input) {
      pm.input = inputs.add(m.input);
      walk.push(m.input);
    }
    if (m.selector) pm.selector = m.selector;
    if (m.readonly) pm.readonly = true;
    if (hasOutput(m)) {
      outputIndex.set(m.dest, nextOutput);
      pm.output = nextOutput++;
    }
    if (type === 'cache') {
      pm.mountType = MountType.CACHE;
      pm.cacheOpt = { id: m.cache!.id, sharing: SHARING[m.cache!.sharing] };
    } else if (type === 'tmpfs') {
      pm.mountType = MountType.TMPFS;
      pm.tmpfsOpt = { size: m.tmpfs?.size ?? 0 };
    }
    mounts.push(pm);
  }
  // Secret and SSH mounts never take an input and leave `output` unset (0), as BuildKit does.
  for (const m of secrets) {
    if (!m.secret) throw new LlbBuildError(`exec: secret mount ${m.dest} needs secret options`);
    const s = m.secret;
    mounts.push({
      input: EMPTY_INPUT, dest: m.dest, mountType: MountType.SECRET,
      secretOpt: { id: s.id, uid: s.uid ?? 0, gid: s.gid ?? 0, mode: s.mode ?? 0o400, optional: s.optional ?? false },
    });
  }
  for (const m of sshes) {
    if (!m.ssh) throw new LlbBuildError(`exec: ssh mount ${m.dest} needs ssh options`);
    const s = m.ssh;
    mounts.push({
      input: EMPTY_INPUT, dest: m.dest, mountType: MountType.SSH,
      sshOpt: { id: s.id, uid: s.uid ?? 0, gid: s.gid ?? 0, mode: s.mode ?? 0o600, optional: s.optional ?? false },
    });
  }

  const env = [...spec.env];
  // Tools find the forwarded agent through SSH_AUTH_SOCK; BuildKit points it at the first socket.
  if (sshes.length && !env.some((e) => e.startsWith('SSH_AUTH_SOCK='))) env.push(`SSH_AUTH_SOCK=${sshes[0]!.dest}`);

  const meta: Meta = {
    args: [...spec.args], env, cwd: spec.cwd, user: spec.user, hostname: spec.hostname,
    removeMountStubsRecursive: spec.removeMountStubsRecursive ?? true,
  };
  if (spec.validExitCodes) meta.validExitCodes = [...spec.validExitCodes];
  if (spec.proxyEnv) meta.proxyEnv = { ...spec.proxyEnv };
  const execOp: ExecOp = {
    meta, mounts,
    network: NETWORK[spec.network ?? 'default'],
    security: SECURITY[spec.security ?? 'sandbox'],
    secretEnv: (spec.secretEnv ?? []).map((s) => ({ id: s.id, name: s.name, optional: s.optional })),
  };
  const op: Op = {
    inputs: inputs.inputs,
    exec: execOp,
    platform: toPbPlatform(spec.platform ?? hostPlatform()),
    constraints: {},
  };
  const vertex = new OpVertex(op, walk, metadataOf(spec));
  return {
    root: new Output(vertex, outputIndex.get(ROOT_MOUNT)!),
    mount(dest: string): Output {
      const i = outputIndex.get(dest);
      if (i === undefined) throw new LlbBuildError(`exec: the mount at ${dest} has no output (missing, readonly, no-output, cache, tmpfs, secret or ssh)`);
      return new Output(vertex, i);
    },
  };
}
