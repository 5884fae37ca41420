// Compiles a parsed Dockerfile to LLB plus the final image config (BuildKit's dockerfile2llb).
// Stages are compiled on demand from the target, so stages it does not reach are never touched.
import { definition, image, local, type Definition, type OpOptions, type Output, type State } from '../solver/llb/builder.js';
import type { ImageConfig, Platform } from '../oci/image-spec.js';
import { formatReference, parseReference } from '../oci/reference.js';
import { parsePlatform } from '../oci/platform.js';
import type { Instruction, SourceRange } from './instructions.js';
import type { ParsedDockerfile } from './dockerfile.js';
import type { Stage } from './stages.js';
import { parseTriggers } from './dockerfile.js';
import type { CompileContext } from './compile-context.js';
import { DockerfileError } from './errors.js';
import { isUserError } from '../errors/kiln-error.js';
import { assignEnv, envPairs, Expander, type StageState } from './stage-state.js';
import { PROXY_ARGS, platformArgs } from './buildargs.js';
import { cloneConfig, emptyConfig, scratchConfig, withDefaultPath } from './image-config.js';
import { dispatchConfig } from './dispatch-config.js';
import { dispatchRun } from './dispatch-run.js';
import { dispatchCopy, dispatchWorkdir } from './dispatch-copy.js';
import { SourceMap } from './source-map.js';
import { normalizeWorkdir } from './workdir.js';
import { platformPrefix } from './platform-prefix.js';

export interface ResolvedBase {
  /** The reference to pull, pinned to a digest where the resolver knows it. */
  ref: string;
  config?: ImageConfig;
}
/** Looks up a base image's config (local store, registry) so ENV/WORKDIR/USER carry over. */
export type ImageResolver = (ref: string, platform: Platform) => Promise<ResolvedBase | undefined>;

export interface CompileOptions {
  /** The Dockerfile's path as the user named it, for messages. */
  file: string;
  /** The Dockerfile's text: the Definition's source map carries it so a failing step can quote its lines. */
  text?: string;
  target?: string;
  buildArgs: Map<string, string>;
  targetPlatform: Platform;
  buildPlatform: Platform;
  /** .dockerignore patterns (already parsed). */
  ignorePatterns: string[];
  resolveImage?: ImageResolver;
  noCache?: boolean;
  /** One of several platforms built at once: step names start with the platform, as buildx shows them. */
  prefixPlatform?: boolean;
}

export interface CompileResult {
  definition: Definition;
  /** The result's root filesystem state (null for an empty scratch image). */
  root: State;
  config: ImageConfig;
  target: { index: number; name?: string };
  platform: Platform;
  warnings: string[];
}

const DEFAULT_SHELL = ['/bin/sh', '-c'];
const PREDEFINED: ReadonlySet<string> = new Set([...PROXY_ARGS, 'TARGETPLATFORM', 'TARGETOS', 'TARGETARCH', 'TARGETVARIANT', 'BUILDPLATFORM', 'BUILDOS', 'BUILDARCH', 'BUILDVARIANT']);

class Compiler implements CompileContext {
  readonly file: string;
  readonly expand: Expander;
  readonly buildArgs: Map<string, string>;
  readonly globalArgs = new Map<string, string | undefined>();
  readonly platformArgs: Map<string, string>;
  private readonly stages = new Map<number, Promise<StageState>>();
  private readonly consumed = new Set<string>();
  readonly sourceMap: SourceMap;

  constructor(private readonly df: ParsedDockerfile, private readonly opts: CompileOptions) {
    this.file = opts.file;
    this.sourceMap = new SourceMap(opts.file, opts.text);
    this.expand = new Expander(df.directives.escape, opts.file);
    this.buildArgs = opts.buildArgs;
    this.platformArgs = platformArgs(opts.targetPlatform, opts.buildPlatform);
    for (const ins of df.globalArgs) {
      for (const decl of ins.args) {
        let value: string | undefined;
        if (this.buildArgs.has(decl.name)) {
          value = this.buildArgs.get(decl.name);
          this.consumed.add(decl.name);
        } else if (decl.default !== undefined) value = this.expand.word(decl.default, this.globalLookup, ins.range);
        // A global `ARG TARGETARCH` without a value keeps the automatic one, which stages then see (BuildKit's rule).
        else value = this.platformArgs.get(decl.name);
        this.globalArgs.set(decl.name, value);
      }
    }
  }

  /** FROM lines see global ARGs and the platform ARGs. */
  private readonly globalLookup = (name: string): string | undefined => this.globalArgs.get(name) ?? this.platformArgs.get(name);

