// Which hierarchy holds each controller, what gets written for each limit on v1 and v2, and a real
// container cgroup created, filled with limits and removed on this machine.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ContainerCgroup, detectHierarchies, parseHierarchies, settings, sharesToWeight } from '../../runner/cgroups.js';
import { CgroupError } from '../../runner/errors.js';

const HYBRID = [
  '25 24 0:22 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw,nsdelegate',
  '26 24 0:23 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory',
  '27 24 0:24 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct',
  '28 24 0:25 / /sys/fs/cgroup/pids rw,nosuid - cgroup cgroup rw,pids',
  '29 24 0:26 / /sys/fs/cgroup/cpuset rw,nosuid - cgroup cgroup rw,cpuset',
].join('\n');
const UNIFIED = '30 24 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate';

describe('cgroup hierarchies', () => {
  it('uses v1 per-controller mounts on a hybrid machine whose unified tree holds no controller we need', () => {
    const h = parseHierarchies(HYBRID, () => ['hugetlb']);
    assert.deepEqual(h.get('memory'), { version: 1, mountpoint: '/sys/fs/cgroup/memory' });
    assert.deepEqual(h.get('cpu'), { version: 1, mountpoint: '/sys/fs/cgroup/cpu,cpuacct' });
    assert.deepEqual(h.get('pids'), { version: 1, mountpoint: '/sys/fs/cgroup/pids' });
  });

  it('uses v2 for whatever cgroup.controllers lists, v1 for the rest', () => {
    const h = parseHierarchies(`${HYBRID}\n`, (mp) => (mp === '/sys/fs/cgroup/unified' ? ['pids'] : []));
    assert.deepEqual(h.get('pids'), { version: 2, mountpoint: '/sys/fs/cgroup/unified' });
    assert.equal(h.get('memory')?.version, 1);
    const v2 = parseHierarchies(UNIFIED, () => ['cpuset', 'cpu', 'io', 'memory', 'pids']);
    assert.deepEqual([...v2.values()].map((x) => x.version), [2, 2, 2]);
  });

  it('writes Docker-compatible v1 and v2 limit files', () => {
    const limits = { memory: 64 << 20, cpus: 1.5, cpuShares: 512, pidsLimit: 100 };
    const line = (s: { file: string; value: string }) => `${s.file}=${s.value}`;
    assert.deepEqual(settings(limits, () => 1).map(line), [
      `memory.limit_in_bytes=${64 << 20}`,
      `memory.memsw.limit_in_bytes=${128 << 20}`,
      'cpu.cfs_period_us=100000',
      'cpu.cfs_quota_us=150000',
      'cpu.shares=512',
      'pids.max=100',
    ]);
    assert.deepEqual(settings({ ...limits, memorySwap: 96 << 20 }, () => 2).map(line), [
      `memory.max=${64 << 20}`,
      `memory.swap.max=${32 << 20}`,
      'cpu.max=150000 100000',
      `cpu.weight=${sharesToWeight(512)}`,
      'pids.max=100',
    ]);
    assert.deepEqual(settings({ memory: 64 << 20, memorySwap: -1, pidsLimit: 0 }, () => 2).map(line), [
      `memory.max=${64 << 20}`,
      'memory.swap.max=max',
      'pids.max=max',
    ]);
    assert.equal(sharesToWeight(2), 1);
    assert.equal(sharesToWeight(1024), 39);
    assert.equal(sharesToWeight(262144), 10000);
  });

  it('refuses limits Docker refuses', () => {
    for (const bad of [{ memory: 1024 }, { memorySwap: 1 << 30 }, { memory: 64 << 20, memorySwap: 32 << 20 }, { cpus: 0 }, { cpuShares: -1 }]) {
      assert.throws(() => settings(bad, () => 1), CgroupError, JSON.stringify(bad));
    }
  });

  it('creates kiln/<id> with the limits on this machine and removes it', async () => {
    const id = `test-${process.pid}`;
    const cg = await ContainerCgroup.create(id, { memory: 48 << 20, cpus: 0.5, cpuShares: 256, pidsLimit: 12 });
    const h = await detectHierarchies();
    const read = async (c: 'memory' | 'cpu' | 'pids', v1: string, v2: string) => {
      const hh = h.get(c)!;
      return (await readFile(path.join(hh.mountpoint, 'kiln', id, hh.version === 1 ? v1 : v2), 'utf8')).trim();
    };
    try {
      assert.ok(cg.procsFiles.length >= 1);
      assert.equal(await read('memory', 'memory.limit_in_bytes', 'memory.max'), String(48 << 20));
      assert.equal(await read('pids', 'pids.max', 'pids.max'), '12');
      assert.match(await read('cpu', 'cpu.cfs_quota_us', 'cpu.max'), /^50000( 100000)?$/);
      assert.equal(await cg.oomKilled(), false);
    } finally {
      await cg.remove();
    }
    for (const d of cg.dirs) await assert.rejects(access(d));
  });
});
