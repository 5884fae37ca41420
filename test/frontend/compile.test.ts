// The Dockerfile compiler: ARG/ENV scoping, config rules, stage references and pruning, and the
// LLB it emits for RUN/COPY/ADD/WORKDIR, read back from the marshaled Definition.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from '../../frontend/dockerfile.js';
import { compileDockerfile, type CompileOptions, type CompileResult } from '../../frontend/compile.js';
import { DockerfileError } from '../../frontend/errors.js';
import { unmarshalOp } from '../../solver/llb/marshal.js';
import type { ExecOp, FileOp, Op } from '../../solver/llb/types.js';
import type { ImageConfig } from '../../oci/image-spec.js';

const amd64 = { architecture: 'amd64', os: 'linux' };

async function compile(text: string, opts: Partial<CompileOptions> = {}): Promise<CompileResult> {
  return compileDockerfile(parseDockerfile(text, 'Dockerfile'), {
    file: 'Dockerfile',
    buildArgs: new Map(),
    targetPlatform: amd64,
    buildPlatform: amd64,
    ignorePatterns: [],
    ...opts,
  });
}

function ops(r: CompileResult): Op[] {
  return r.definition.def.map((b) => unmarshalOp(b));
}
function execs(r: CompileResult): ExecOp[] {
  return ops(r).flatMap((o) => (o.exec ? [o.exec] : []));
}
function files(r: CompileResult): FileOp[] {
  return ops(r).flatMap((o) => (o.file ? [o.file] : []));
}
function sources(r: CompileResult): string[] {
  return ops(r).flatMap((o) => (o.source ? [o.source.identifier ?? ''] : []));
}

