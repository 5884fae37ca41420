// COPY, ADD and WORKDIR: the file ops, with BuildKit's copy semantics.
import path from 'node:path';
import { file, git, http, merge, type ChownOpt, type CopySpec, type FileActionSpec, type State, type UserOpt } from '../solver/llb/builder.js';
import type { InstructionOf, SourceRange } from './instructions.js';
import type { CompileContext } from './compile-context.js';
import { stageLookup, type StageState } from './stage-state.js';
import { addHistory } from './image-config.js';
import { parseHeredocWord } from './heredoc.js';
import { normalizeWorkdir } from './workdir.js';
import { cleanPath } from '../patterns/clean-path.js';

const SYMBOLIC_MODE = /^([ugoa]*[-+=]([rwxXst]*|[ugo]))(,[ugoa]*[-+=]([rwxXst]*|[ugo]))*$/;

/** As BuildKit's llb.WithUser: a number or `root` is an id, anything else a name looked up later. */
function userOpt(part: string): UserOpt {
  if (part === 'root') return { id: 0 };
  return /^\d+$/.test(part) ? { id: Number(part) } : { name: part };
}

/** `--chown=user[:group]`, names or ids. */
export function parseChown(value: string): ChownOpt | undefined {
  if (value === '') return undefined;
  const [user, group] = value.split(':', 2) as [string, string | undefined];
  const out: ChownOpt = { user: userOpt(user) };
  if (group !== undefined && group !== '') out.group = userOpt(group);
  return out;
}

/** `--chmod`: octal sets `mode`, symbolic (`u+x,g-w`) goes to `modeStr` for the solver to apply. */
export function parseChmod(ctx: CompileContext, value: string, at: SourceRange): Partial<Pick<CopySpec, 'mode' | 'modeStr'>> {
  if (/^[0-7]{3,4}$/.test(value)) return { mode: parseInt(value, 8) };
  if (SYMBOLIC_MODE.test(value)) return { modeStr: value };
  return ctx.fail(at, `--chmod=${value}: use an octal mode like 755 or a symbolic one like u+x,go-w`);
}

function isUrl(src: string): boolean {
  return /^https?:\/\//i.test(src);
}

/** Git sources as ADD accepts them: `git@host:repo`, `git://…`, or an http(s) URL ending in `.git` (with `#ref:subdir`). */
function parseGit(src: string): { remote: string; ref?: string; subdir?: string } | undefined {
  const [remote, fragment] = src.split('#', 2) as [string, string | undefined];
  const isGit = /^git@[^:]+:/.test(remote) || /^git:\/\//.test(remote) || (/^https?:\/\//.test(remote) && /\.git$/.test(remote));
  if (!isGit) return undefined;
  const [ref, subdir] = (fragment ?? '').split(':', 2);
  return { remote, ...(ref ? { ref } : {}), ...(subdir ? { subdir } : {}) };
}

/** A COPY source as an include pattern of the context: relative, cleaned, no trailing slash. */
function contextPattern(src: string): string {
  return path.posix.normalize(src).replace(/^\/+/, '').replace(/\/+$/, '') || '.';
}

/** Where a relative path lands: under the stage's WORKDIR. */
function underWorkdir(s: StageState, p: string): string {
  return path.posix.isAbsolute(p) ? p : path.posix.join('/', s.config.config.WorkingDir || '/', p);
}

