// Instructions that change only the image config (ENV, LABEL, CMD, ...) and ARG scoping.
import { constants } from 'node:os';
import type { Instruction, InstructionOf, CommandForm } from './instructions.js';
import type { CompileContext } from './compile-context.js';
import { assignEnv, stageLookup, type StageState } from './stage-state.js';
import { addHistory, setEnv } from './image-config.js';
import { parseExposeSpec, PortSpecError } from './ports.js';

function commandArgs(cmd: CommandForm, shell: string[]): string[] {
  return cmd.json ? cmd.args : [...shell, cmd.script];
}

function validSignal(sig: string): boolean {
  if (/^\d+$/.test(sig)) return Number(sig) > 0 && Number(sig) < 65;
  const name = sig.toUpperCase().startsWith('SIG') ? sig.toUpperCase() : `SIG${sig.toUpperCase()}`;
  return name in constants.signals || /^SIGRTM(IN|AX)([+-]\d+)?$/.test(name);
}

/** ARG inside a stage: a --build-arg wins, then the default, then a same-named global ARG's value. */
export function dispatchArg(ctx: CompileContext, s: StageState, ins: InstructionOf<'arg'>): void {
  for (const decl of ins.args) {
    let value: string | undefined;
    if (ctx.buildArgs.has(decl.name)) {
      value = ctx.buildArgs.get(decl.name);
      s.usedBuildArgs.add(decl.name);
    } else if (decl.default !== undefined) {
      value = ctx.expand.word(decl.default, stageLookup(s), ins.range);
    } else {
      value = ctx.globalArgs.has(decl.name) ? ctx.globalArgs.get(decl.name) : ctx.platformArgs.get(decl.name);
    }
    s.args.set(decl.name, value);
    if (value !== undefined) assignEnv(s, decl.name, value);
    addHistory(s.config, `ARG ${decl.name}${value !== undefined && decl.default !== undefined ? '=' + value : ''}`, true);
  }
}

/** Returns true when the instruction was a config-only one and has been applied. */
export function dispatchConfig(ctx: CompileContext, s: StageState, ins: Instruction): boolean {
  const cfg = s.config.config;
  const env = stageLookup(s);
  const x = (w: string) => ctx.expand.word(w, env, ins.range);
  switch (ins.kind) {
    case 'env': {
      // Every pair of one ENV line sees the values from before that line.
      const pairs = ins.pairs.map((p) => ({ key: x(p.key), value: x(p.value) }));
      for (const p of pairs) {
        setEnv(s.config, p.key, p.value);
        assignEnv(s, p.key, p.value);
      }
      addHistory(s.config, `ENV ${pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`, true);
      return true;
    }
    case 'label': {
      const labels = (cfg.Labels ??= {});
      const pairs = ins.pairs.map((p) => ({ key: x(p.key), value: x(p.value) }));
      for (const p of pairs) labels[p.key] = p.value;
      addHistory(s.config, `LABEL ${pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`, true);
      return true;
    }
    case 'maintainer':
      s.config.author = ins.name;
      addHistory(s.config, `MAINTAINER ${ins.name}`, true);
      return true;
    case 'expose': {
      const ports = (cfg.ExposedPorts ??= {});
      const specs = ins.ports.flatMap((p) => ctx.expand.words(p, env, ins.range));
      for (const spec of specs) {
        try {
          for (const key of parseExposeSpec(spec)) ports[key] = {};
        } catch (err) {
          if (err instanceof PortSpecError) ctx.fail(ins.range, `EXPOSE: ${err.message}`);
          throw err;
        }
      }
      addHistory(s.config, `EXPOSE map[${specs.join(' ')}]`, true);
      return true;
    }
    case 'volume': {
      const vols = (cfg.Volumes ??= {});
      for (const p of ins.paths) {
        const v = x(p);
        if (v === '') ctx.fail(ins.range, 'VOLUME: a volume path cannot be empty');
        vols[v] = {};
      }
      addHistory(s.config, `VOLUME [${ins.paths.map(x).join(' ')}]`, true);
      return true;
    }
    case 'user': {
      const user = x(ins.user);
      if (user === '') ctx.fail(ins.range, 'USER: the user cannot be empty');
      cfg.User = user;
      addHistory(s.config, `USER ${user}`, true);
      return true;
    }
    case 'shell':
      s.shell = ins.args;
      cfg.Shell = ins.args;
      addHistory(s.config, `SHELL [${ins.args.join(' ')}]`, true);
      return true;
    case 'cmd':
      cfg.Cmd = commandArgs(ins.cmd, s.shell);
      s.cmdSet = true;
      addHistory(s.config, `CMD [${(cfg.Cmd ?? []).map((a) => JSON.stringify(a)).join(' ')}]`, true);
      return true;
    case 'entrypoint':
      cfg.Entrypoint = commandArgs(ins.cmd, s.shell);
      // A CMD inherited from the base image does not fit a new ENTRYPOINT: Docker drops it.
      if (!s.cmdSet) cfg.Cmd = null;
      addHistory(s.config, `ENTRYPOINT [${cfg.Entrypoint.map((a) => JSON.stringify(a)).join(' ')}]`, true);
      return true;
    case 'healthcheck': {
      if (ins.test === 'NONE') cfg.Healthcheck = { Test: ['NONE'] };
      else {
        const test = ins.test.json ? ['CMD', ...ins.test.args] : ['CMD-SHELL', ins.test.script];
        cfg.Healthcheck = { Test: test };
        if (ins.interval !== undefined) cfg.Healthcheck.Interval = ins.interval;
        if (ins.timeout !== undefined) cfg.Healthcheck.Timeout = ins.timeout;
        if (ins.startPeriod !== undefined) cfg.Healthcheck.StartPeriod = ins.startPeriod;
        if (ins.startInterval !== undefined) cfg.Healthcheck.StartInterval = ins.startInterval;
        if (ins.retries !== undefined) cfg.Healthcheck.Retries = ins.retries;
      }
      addHistory(s.config, `HEALTHCHECK ${JSON.stringify(cfg.Healthcheck)}`, true);
      return true;
    }
    case 'stopsignal': {
      const sig = x(ins.signal);
      if (!validSignal(sig)) ctx.fail(ins.range, `STOPSIGNAL: '${sig}' is not a signal (use a name like SIGTERM or a number)`);
      cfg.StopSignal = sig;
      addHistory(s.config, `STOPSIGNAL ${sig}`, true);
      return true;
    }
    case 'onbuild':
      // BuildKit records no history entry for ONBUILD.
      (cfg.OnBuild ??= []).push(ins.trigger);
      return true;
    case 'arg':
      dispatchArg(ctx, s, ins);
      return true;
    default:
      return false;
  }
}
