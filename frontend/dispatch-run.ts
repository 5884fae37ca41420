// RUN: the exec op with its heredocs, mounts, network and security mode.
import path from 'node:path';
import { exec, file, type ExecMount, type Output } from '../solver/llb/builder.js';
import type { ProxyEnv } from '../solver/llb/types.js';
import type { InstructionOf } from './instructions.js';
import type { CompileContext } from './compile-context.js';
import { stageLookup, type StageState } from './stage-state.js';
import { parseMount, type MountSpec } from './mounts.js';
import { addHistory } from './image-config.js';
import { PROXY_ARGS } from './buildargs.js';
import { mountTarget } from './workdir.js';
import { cleanPath } from '../patterns/clean-path.js';

const HEREDOC_PIPES = '/dev/pipes/';
const CACHE_DIR = '/cache';
const PROXIES: ReadonlySet<string> = new Set(PROXY_ARGS);

/** The argv of a RUN, applying BuildKit's heredoc rules. */
function runArgs(ctx: CompileContext, s: StageState, ins: InstructionOf<'run'>, mounts: ExecMount[]): string[] {
  if (ins.cmd.json) return ins.cmd.args;
  if (ins.heredocs.length === 0) return [...s.shell, ins.cmd.script];
  const first = ins.heredocs[0]!;
  const onlyHeredoc = /^\s*<<-?\s*["']?[^\s"']+["']?\s*$/.test(ins.cmd.script) && ins.heredocs.length === 1;
  if (!onlyHeredoc) {
    // A command that reads heredocs (`RUN cat <<EOF > f`): the shell handles them itself.
    let full = ins.cmd.script;
    for (const h of ins.heredocs) full += `\n${h.content}${h.name}`;
    return [...s.shell, full];
  }
  if (first.content.startsWith('#!')) {
    // A script with its own interpreter: run it as a file, mounted read-only beside the rootfs.
    const script = file(null, [{ mkfile: { path: `/${first.name}`, mode: 0o755, data: Buffer.from(first.content) } }], ctx.opOptions(s, `RUN heredoc ${first.name}`));
    mounts.push({ dest: HEREDOC_PIPES, input: script, selector: '/', readonly: true });
    return [path.posix.join(HEREDOC_PIPES, first.name)];
  }
  return [...s.shell, first.content];
}

/** Where a bind, cache or tmpfs mount goes: a relative or missing target is under the WORKDIR, never the root itself. */
function mountDest(ctx: CompileContext, s: StageState, m: MountSpec, ins: InstructionOf<'run'>): string {
  const dest = mountTarget(s.config.config.WorkingDir, m.target);
  if (dest === '/') {
    ctx.fail(ins.range, `invalid mount target "/" (type=${m.type}, ${m.target === '' ? 'no target' : `target=${m.target}`}, WORKDIR ${s.config.config.WorkingDir || '/'}): a mount cannot cover the root; give target=<path>`);
  }
  return dest;
}

async function toExecMount(ctx: CompileContext, s: StageState, m: MountSpec, ins: InstructionOf<'run'>): Promise<{ mount?: ExecMount; secretEnv?: { id: string; name: string; optional?: boolean } }> {
  const from = async () => (m.from !== undefined ? ctx.resolveFrom(m.from, s, ins.range, '--mount from', false) : ctx.context());
  switch (m.type) {
    case 'bind': {
      const selector = m.source ? path.posix.join('/', m.source) : undefined;
      const dest = mountDest(ctx, s, m, ins);
      // Writes to a bind mount are thrown away after the step, as in BuildKit.
      return { mount: { dest, input: await from(), ...(selector ? { selector } : {}), readonly: m.readonly, noOutput: true } };
    }
    case 'cache': {
      let input = m.from !== undefined ? await from() : null;
      let selector = m.source ? path.posix.join('/', m.source) : undefined;
      if (!selector && m.explicit?.owner) {
        // The cache dir's owner and mode come from a directory made for it, as BuildKit does.
        const owner = { user: { id: m.uid ?? 0 }, group: { id: m.gid ?? 0 } };
        input = file(input, [{ mkdir: { path: CACHE_DIR, mode: m.mode ?? 0o755, owner } }], ctx.opOptions(s, `cache mount ${m.target}`));
        selector = CACHE_DIR;
      }
      // BuildKit's id is "<namespace>/<id>", with an empty namespace unless configured; the
      // default id is the target as written, cleaned (so not resolved against the WORKDIR).
      const id = `/${m.id ?? cleanPath(m.target)}`;
      return { mount: { dest: mountDest(ctx, s, m, ins), input, ...(selector ? { selector } : {}), readonly: m.readonly, noOutput: true, type: 'cache', cache: { id, sharing: m.sharing ?? 'shared' } } };
    }
    case 'tmpfs':
      return { mount: { dest: mountDest(ctx, s, m, ins), input: null, noOutput: true, type: 'tmpfs', tmpfs: m.size !== undefined ? { size: m.size } : {} } };
    case 'secret': {
      const opt = { id: m.id ?? path.posix.basename(m.target), optional: !m.required };
      const secretEnv = m.env ? { id: opt.id, name: m.env, optional: opt.optional } : undefined;
      // An env-only secret has no file; one with both a target and env= gets both.
      if (m.target === '') return { ...(secretEnv ? { secretEnv } : {}) };
      // BuildKit leaves a relative target to its executor, which puts it under the working
      // directory; kiln's runner takes absolute targets only, so the frontend resolves it.
      return { ...(secretEnv ? { secretEnv } : {}), mount: { dest: mountTarget(s.config.config.WorkingDir, m.target), input: null, noOutput: true, type: 'secret', secret: { ...opt, uid: m.uid ?? 0, gid: m.gid ?? 0, mode: m.mode ?? 0o400 } } };
    }
    case 'ssh':
      return { mount: { dest: m.target, input: null, noOutput: true, type: 'ssh', ssh: { id: m.explicit?.id ? m.id ?? '' : '', uid: m.uid ?? 0, gid: m.gid ?? 0, mode: m.mode ?? 0o600, optional: !m.required } } };
  }
}

