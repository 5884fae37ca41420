// Container records (names, ids, state across processes), the command line's Docker rules, the
// container log, and flags that stop at the image — on real files, no containers run here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ContainerStore, liveState, type NewContainer } from '../../runner/containers.js';
import { containerArgs, mergeEnv } from '../../runner/command-line.js';
import { parseBytes, parseEnvFile, parseTmpfs, parseVolume, envEntry } from '../../cli/run-flags.js';
import { LogWriter, readLog, type LogEntry } from '../../runner/container-log.js';
import { parseSignal } from '../../runner/container-signal.js';
import { firstPositional, parseLeadingFlags } from '../../cli/leading-flags.js';

const input: NewContainer = {
  image: 'busybox',
  manifestDigest: 'sha256:' + '1'.repeat(64),
  configDigest: 'sha256:' + '2'.repeat(64),
  spec: { rootfs: '/', args: ['sh'], env: [], cwd: '/', network: 'host' },
  runtime: 'kiln',
  autoRemove: false,
};

async function withRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'kiln-containers-'));
  try {
    await fn(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test('create writes config.json and state.json under a 64-hex id; names are unique', () =>
  withRoot(async (root) => {
    const store = new ContainerStore(root);
    const a = await store.create(input, 'web');
    assert.match(a.config.id, /^[a-f0-9]{64}$/);
    assert.equal(a.config.snapshot, `container-${a.config.id}`);
    const onDisk = JSON.parse(await readFile(path.join(root, 'containers', a.config.id, 'config.json'), 'utf8'));
    assert.equal(onDisk.name, 'web');
    assert.deepEqual(JSON.parse(await readFile(path.join(root, 'containers', a.config.id, 'state.json'), 'utf8')), { status: 'created' });
    await assert.rejects(store.create(input, 'web'), (e: Error & { code?: string }) => e.code === 'KILN_CONTAINER_NAME_IN_USE' && /"web" is already in use/.test(e.message));
    const b = await store.create(input);
    assert.match(b.config.name, /^[a-z]+_[a-z]+/);
    assert.notEqual(b.config.name, 'web');
    assert.equal((await readdir(path.join(root, 'containers'))).filter((n) => n.startsWith('.')).filter((n) => !n.endsWith('.lock')).length, 0);
  }));

test('concurrent creates with one name: exactly one wins', () =>
  withRoot(async (root) => {
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => new ContainerStore(root).create(input, 'same')));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    assert.equal((await new ContainerStore(root).list()).length, 1);
  }));

test('get finds by id, name and unique prefix; an ambiguous prefix and a missing name are errors', () =>
  withRoot(async (root) => {
    const store = new ContainerStore(root);
    const a = await store.create(input, 'one');
    const b = await store.create(input, 'two');
    assert.equal((await store.get('one')).config.id, a.config.id);
    assert.equal((await store.get(b.config.id)).config.name, 'two');
    assert.equal((await store.get(a.config.id.slice(0, 12))).config.name, 'one');
    await assert.rejects(store.get('three'), { code: 'KILN_CONTAINER_NOT_FOUND' });
    // 17 ids over 16 hex digits: two must share their first digit.
    const ids = [a.config.id, b.config.id];
    for (let i = 0; i < 15; i++) ids.push((await store.create(input)).config.id);
    const digit = ids.map((id) => id[0]!).find((d, i, all) => all.indexOf(d) !== i)!;
    await assert.rejects(store.get(digit), { code: 'KILN_CONTAINER_AMBIGUOUS' });
    await store.remove(a.config.id);
    await assert.rejects(store.get('one'), { code: 'KILN_CONTAINER_NOT_FOUND' });
  }));

test('a running state whose supervisor is dead reads as exited', () =>
  withRoot(async (root) => {
    const store = new ContainerStore(root);
    const { config } = await store.create(input, 'x');
    await store.markRunning(config.id);
    assert.equal((await store.state(config.id)).status, 'running');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    await store.updateState(config.id, (s) => ({ ...s, pid: dead, owner: `${dead}.1` }));
    const s = await store.state(config.id);
    assert.equal(s.status, 'exited');
    assert.equal(s.exitCode, 255);
    assert.equal(liveState({ status: 'exited', exitCode: 3 }).exitCode, 3);
  }));

test('ENTRYPOINT/CMD: args replace CMD, --entrypoint resets CMD, empty is an error', () => {
  const img = { Entrypoint: ['/bin/echo', 'ep'], Cmd: ['default'] };
  assert.deepEqual(containerArgs(img, { cmd: [] }, 'i'), ['/bin/echo', 'ep', 'default']);
  assert.deepEqual(containerArgs(img, { cmd: ['x', 'y'] }, 'i'), ['/bin/echo', 'ep', 'x', 'y']);
  assert.deepEqual(containerArgs(img, { entrypoint: 'ls', cmd: [] }, 'i'), ['ls']);
  assert.deepEqual(containerArgs(img, { entrypoint: 'ls', cmd: ['/'] }, 'i'), ['ls', '/']);
  assert.deepEqual(containerArgs({ Cmd: ['/bin/sh', '-c', 'echo hi'] }, { cmd: [] }, 'i'), ['/bin/sh', '-c', 'echo hi']);
  assert.deepEqual(containerArgs({ Cmd: ['sh'] }, { entrypoint: '', cmd: ['id'] }, 'i'), ['id']);
  assert.throws(() => containerArgs({ Cmd: ['sh'] }, { entrypoint: '', cmd: [] }, 'img'), { code: 'KILN_RUN_NO_COMMAND' });
  assert.throws(() => containerArgs({}, { cmd: [] }, 'img'), /image img has no ENTRYPOINT or CMD/);
});