export async function dispatchCopy(ctx: CompileContext, s: StageState, ins: InstructionOf<'copy' | 'add'>): Promise<void> {
  const lookup = stageLookup(s);
  const x = (w: string) => ctx.expand.word(w, lookup, ins.range);
  const isAdd = ins.kind === 'add';
  const heredocNames = new Map(ins.heredocs.map((h) => [h.name, h]));
  const sources = ins.sources.filter((src) => !parseHeredocWord(src)).map(x);
  const heredocs = ins.sources.flatMap((src) => {
    const h = heredocNames.get(parseHeredocWord(src)?.name ?? '');
    return h ? [h] : [];
  });
  const rawDest = x(ins.dest);
  const count = sources.length + heredocs.length;
  if (count > 1 && !rawDest.endsWith('/')) {
    // BuildKit builds it: every source is copied to the same path in turn.
    ctx.warn(ins.range, `${ins.kind.toUpperCase()} has ${count} sources and the destination '${rawDest}' does not end in '/': each is copied onto it in turn, so the last one wins unless it is an existing directory; end it with '/' to copy them all into a directory`);
  }
  let dest = underWorkdir(s, rawDest);
  if (rawDest === '.' || rawDest === '' || rawDest.endsWith('/')) dest = dest.endsWith('/') ? dest : dest + '/';

  const owner = ins.chown !== undefined ? parseChown(x(ins.chown)) : undefined;
  const chmod = ins.chmod !== undefined ? parseChmod(ctx, x(ins.chmod), ins.range) : {};
  // BuildKit links only without --chmod; with it the copy stays an ordinary file op on the stage.
  const link = ins.link && ins.chmod === undefined;
  if (link && owner && ((owner.user && 'name' in owner.user) || (owner.group && 'name' in owner.group))) {
    // The linked copy is made on scratch, which has no /etc/passwd to look a name up in.
    ctx.fail(ins.range, `${ins.kind.toUpperCase()} --link cannot use --chown=${x(ins.chown!)}: names need the stage's /etc/passwd and /etc/group, which a linked copy does not see; use numeric ids (--chown=UID:GID) or drop --link`);
  }
  const excludes = ins.excludes.map(x);
  if (!isAdd && (ins.checksum !== undefined || ins.keepGitDir !== undefined)) ctx.fail(ins.range, 'COPY does not take --checksum or --keep-git-dir (they are ADD flags)');

  // BuildKit takes --from as written: a word that any expansion would change ($VAR, quotes) is refused.
  if (ins.from !== undefined && ctx.expand.word(ins.from, () => undefined, ins.range) !== ins.from) {
    ctx.fail(ins.range, `${ins.kind.toUpperCase()} --from=${ins.from}: variable expansion is not supported for --from; define a stage with FROM using a global ARG (ARG X before the first FROM, then FROM \${X} AS name) and copy --from=name`);
  }
  const from: State | undefined = ins.from !== undefined ? await ctx.resolveFrom(ins.from, s, ins.range, '--from', true) : undefined;
  const local = sources.filter((src) => !(isAdd && (isUrl(src) || parseGit(src))));
  // The context is read once per COPY and only for the paths it names (issue: content-based keys).
  // A source naming the whole context (`.`, `/`) selects everything: no include pattern at all.
  const patterns = local.map(contextPattern);
  const contextSource = from === undefined && local.length > 0 ? ctx.context(patterns.includes('.') ? undefined : patterns) : undefined;

  const actions: FileActionSpec[] = [];
  const common = { ...(owner ? { owner } : {}), ...chmod };
  for (const src of sources) {
    const g = isAdd ? parseGit(src) : undefined;
    if (g) {
      const st = git(g.remote, g.ref, { ...(ins.keepGitDir ? { keepGitDir: true } : {}), ...(g.subdir ? { subdir: g.subdir } : {}) });
      actions.push({ copy: { from: st, src: '/', dest, ...common, createDestPath: true, ...(excludes.length ? { excludePatterns: excludes } : {}) } });
      continue;
    }
    if (isAdd && isUrl(src)) {
      const name = path.posix.basename(new URL(src).pathname) || '__unnamed__';
      const checksum = ins.checksum !== undefined ? x(ins.checksum) : undefined;
      const st = http(src, { filename: name, ...(checksum ? { checksum } : {}), description: ctx.opOptions(s, ins.original).description });
      actions.push({ copy: { from: st, src: name, dest, ...common, createDestPath: true } });
      continue;
    }
    if (ins.checksum !== undefined) ctx.fail(ins.range, `ADD --checksum applies to http(s) sources only, not '${src}'`);
    const srcState = from !== undefined ? from : contextSource!;
    const spec: CopySpec = {
      from: srcState,
      src: path.posix.join('/', src),
      dest,
      ...common,
      followSymlink: true,
      dirCopyContents: true,
      attemptUnpackDockerCompatibility: isAdd,
      createDestPath: true,
      allowWildcard: true,
      allowEmptyWildcard: true,
      ...(excludes.length ? { excludePatterns: excludes } : {}),
    };
    if (ins.parents) {
      // --parents keeps the source's directories: copy from the root, selecting the path.
      spec.src = '/';
      spec.includePatterns = [src.replace(/^\/+/, '')];
      spec.dirCopyContents = true;
      // Without wildcards the path must exist, as BuildKit marks it.
      if (!/[*?[]/.test(src)) spec.requiredPaths = [path.posix.join('/', src)];
    }
    actions.push({ copy: spec });
  }
  for (const h of heredocs) {
    const data = h.expand ? x(h.content) : h.content;
    const st = file(null, [{ mkfile: { path: `/${h.name}`, mode: chmod.mode ?? 0o644, data: Buffer.from(data) } }], ctx.opOptions(s, `${ins.kind.toUpperCase()} heredoc ${h.name}`));
    actions.push({ copy: { from: st, src: `/${h.name}`, dest, ...common, createDestPath: true } });
  }
  if (actions.length === 0) return;
  if (link) {
    // The copy is made on scratch, so neither its key nor its layer depends on the stage's
    // earlier steps; the merge stacks it on the stage. Both show under one progress group.
    const name = ctx.opOptions(s, ins.original);
    const group = { id: `link:${s.label}${s.step}`, name: name.description!['llb.customname']! };
    const copied = file(null, actions, { ...name, progressGroup: { ...group, weak: true } });
    s.state = merge([s.state, copied], { ...ctx.opOptions(s, `LINK ${ins.original}`), progressGroup: { ...group, weak: false } });
  } else {
    s.state = file(s.state, actions, ctx.opOptions(s, ins.original));
  }
  // BuildKit's history names --parents, --chown and --chmod (expanded), not --from, --link or --exclude.
  const chownText = ins.chown !== undefined ? x(ins.chown) : '';
  const chmodText = ins.chmod !== undefined ? x(ins.chmod) : '';
  const flags = [...(ins.parents ? ['--parents'] : []), ...(chownText ? [`--chown=${chownText}`] : []), ...(chmodText ? [`--chmod=${chmodText}`] : [])];
  addHistory(s.config, `${[ins.kind.toUpperCase(), ...flags, ...sources, ...ins.heredocs.map((h) => h.name)].join(' ')} ${rawDest} # buildkit`, false);
}

export function dispatchWorkdir(ctx: CompileContext, s: StageState, ins: InstructionOf<'workdir'>): void {
  // A path that expands to nothing keeps the current directory (and still makes it), as in BuildKit.
  const dir = normalizeWorkdir(s.config.config.WorkingDir, ctx.expand.word(ins.path, stageLookup(s), ins.range));
  s.config.config.WorkingDir = dir;
  if (dir === '/') {
    addHistory(s.config, `WORKDIR ${dir}`, true);
    return;
  }
  const user = s.config.config.User;
  const owner = user ? parseChown(user) : undefined;
  s.state = file(s.state, [{ mkdir: { path: cleanPath(dir), mode: 0o755, makeParents: true, ...(owner ? { owner } : {}) } }], ctx.opOptions(s, ins.original));
  addHistory(s.config, `WORKDIR ${dir}`, false);
}