/** Proxy --build-args reach RUN as BuildKit passes them: beside the env, outside the cache key. */
function proxyEnv(buildArgs: Map<string, string>): ProxyEnv | undefined {
  const pick = (name: string) => buildArgs.get(name.toUpperCase()) ?? buildArgs.get(name);
  const p: ProxyEnv = {};
  for (const [field, name] of [['httpProxy', 'http_proxy'], ['httpsProxy', 'https_proxy'], ['ftpProxy', 'ftp_proxy'], ['noProxy', 'no_proxy'], ['allProxy', 'all_proxy']] as const) {
    const v = pick(name);
    if (v !== undefined) p[field] = v;
  }
  return Object.keys(p).length ? p : undefined;
}


export async function dispatchRun(ctx: CompileContext, s: StageState, ins: InstructionOf<'run'>): Promise<void> {
  const lookup = stageLookup(s);
  const mounts: ExecMount[] = [];
  const secretEnv: { id: string; name: string; optional?: boolean }[] = [];
  let sshIndex = 0;
  for (const raw of ins.mounts) {
    const spec = parseMount(ctx.expand.word(raw, lookup, ins.range), ins.range, sshIndex);
    if (spec.type === 'ssh') sshIndex++;
    const m = await toExecMount(ctx, s, spec, ins);
    if (m.mount) mounts.push(m.mount);
    if (m.secretEnv) secretEnv.push(m.secretEnv);
  }
  const network = ins.network ? ctx.expand.word(ins.network, lookup, ins.range) : 'default';
  if (network !== 'default' && network !== 'none' && network !== 'host') ctx.fail(ins.range, `RUN --network=${network}: use default, none or host`);
  const security = ins.security ? ctx.expand.word(ins.security, lookup, ins.range) : 'sandbox';
  if (security !== 'sandbox' && security !== 'insecure') ctx.fail(ins.range, `RUN --security=${security}: use sandbox or insecure`);

  const args = runArgs(ctx, s, ins, mounts);
  const proxies = proxyEnv(ctx.buildArgs);
  const result = exec({
    ...ctx.opOptions(s, ins.original),
    args,
    env: s.env.map(([k, v]) => `${k}=${v}`),
    cwd: s.config.config.WorkingDir || '/',
    ...(s.config.config.User ? { user: s.config.config.User } : {}),
    network: network as 'default' | 'none' | 'host',
    security: security as 'sandbox' | 'insecure',
    root: s.state,
    mounts,
    ...(secretEnv.length ? { secretEnv } : {}),
    ...(proxies ? { proxyEnv: proxies } : {}),
  });
  s.state = result.root as Output;
  // History shows every ARG the stage declared (Docker's `|N K=V` prefix), valued as the step saw
  // it (an ENV of the same name wins) and empty when it has none, as BuildKit does; never proxies.
  const env = stageLookup(s);
  const shown = [...s.args].filter(([k]) => !PROXIES.has(k)).map(([k, v]) => `${k}=${env(k) ?? v ?? ''}`);
  const prefix = shown.length ? `|${shown.length} ${shown.join(' ')} ` : '';
  addHistory(s.config, `RUN ${prefix}${args.join(' ')} # buildkit`, false);
}