async function rejectsAt(text: string, line: number, pattern: RegExp, opts: Partial<CompileOptions> = {}): Promise<void> {
  await assert.rejects(compile(text, opts), (err: unknown) => {
    assert.ok(err instanceof DockerfileError, String(err));
    assert.equal(err.line, line, err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

test('global ARGs reach FROM but a stage sees them only after re-declaring', async () => {
  const r = await compile('ARG IMG=busybox\nARG V=1\nFROM ${IMG}:${V}\nRUN echo a-$V\nARG V\nENV E=$V\nLABEL l=$IMG\n');
  assert.deepEqual(sources(r), ['docker-image://docker.io/library/busybox:1']);
  assert.ok(r.config.config.Env?.includes('E=1'));
  assert.equal(r.config.config.Labels?.l, '', 'IMG was not re-declared in the stage');
});

test('--build-arg overrides defaults; ENV wins over ARG; RUN sees ARGs in its env but the image does not', async () => {
  const r = await compile('FROM scratch\nARG A=def\nARG B=b\nENV B=env\nRUN true\nLABEL a=$A b=$B\n', { buildArgs: new Map([['A', 'cli'], ['B', 'cli-b']]) });
  assert.equal(r.config.config.Labels?.a, 'cli');
  assert.equal(r.config.config.Labels?.b, 'env');
  const env = execs(r)[0]!.meta!.env!;
  assert.ok(env.includes('A=cli'));
  assert.ok(env.includes('B=env'));
  assert.ok(!env.includes('B=cli-b'));
  assert.ok(!(r.config.config.Env ?? []).some((e) => e.startsWith('A=')));
  assert.deepEqual(r.warnings, []);
});

test('an unused --build-arg gives a warning; a changed arg changes only the ops that use it', async () => {
  const df = 'FROM scratch\nCOPY a /a\nARG X\nRUN echo $X\n';
  const a = await compile(df, { buildArgs: new Map([['X', '1'], ['UNUSED', 'u']]) });
  assert.deepEqual(a.warnings, ['build-arg UNUSED was not consumed by any ARG of the stages built']);
  const b = await compile(df, { buildArgs: new Map([['X', '2']]) });
  const da = a.definition.def.map((x) => Buffer.from(x).toString('hex'));
  const db = b.definition.def.map((x) => Buffer.from(x).toString('hex'));
  const shared = da.filter((x) => db.includes(x));
  assert.equal(shared.length, 2, 'the context source and the COPY stay the same');
  assert.notDeepEqual(da, db);
});

test('platform ARGs: automatic in global scope, declared inside stages, FROM --platform', async () => {
  const r = await compile('FROM --platform=$BUILDPLATFORM busybox AS b\nARG TARGETARCH\nARG BUILDOS\nRUN echo $TARGETARCH $BUILDOS\n', { targetPlatform: { architecture: 'arm64', os: 'linux' } });
  const env = execs(r)[0]!.meta!.env!;
  assert.ok(env.includes('TARGETARCH=arm64'));
  assert.ok(env.includes('BUILDOS=linux'));
  const img = ops(r).find((o) => o.source)!;
  assert.equal(img.platform?.architecture, 'amd64', 'FROM --platform=$BUILDPLATFORM picks the build platform');
});

test('shell and JSON forms, SHELL, CMD reset by ENTRYPOINT only when inherited', async () => {
  const base: ImageConfig = { architecture: 'amd64', os: 'linux', config: { Cmd: ['base-cmd'], Env: ['PATH=/bin', 'FROM_BASE=1'] }, rootfs: { type: 'layers', diff_ids: [] } };
  const resolveImage = async (ref: string) => ({ ref, config: base });
  const r = await compile('FROM base\nENTRYPOINT ["/e"]\n', { resolveImage });
  assert.equal(r.config.config.Cmd, null);
  assert.ok(r.config.config.Env?.includes('FROM_BASE=1'));
  assert.ok(!r.config.config.Env?.some((e) => e.startsWith('PATH=/usr/local')), 'the base PATH is kept');
  const r2 = await compile('FROM base\nCMD ["c"]\nENTRYPOINT /e arg\n', { resolveImage });
  assert.deepEqual(r2.config.config.Cmd, ['c']);
  assert.deepEqual(r2.config.config.Entrypoint, ['/bin/sh', '-c', '/e arg']);
  const r3 = await compile('FROM scratch\nSHELL ["/bin/bash", "-eu", "-c"]\nRUN echo hi\nCMD echo $HOME\n');
  assert.deepEqual(execs(r3)[0]!.meta!.args, ['/bin/bash', '-eu', '-c', 'echo hi']);
  assert.deepEqual(r3.config.config.Cmd, ['/bin/bash', '-eu', '-c', 'echo $HOME']);
  assert.ok(r3.config.config.Env?.[0]?.startsWith('PATH=/usr/local/sbin'), 'scratch gets the default PATH');
});

test('config instructions: EXPOSE ranges, VOLUME, USER, WORKDIR chains, STOPSIGNAL, HEALTHCHECK, ONBUILD, MAINTAINER', async () => {
  const r = await compile([
    'FROM scratch', 'ENV P=8080', 'EXPOSE 80 $P/tcp 53/udp 9000-9002', 'VOLUME ["/data", "/logs"]', 'VOLUME /cache',
    'WORKDIR /app', 'WORKDIR sub', 'USER 1000:1000', 'STOPSIGNAL SIGQUIT', 'MAINTAINER me <me@x>',
    'HEALTHCHECK --interval=30s --retries=3 CMD wget -q localhost', 'ONBUILD RUN echo hi',
  ].join('\n'));
  const c = r.config.config;
  assert.deepEqual(Object.keys(c.ExposedPorts ?? {}).sort(), ['53/udp', '80/tcp', '8080/tcp', '9000/tcp', '9001/tcp', '9002/tcp']);
  assert.deepEqual(Object.keys(c.Volumes ?? {}).sort(), ['/cache', '/data', '/logs']);
  assert.equal(c.WorkingDir, '/app/sub');
  assert.equal(c.User, '1000:1000');
  assert.equal(c.StopSignal, 'SIGQUIT');
  assert.equal(r.config.author, 'me <me@x>');
  assert.deepEqual(c.Healthcheck, { Test: ['CMD-SHELL', 'wget -q localhost'], Interval: 30e9, Retries: 3 });
  assert.deepEqual(c.OnBuild, ['RUN echo hi']);
  const mkdirs = files(r).flatMap((f) => f.actions ?? []).map((a) => a.mkdir?.path);
  assert.deepEqual(mkdirs, ['/app', '/app/sub']);
  await rejectsAt('FROM scratch\nEXPOSE 70000\n', 2, /port/);
  await rejectsAt('FROM scratch\nSTOPSIGNAL SIGNOPE\n', 2, /not a signal/);
});

test('RUN: mounts, network, security, heredoc with a shebang runs as a mounted file', async () => {
  const r = await compile([
    'FROM busybox AS tools',
    'FROM busybox',
    'RUN --mount=type=cache,target=/root/.cache,sharing=locked --mount=type=bind,from=tools,source=/bin,target=/t --mount=type=tmpfs,target=/tmp,size=1m --mount=type=secret,id=tok --network=none --security=insecure make',
    'RUN <<EOF',
    '#!/usr/bin/env python3',
    'print("hi")',
    'EOF',
  ].join('\n'));
  const [run, heredoc] = execs(r);
  assert.equal(run!.network, 2, 'NONE');
  assert.equal(run!.security, 1, 'INSECURE');
  const byDest = new Map((run!.mounts ?? []).map((m) => [m.dest, m]));
  assert.equal(byDest.get('/root/.cache')?.mountType, 3);
  assert.equal(byDest.get('/root/.cache')?.cacheOpt?.id, '//root/.cache', "BuildKit's '<namespace>/<id>' with the target as id");
  assert.equal(byDest.get('/root/.cache')?.cacheOpt?.sharing, 2);
  assert.equal(byDest.get('/t')?.selector, '/bin');
  assert.equal(byDest.get('/t')?.readonly, true);
  assert.equal(byDest.get('/tmp')?.mountType, 4);
  assert.equal(Number(byDest.get('/tmp')?.tmpfsOpt?.size), 1024 * 1024);
  assert.equal(byDest.get('/run/secrets/tok')?.mountType, 1);
  assert.deepEqual(heredoc!.meta!.args, ['/dev/pipes/EOF']);
  assert.ok((heredoc!.mounts ?? []).some((m) => m.dest === '/dev/pipes/' && m.readonly));
  const script = files(r).flatMap((f) => f.actions ?? []).find((a) => a.mkfile);
  assert.equal(Buffer.from(script!.mkfile!.data!).toString(), '#!/usr/bin/env python3\nprint("hi")\n');
  await rejectsAt('FROM scratch\nRUN --network=bridge true\n', 2, /network/);
});

test('COPY/ADD: context include patterns, .dockerignore excludes, chown/chmod, --from stage/index/image, heredoc files', async () => {
  const r = await compile([
    'FROM busybox AS a',
    'FROM scratch',
    'WORKDIR /w',
    'COPY --chown=10:app --chmod=640 x.txt dir/ ./',
    'COPY --from=a /bin/busybox /bb',
    'COPY --from=0 /etc /etc2',
    'COPY --from=alpine:3 /etc/os-release /os',
    'COPY --chmod=u+x <<EOF /run.sh',
    'echo $HOME',
    'EOF',
    'ADD --checksum=sha256:0000000000000000000000000000000000000000000000000000000000000000 https://example.com/f.tgz /f/',
  ].join('\n'), { ignorePatterns: ['*.log'] });
  const local = ops(r).find((o) => o.source?.identifier === 'local://context')!;
  assert.equal(local.source!.attrs!['local.followpaths'], '["x.txt","dir"]');
  assert.equal(local.source!.attrs!['local.includepattern'], undefined);
  assert.equal(local.source!.attrs!['local.excludepatterns'], '["*.log"]');
  const copies = files(r).flatMap((f) => f.actions ?? []).flatMap((a) => (a.copy ? [a.copy] : []));
  const first = copies.find((c) => c.src === '/x.txt')!;
  assert.equal(first.dest, '/w/');
  assert.equal(first.mode, 0o640);
  assert.deepEqual(first.owner?.user?.byId, 10);
  assert.equal(first.owner?.group?.byName?.name, 'app');
  assert.ok(copies.some((c) => c.src === '/bin/busybox' && c.dest === '/bb'));
  assert.ok(copies.some((c) => c.src === '/EOF' && c.dest === '/run.sh' && c.modeStr === 'u+x'));
  assert.ok(sources(r).includes('docker-image://docker.io/library/alpine:3'));
  assert.ok(sources(r).includes('https://example.com/f.tgz'));
  const mkfile = files(r).flatMap((f) => f.actions ?? []).find((a) => a.mkfile);
  assert.equal(Buffer.from(mkfile!.mkfile!.data!).toString(), 'echo \n', 'unquoted heredoc delimiters expand');
  const many = await compile('FROM scratch\nWORKDIR /w\nCOPY a b c\n');
  assert.deepEqual(files(many).at(-1)!.actions!.map((a) => a.copy?.dest), ['/w/c', '/w/c'], 'both onto the same path, as BuildKit copies them');
  assert.deepEqual(many.warnings, ["Dockerfile:3: COPY has 2 sources and the destination 'c' does not end in '/': each is copied onto it in turn, so the last one wins unless it is an existing directory; end it with '/' to copy them all into a directory"]);
  await rejectsAt('FROM scratch\nCOPY --chmod=abc a /b\n', 2, /--chmod=abc/);
  await rejectsAt('FROM scratch\nADD --checksum=sha256:00 a /b\n', 2, /http/);
});

test('stage references: index out of range, self, later; --target picks and prunes', async () => {
  await rejectsAt('FROM scratch\nCOPY --from=5 /a /b\n', 2, /no stage 5/);
  await rejectsAt('FROM scratch AS me\nCOPY --from=me /a /b\n', 2, /itself/);
  await rejectsAt('FROM scratch AS a\nCOPY --from=b /x /y\nFROM scratch AS b\n', 2, /defined later/, { target: 'a' });
  // FROM sees only earlier stages: a later stage's name is an image name.
  const later = await compile('FROM scratch AS a\nFROM a AS b\nFROM b\nFROM c AS d\nFROM scratch AS c\n', { target: 'd' });
  assert.deepEqual(sources(later), ['docker-image://docker.io/library/c:latest']);
  const df = 'FROM busybox AS one\nRUN echo one\nFROM busybox AS two\nRUN echo two\nFROM one\nRUN echo three\n';
  const r = await compile(df);
  const cmds = execs(r).map((e) => e.meta!.args!.at(-1));
  assert.deepEqual(cmds.sort(), ['echo one', 'echo three'], 'stage two is not reached');
  const t = await compile(df, { target: 'two' });
  assert.deepEqual(execs(t).map((e) => e.meta!.args!.at(-1)), ['echo two']);
  await assert.rejects(compile(df, { target: 'nope' }), /target stage 'nope' could not be found \(stages: one, two\)/);
  await rejectsAt('ARG X\nFROM $X\n', 2, /expands to nothing/);
});

test('FROM looks up only the names of earlier stages; COPY --from also takes numbers, a mount from= does not', async () => {
  // A number after FROM is an image name (here from a build arg), never a stage index.
  const byArg = await compile('ARG BASE\nFROM busybox\nRUN echo zero\nFROM ${BASE}\n', { buildArgs: new Map([['BASE', '1']]) });
  assert.deepEqual(sources(byArg), ['docker-image://docker.io/library/1:latest']);
  // A stage's own name is registered after its base is looked up.
  const own = await compile('FROM gcc AS gcc\nRUN make\n');
  assert.deepEqual(sources(own), ['docker-image://docker.io/library/gcc:latest']);
  const again = await compile('FROM busybox AS gcc\nRUN echo first\nFROM gcc AS gcc2\nRUN echo second\n');
  assert.deepEqual(sources(again), ['docker-image://docker.io/library/busybox:latest'], 'an earlier stage by that name is the stage');
  // Stage names are lower case; FROM compares the name as written (BuildKit then rejects the reference).
  await rejectsAt('FROM busybox AS Build\nFROM Build\n', 2, /lowercase/);
  // COPY --from: a number is the stage of that index, a name is matched in any case.
  const copy = await compile('FROM busybox AS Build\nRUN echo zero\nFROM scratch\nCOPY --from=0 /a /a\nCOPY --from=BUILD /b /b\n');
  assert.deepEqual(sources(copy), ['docker-image://docker.io/library/busybox:latest']);
  // RUN --mount from=: names only, so from=0 is the image 0.
  const mount = await compile('FROM busybox AS zero\nFROM busybox\nRUN --mount=from=0,target=/m true\nRUN --mount=from=ZERO,target=/n true\n');
  assert.deepEqual(sources(mount).sort(), ['docker-image://docker.io/library/0:latest', 'docker-image://docker.io/library/busybox:latest']);
});

test('RUN mounts without a target, or with a relative one, go under the WORKDIR; one resolving to / is an error', async () => {
  const r = await compile([
    'FROM busybox AS x', 'FROM busybox', 'WORKDIR /w/',
    'RUN --mount=type=bind,from=x,source=/data true',
    'RUN --mount=type=bind,from=x,target=rel true',
    'RUN --mount=type=cache,target=c/ true',
    'RUN --mount=type=tmpfs,target=../t true',
    'RUN --mount=type=secret,id=s,target=sec true',
    'RUN --mount=type=cache,target=/abs/ true',
  ].join('\n'));
  const mounts = execs(r).map((e) => e.mounts!.filter((m) => m.dest !== '/'));
  assert.deepEqual(mounts.map((ms) => ms.map((m) => m.dest)), [['/w'], ['/w/rel'], ['/w/c'], ['/t'], ['/w/sec'], ['/abs/']]);
  // A cache's default id is its target as written, cleaned (BuildKit's "/" + path.Clean(target)).
  assert.deepEqual([mounts[2]![0]!.cacheOpt?.id, mounts[5]![0]!.cacheOpt?.id], ['/c', '//abs']);
  await rejectsAt('FROM busybox AS x\nFROM busybox\nRUN --mount=type=bind,from=x true\n', 3, /invalid mount target "\/" \(type=bind, no target, WORKDIR \/\)/);
  await rejectsAt('FROM busybox\nWORKDIR /w\nRUN --mount=type=cache,target=.. true\n', 3, /invalid mount target "\/"/);
  await rejectsAt('FROM busybox\nRUN --mount=type=tmpfs true\n', 2, /invalid mount target/);
});

test('WORKDIR keeps an absolute path as written (config, history, RUN cwd), cleans a joined one, mkdirs the clean path', async () => {
  const steps = ['/usr/src/', 'app/', '../x//y/', '//a//b/./', '/c/.', 'd/.'];
  const r = await compile(['FROM busybox', ...steps.flatMap((w) => [`WORKDIR ${w}`, 'RUN pwd'])].join('\n'));
  const want = ['/usr/src/', '/usr/src/app', '/usr/src/x/y', '//a//b/./', '/c/.', '/c/d'];
  assert.deepEqual(execs(r).map((e) => e.meta!.cwd), want);
  assert.deepEqual(files(r).map((f) => f.actions![0]!.mkdir!.path), ['/usr/src', '/usr/src/app', '/usr/src/x/y', '/a/b', '/c', '/c/d']);
  assert.equal(r.config.config.WorkingDir, '/c/d');
  assert.deepEqual(r.config.history!.filter((h) => h.created_by!.startsWith('WORKDIR')).map((h) => h.created_by), want.map((w) => `WORKDIR ${w}`));
  // A path that expands to nothing keeps the current directory.
  const empty = await compile('FROM busybox\nWORKDIR /a/\nARG X\nWORKDIR $X\n');
  assert.equal(empty.config.config.WorkingDir, '/a/');
});

test('FROM scratch starts from BuildKit\'s empty config: WorkingDir / and the default PATH', async () => {
  const r = await compile('FROM scratch\nCOPY f /f\n');
  assert.deepEqual(r.config.config, { WorkingDir: '/', Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] });
});

test('a stage built FROM a stage runs that stage\'s ONBUILD triggers first and does not inherit them; ONBUILD writes no history', async () => {
  const r = await compile('FROM busybox AS base\nONBUILD RUN echo triggered\nONBUILD ENV T=1\nRUN echo base\nFROM base AS mid\nRUN echo mid\nFROM mid\nRUN echo last\n');
  assert.deepEqual(execs(r).map((e) => e.meta!.args!.at(-1)), ['echo base', 'echo triggered', 'echo mid', 'echo last']);
  assert.ok(execs(r)[2]!.meta!.env!.includes('T=1'));
  assert.equal(r.config.config.OnBuild, undefined);
  assert.deepEqual(r.config.history!.map((h) => h.created_by), [
    'RUN /bin/sh -c echo base # buildkit', 'RUN /bin/sh -c echo triggered # buildkit', 'ENV T=1', 'RUN /bin/sh -c echo mid # buildkit', 'RUN /bin/sh -c echo last # buildkit',
  ]);
  const base = await compile('FROM busybox AS base\nONBUILD RUN echo triggered\nFROM base\n', { target: 'base' });
  assert.deepEqual(base.config.config.OnBuild, ['RUN echo triggered']);
});

test("a base image's ONBUILD triggers run first in the stage and are not inherited", async () => {
  const base: ImageConfig = { architecture: 'amd64', os: 'linux', config: { OnBuild: ['ENV FROM_TRIGGER=1', 'RUN echo triggered'] }, rootfs: { type: 'layers', diff_ids: [] } };
  const r = await compile('FROM base\nRUN echo mine\n', { resolveImage: async (ref) => ({ ref, config: base }) });
  assert.deepEqual(execs(r).map((e) => e.meta!.args!.at(-1)), ['echo triggered', 'echo mine']);
  assert.ok(execs(r)[1]!.meta!.env!.includes('FROM_TRIGGER=1'));
  assert.equal(r.config.config.OnBuild, undefined);
  const bad: ImageConfig = { ...base, config: { OnBuild: ['NOPE x'] } };
  await assert.rejects(compile('FROM base\n', { resolveImage: async (ref) => ({ ref, config: bad }) }), /base \(ONBUILD\):1: unknown instruction: NOPE/);
});

test('proxy --build-args reach RUN as proxy_env, not as env or history', async () => {
  const r = await compile('FROM scratch\nRUN true\n', { buildArgs: new Map([['HTTP_PROXY', 'http://p:3128'], ['no_proxy', 'localhost']]) });
  const meta = execs(r)[0]!.meta!;
  assert.deepEqual(meta.proxyEnv, { httpProxy: 'http://p:3128', noProxy: 'localhost' });
  assert.ok(!meta.env!.some((e) => /proxy/i.test(e)));
  assert.ok(!JSON.stringify(r.config.history).includes('3128'));
  assert.deepEqual(r.warnings, [], 'proxy args are predefined, never "unused"');
});