test('environment: image Env, then env file, then -e, by key; KEY alone passes our value', () => {
  const fromFile = parseEnvFile('# comment\n\nA=file\n  B=x y\nHOMEISH\nUNSET\n', 'f.env', { HOMEISH: 'h' });
  assert.deepEqual(fromFile, ['A=file', 'B=x y', 'HOMEISH=h']);
  assert.equal(envEntry('-e', 'NOPE', {}), undefined);
  assert.equal(envEntry('-e', 'P', { P: 'v' }), 'P=v');
  assert.throws(() => envEntry('-e', 'A B=1', {}), /contains whitespaces/);
  assert.throws(() => parseEnvFile('ok=1\nbad key=2\n', 'f.env', {}), /--env-file f\.env:2/);
  assert.deepEqual(mergeEnv(['PATH=/bin', 'A=image'], [...fromFile, 'A=flag']), ['PATH=/bin', 'A=flag', 'B=x y', 'HOMEISH=h']);
});

test('-v and --tmpfs specs', () => {
  assert.deepEqual(parseVolume('/host:/c:ro', '/cwd'), { type: 'bind', source: '/host', target: '/c', readonly: true });
  assert.deepEqual(parseVolume('./rel:/c', '/cwd'), { type: 'bind', source: '/cwd/rel', target: '/c', readonly: false });
  for (const bad of ['nope', '/a:/b:rx', 'named:/data', '/a:rel', '/a:/b:ro:x', ':/b']) {
    assert.throws(() => parseVolume(bad, '/'), (e: Error & { code?: string }) => e.code === 'KILN_RUN_INVALID_FLAG' && e.message.startsWith(`-v "${bad}"`) && !e.message.includes('\n'), bad);
  }
  assert.deepEqual(parseTmpfs('/run:size=1m,mode=1777'), { type: 'tmpfs', target: '/run', options: ['size=1m', 'mode=1777'] });
  assert.throws(() => parseTmpfs('run'), { code: 'KILN_RUN_INVALID_FLAG' });
});

test('sizes and signals', () => {
  assert.equal(parseBytes('--memory', '64m'), 64 * 1024 * 1024);
  assert.equal(parseBytes('--memory', '1.5g'), 1.5 * 1024 ** 3);
  assert.equal(parseBytes('--memory', '512'), 512);
  assert.equal(parseBytes('--memory-swap', '-1', true), -1);
  assert.throws(() => parseBytes('--memory', 'lots'), { code: 'KILN_RUN_INVALID_FLAG' });
  assert.equal(parseSignal('KILL'), 'SIGKILL');
  assert.equal(parseSignal('sigterm'), 'SIGTERM');
  assert.equal(parseSignal('9'), 'SIGKILL');
  assert.throws(() => parseSignal('NOPE'), { code: 'KILN_UNKNOWN_SIGNAL' });
});

test('flags stop at the first positional: the rest is the command, dashes included', () => {
  const opts = { detach: { type: 'boolean', short: 'd' }, env: { type: 'string', short: 'e', multiple: true }, tty: { type: 'boolean', short: 't' }, name: { type: 'string' } } as const;
  assert.equal(firstPositional(['-d', '-e', 'A=1', '--name', 'x', 'img', '-e', 'B'], opts), 5);
  assert.equal(firstPositional(['-dt', '-eA=1', '--name=x', 'img'], opts), 3);
  assert.equal(firstPositional(['-de', 'A=1', 'img'], opts), 2);
  const { values, rest } = parseLeadingFlags(['-d', '-e', 'A=1', 'busybox', 'ls', '-la', '--name', 'y'], opts);
  assert.equal(values.detach, true);
  assert.deepEqual(values.env, ['A=1']);
  assert.equal(values.name, undefined);
  assert.deepEqual(rest, ['busybox', 'ls', '-la', '--name', 'y']);
  assert.deepEqual(parseLeadingFlags(['--', '-img'], opts).rest, ['-img']);
  assert.throws(() => parseLeadingFlags(['--bogus', 'img'], opts), /bogus/);
});

test('the log keeps lines of both streams in order; tail and follow read it back', () =>
  withRoot(async (root) => {
    const file = path.join(root, 'log.jsonl');
    const w = new LogWriter(file);
    w.write('stdout', Buffer.from('one\ntw'));
    w.write('stderr', Buffer.from('err\n'));
    w.write('stdout', Buffer.from('o\nthree'));
    await w.close();
    const all: LogEntry[] = [];
    await readLog(file, (e) => all.push(e));
    assert.deepEqual(all.map((e) => [e.stream, e.log]), [['stdout', 'one\n'], ['stderr', 'err\n'], ['stdout', 'two\n'], ['stdout', 'three']]);
    const tail: string[] = [];
    await readLog(file, (e) => tail.push(e.log), { tail: 2 });
    assert.deepEqual(tail, ['two\n', 'three']);

    const live = path.join(root, 'live.jsonl');
    const w2 = new LogWriter(live);
    let done = false;
    const seen: string[] = [];
    const following = readLog(live, (e) => seen.push(e.log), { until: async () => done, pollMs: 10 });
    w2.write('stdout', Buffer.from('a\n'));
    await new Promise((r) => setTimeout(r, 50));
    w2.write('stdout', Buffer.from('b\n'));
    await w2.close();
    done = true;
    await following;
    assert.deepEqual(seen, ['a\n', 'b\n']);
  }));
