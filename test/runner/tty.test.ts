// tty containers through runContainer on a busybox rootfs: the pty comes from the container's own
// devpts, takes the caller's size and follows its resizes, carries typed input; the cgroup is named
// by the caller's id; sweepCgroups removes only empty cgroups.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { detectHierarchies, sweepCgroups } from '../../runner/cgroups.js';
import { runContainer } from '../../runner/run.js';
import type { ContainerSpec } from '../../runner/spec.js';
import type { CallerTerminal, TerminalSize } from '../../runner/tty.js';
import { busyboxMissing, makeRootfs, mountsUnder, type Fixture } from './busybox-rootfs.js';

/** A terminal whose size the test sets, as a resized window would. */
class TestTerminal implements CallerTerminal {
  private readonly events = new EventEmitter();
  constructor(public size: TerminalSize) {}
  onResize(listener: (size: TerminalSize) => void): () => void {
    this.events.on('resize', listener);
    return () => this.events.off('resize', listener);
  }
  resize(size: TerminalSize): void {
    this.size = size;
    this.events.emit('resize', size);
  }
}

let fx: Fixture;

async function run(spec: Partial<ContainerSpec> & { args: string[] }, io: Parameters<typeof runContainer>[1] = {}) {
  let stdout = '';
  const result = await runContainer(
    { rootfs: fx.rootfs, env: [], cwd: '/', network: 'none', tty: true, ...spec },
    { ...io, stdout: (c) => ((stdout += c.toString()), io.stdout?.(c)) },
  );
  return { ...result, stdout };
}

describe('tty containers', { skip: busyboxMissing }, () => {
  after(async () => {
    if (fx) {
      assert.deepEqual(await mountsUnder(fx.dir), []);
      await fx.cleanup();
    }
  });

  it("gives a pty of the container's own devpts, owned by the container's user, at the caller's size", async () => {
    fx = await makeRootfs();
    const terminal = new TestTerminal({ rows: 30, columns: 100 });
    const out = await run(
      { args: ['sh', '-c', 'tty; stty size; readlink /proc/self/fd/1; ls /dev/pts | tr "\\n" " "; echo; stat -c %u /dev/pts/0'], user: 'tester' },
      { terminal },
    );
    assert.equal(out.exitCode, 0, out.stdout);
    assert.deepEqual(out.stdout.split('\r\n').slice(0, 5), ['/dev/pts/0', '30 100', '/dev/pts/0', '0 ptmx ', '1000']);
  });

  it("follows the caller's terminal when it is resized", async () => {
    const terminal = new TestTerminal({ rows: 30, columns: 100 });
    const script = 'stty size; while [ "$(stty size)" = "30 100" ]; do sleep 0.05; done; stty size';
    const out = await run({ args: ['sh', '-c', script] }, {
      terminal,
      stdout: (c) => {
        if (c.toString().includes('30 100')) terminal.resize({ rows: 50, columns: 132 });
      },
    });
    assert.equal(out.exitCode, 0, out.stdout);
    assert.equal(out.stdout, '30 100\r\n50 132\r\n');
  });

  it('carries typed input through the pty, which echoes it, and ends with the typed exit code', async () => {
    const input = new Readable({ read() {} });
    let sent = false;
    const out = await run({ args: ['sh'], stdin: true }, {
      stdin: input,
      stdout: (c) => {
        // Typed only once the shell prompts, as a user would.
        if (!sent && c.toString().includes('# ')) {
          sent = true;
          input.push('echo typed-$((2+3))\nexit 3\n');
        }
      },
    });
    assert.equal(out.exitCode, 3);
    assert.match(out.stdout, /echo typed-\$\(\(2\+3\)\)\r\n/, 'the pty echoes what was typed');
    assert.match(out.stdout, /\r\ntyped-5\r\n/);
  });

  it('passes the end of input on as the EOF character, so a reader of the pty ends', { timeout: 20_000 }, async () => {
    const out = await run({ args: ['cat'], stdin: true }, { stdin: Readable.from([Buffer.from('partial')]) });
    assert.equal(out.exitCode, 0);
    assert.match(out.stdout, /partial/);
  });

  it("names the container's cgroup by the caller's id and leaves none behind", async () => {
    const id = `tty-test-${randomBytes(4).toString('hex')}`;
    const out = await run({ args: ['cat', '/proc/self/cgroup'], tty: false }, { id });
    assert.equal(out.exitCode, 0);
    assert.match(out.stdout, new RegExp(`:/kiln/${id}$`, 'm'));
    for (const h of new Set([...(await detectHierarchies()).values()].map((x) => x.mountpoint))) {
      await assert.rejects(stat(`${h}/kiln/${id}`), { code: 'ENOENT' });
    }
  });
});

describe('sweepCgroups', () => {
  it('removes an empty kiln cgroup, and one with a process only once the process is gone', async () => {
    const mountpoints = [...new Set([...(await detectHierarchies()).values()].map((h) => h.mountpoint))];
    assert.ok(mountpoints.length > 0);
    const empty = `sweep-test-${randomBytes(4).toString('hex')}`;
    const busy = `sweep-test-${randomBytes(4).toString('hex')}`;
    for (const mp of mountpoints) {
      await mkdir(`${mp}/kiln/${empty}`, { recursive: true });
      await mkdir(`${mp}/kiln/${busy}`, { recursive: true });
    }
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    await new Promise((r) => sleeper.once('spawn', r));
    await writeFile(`${mountpoints[0]}/kiln/${busy}/cgroup.procs`, String(sleeper.pid));
    try {
      const removed = await sweepCgroups([empty, busy]);
      assert.deepEqual(removed.sort(), mountpoints.map((mp) => `${mp}/kiln/${empty}`).concat(mountpoints.slice(1).map((mp) => `${mp}/kiln/${busy}`)).sort());
      assert.ok((await readdir(`${mountpoints[0]}/kiln`)).includes(busy), 'a cgroup with a live process stays');
    } finally {
      sleeper.kill('SIGKILL');
      await new Promise((r) => sleeper.once('exit', r));
    }
    assert.deepEqual(await sweepCgroups([busy]), [`${mountpoints[0]}/kiln/${busy}`]);
  });
});