  fail(at: SourceRange, what: string): never {
    throw new DockerfileError(this.file, at.startLine, what);
  }

  readonly warnings: string[] = [];
  warn(at: SourceRange, what: string): void {
    this.warnings.push(`${this.file}:${at.startLine}: ${what}`);
  }

  opOptions(s: StageState, what: string): OpOptions {
    return {
      platform: s.platform,
      description: { 'llb.customname': `[${this.prefix(s.platform, s.env)}${s.label}${s.step}/${s.steps}] ${what}` },
      ...(this.opts.noCache ? { ignoreCache: true } : {}),
    };
  }

  context(include?: string[]): Output {
    return local('context', {
      // As BuildKit's frontend: follow paths, so a link a COPY names brings its target along.
      ...(include && include.length ? { followPaths: include } : {}),
      ...(this.opts.ignorePatterns.length ? { excludePatterns: this.opts.ignorePatterns } : {}),
      sharedKeyHint: 'context',
    });
  }

  /**
   * Finds the stage a `--from` of stage `from` names: by its name in any case, or for COPY
   * (`byNumber`) also by its number, as BuildKit reads them (a mount's `from=1` is the image `1`).
   */
  private stageRef(ref: string, from: Stage, at: SourceRange, what: string, byNumber: boolean): Stage | undefined {
    const all = this.df.stages;
    let target: Stage | undefined;
    if (byNumber && /^[+-]?\d+$/.test(ref)) {
      target = all[Number(ref)];
      if (!target) this.fail(at, `${what}=${ref}: there is no stage ${ref} (stages are numbered 0 to ${all.length - 1})`);
    } else {
      target = all.find((st) => st.name === ref.toLowerCase());
    }
    if (!target) return undefined;
    if (target.index === from.index) this.fail(at, `${what}=${ref}: a stage cannot refer to itself`);
    if (target.index > from.index) {
      this.fail(at, `${what}=${ref}: stage '${target.name ?? target.index}' is defined later (line ${target.from.range.startLine}); only earlier stages can be used`);
    }
    return target;
  }

  async resolveFrom(ref: string, s: StageState, at: SourceRange, flag: string, byNumber: boolean): Promise<State> {
    const st = this.stageRef(ref, s.stage, at, flag, byNumber);
    if (st) return (await this.compileStage(st.index)).state;
    return image(this.normalise(ref, at), { platform: s.platform });
  }

  private normalise(ref: string, at: SourceRange): string {
    try {
      return formatReference(parseReference(ref));
    } catch (err) {
      if (!isUserError(err)) throw err;
      return this.fail(at, err.message);
    }
  }

  private prefix(platform: Platform, env?: StageState['env']): string {
    return this.opts.prefixPlatform ? platformPrefix(platform, env) : '';
  }

  /** `name ` in progress names like `[build 2/4] RUN make`; nothing for a one-stage file. */
  private label(stage: Stage): string {
    return this.df.stages.length > 1 ? `${stage.name ?? `stage-${stage.index}`} ` : '';
  }

  compileStage(index: number): Promise<StageState> {
    let p = this.stages.get(index);
    if (!p) {
      p = this.runStage(this.df.stages[index]!);
      this.stages.set(index, p);
    }
    return p;
  }

  private async baseOf(stage: Stage, platform: Platform): Promise<{ state: State; config: ImageConfig; platform: Platform; env?: [string, string][]; args?: StageState['args']; triggers?: Instruction[] }> {
    const from = stage.from;
    const name = this.expand.word(from.image, this.globalLookup, from.range);
    if (name === '') this.fail(from.range, `FROM: the base image name '${from.image}' expands to nothing; set the ARG it uses (with --build-arg or a default)`);
    if (name.toLowerCase() === 'scratch') return { state: null, config: scratchConfig(platform), platform };
    // Only the names of earlier stages: this stage's own name is not known yet (`FROM gcc AS gcc`
    // is the image gcc), and a number is an image name (`FROM 1` is docker.io/library/1).
    const parent = this.df.stages.slice(0, stage.index).find((st) => st.name === name);
    if (parent) {
      const ps = await this.compileStage(parent.index);
      const config = cloneConfig(ps.config);
      return { state: ps.state, config, platform: from.platform ? platform : ps.platform, env: ps.env, args: ps.args, triggers: this.takeTriggers(config, name) };
    }
    const ref = this.normalise(name, from.range);
    const resolved = await this.opts.resolveImage?.(ref, platform);
    const config = resolved?.config ? cloneConfig(resolved.config) : emptyConfig(platform);
    const triggers = this.takeTriggers(config, name);
    const description = { 'llb.customname': `[${this.prefix(platform)}${this.label(stage)}1/${stage.instructions.length + triggers.length + 1}] FROM ${ref}` };
    return { state: image(resolved?.ref ?? ref, { platform, description }), config, platform, triggers };
  }

  /** The ONBUILD triggers of a base (image or stage): they run first in this stage and are not inherited. */
  private takeTriggers(config: ImageConfig, base: string): Instruction[] {
    const triggers = parseTriggers(config.config.OnBuild ?? [], base, this.df.directives.escape);
    delete config.config.OnBuild;
    return triggers;
  }

  private async runStage(stage: Stage): Promise<StageState> {
    const from = stage.from;
    let platform = this.opts.targetPlatform;
    if (from.platform) {
      const spec = this.expand.word(from.platform, this.globalLookup, from.range);
      try {
        platform = parsePlatform(spec);
      } catch (err) {
        if (!isUserError(err)) throw err;
        this.fail(from.range, `FROM --platform: ${err.message}`);
      }
    }
    const base = await this.baseOf(stage, platform);
    this.sourceMap.locate(base.state, from.range);
    // ONBUILD triggers come from the base image's config, not from this file: their ops point at the FROM.
    const triggers = new Set(base.triggers);
    const s: StageState = {
      stage,
      label: this.label(stage),
      step: 1,
      steps: stage.instructions.length + (base.triggers?.length ?? 0) + 1,
      state: base.state,
      config: withDefaultPath(base.config),
      platform: base.platform,
      // A stage built on a stage sees its ARGs too (BuildKit carries them into RUN's history).
      args: new Map(base.args ?? []),
      env: [...(base.env ?? [])],
      shell: base.config.config.Shell ?? DEFAULT_SHELL,
      cmdSet: false,
      usedBuildArgs: this.consumed,
    };
    // The base's WorkingDir is applied as a WORKDIR would be, as BuildKit does (a relative one,
    // which no builder writes, thus lands under itself).
    const wd = s.config.config.WorkingDir;
    if (wd) s.config.config.WorkingDir = normalizeWorkdir(wd, wd);
    // A stage built on a stage keeps its environment (ARG values included), then the config's.
    for (const [k, v] of envPairs(s.config.config.Env)) assignEnv(s, k, v);
    for (const ins of [...(base.triggers ?? []), ...stage.instructions]) {
      s.step++;
      if (dispatchConfig(this, s, ins)) continue;
      switch (ins.kind) {
        case 'run':
          await dispatchRun(this, s, ins);
          break;
        case 'copy':
        case 'add':
          await dispatchCopy(this, s, ins);
          break;
        case 'workdir':
          dispatchWorkdir(this, s, ins);
          break;
        default:
          this.fail(ins.range, `${ins.kind.toUpperCase()} cannot be used here`);
      }
      this.sourceMap.locate(s.state, triggers.has(ins) ? from.range : ins.range);
    }
    return s;
  }

  unusedBuildArgs(): string[] {
    return [...this.buildArgs.keys()].filter((k) => !this.consumed.has(k) && !PREDEFINED.has(k)).sort();
  }
}

function findTarget(df: ParsedDockerfile, target: string | undefined, file: string): Stage {
  if (target === undefined) return df.stages[df.stages.length - 1]!;
  const st = df.stages.find((s) => s.name === target.toLowerCase());
  if (!st) {
    const names = df.stages.filter((s) => s.name).map((s) => s.name);
    throw new DockerfileError(file, 0, `target stage '${target}' could not be found${names.length ? ` (stages: ${names.join(', ')})` : ' (no stage has a name; name one with FROM … AS name)'}`);
  }
  return st;
}

export async function compileDockerfile(df: ParsedDockerfile, opts: CompileOptions): Promise<CompileResult> {
  const target = findTarget(df, opts.target, opts.file);
  const c = new Compiler(df, opts);
  const s = await c.compileStage(target.index);
  const warnings = [...c.warnings, ...c.unusedBuildArgs().map((k) => `build-arg ${k} was not consumed by any ARG of the stages built`)];
  return {
    definition: definition(s.state, { source: c.sourceMap.source() }),
    root: s.state,
    config: s.config,
    target: { index: target.index, ...(target.name ? { name: target.name } : {}) },
    platform: s.platform,
    warnings,
  };
}
