// binfmt_misc detection and Debian's formats, on the kernel's and update-binfmts' text formats:
// which handler runs which architecture, the F-flag rule, native platforms, the register line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ELF_ARCHES, assertCanRun, canRun, elfHeader, entryMatches, parseBinfmtEntry } from '../../runner/binfmt.js';
import { debianFormat, decodeBinfmtBytes, parseDebianFormat, registerLine } from '../../runner/binfmt-register.js';
import { setupBinfmt } from '../../api/binfmt.js';
import { withTmpDir } from '../helpers/tmp-dir.js';

const amd64 = { os: 'linux', architecture: 'amd64' };

// What the kernel shows for Debian's qemu-aarch64 once registered (cat /proc/sys/fs/binfmt_misc/qemu-aarch64).
const aarch64Entry = (flags: string, enabled = true): string =>
  `${enabled ? 'enabled' : 'disabled'}\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: ${flags}\noffset 0\n` +
  `magic 7f454c460201010000000000000000000200b700\nmask ffffffffffffff00fffffffffffffffffeffffff\n`;

async function fakeMount(dir: string, entries: Record<string, string>): Promise<string> {
  const mount = path.join(dir, 'binfmt_misc');
  await mkdir(mount);
  await writeFile(path.join(mount, 'status'), 'enabled\n');
  for (const [name, text] of Object.entries(entries)) await writeFile(path.join(mount, name), text);
  return mount;
}

test('an entry matches the ELF header of its architecture only', () => {
  const entry = parseBinfmtEntry('qemu-aarch64', aarch64Entry('PF'));
  assert.equal(entry.enabled, true);
  assert.equal(entry.flags, 'PF');
  assert.equal(entry.interpreter, '/usr/libexec/qemu-binfmt/aarch64-binfmt-P');
  const matched = Object.entries(ELF_ARCHES).filter(([, elf]) => entryMatches(entry, elfHeader(elf))).map(([a]) => a);
  assert.deepEqual(matched, ['arm64']);
  // The mask lets a shared object (ET_DYN, a PIE binary) through as well as ET_EXEC.
  const pie = elfHeader(ELF_ARCHES.arm64!);
  pie[16] = 3;
  assert.ok(entryMatches(entry, pie));
});

test("every format Debian's qemu-user-static ships matches the ELF header kiln holds for its architecture", async (t) => {
  for (const [arch, elf] of Object.entries(ELF_ARCHES)) {
    const text = await readFile(`/usr/share/binfmts/qemu-${elf.qemu}`, 'utf8').catch(() => undefined);
    // Debian ships none for the host's own architecture (x86_64 on amd64).
    if (text === undefined) continue;
    const f = parseDebianFormat(`qemu-${elf.qemu}`, text);
    const entry = { name: f.name, enabled: true, interpreter: f.interpreter, flags: f.flags, offset: f.offset, magic: f.magic, ...(f.mask ? { mask: f.mask } : {}) };
    const matched = Object.entries(ELF_ARCHES).filter(([, e]) => entryMatches(entry, elfHeader(e))).map(([a]) => a);
    assert.deepEqual(matched, [arch], `${f.name} matches ${matched.join(',')}`);
    t.diagnostic(`${f.name}: ${arch}`);
  }
});

test("Debian's magic syntax (\\x escapes between literal characters) and the register line", () => {
  assert.deepEqual([...decodeBinfmtBytes('\\x7fELF\\x02')], [0x7f, 0x45, 0x4c, 0x46, 0x02]);
  const f = parseDebianFormat('qemu-arm', 'package qemu-user-static\ninterpreter /usr/libexec/qemu-binfmt/arm-binfmt-P\nmagic \\x7fELF\\x01\noffset 0\nmask \\xff\\xff\\xff\\xff\\xfe\ncredentials no\nfix_binary yes\npreserve yes\n');
  assert.equal(f.flags, 'PF');
  assert.equal(registerLine(f), ':qemu-arm:M:0:\\x7f\\x45\\x4c\\x46\\x01:\\xff\\xff\\xff\\xff\\xfe:/usr/libexec/qemu-binfmt/arm-binfmt-P:PF');
  // F is always asked for: without it no container could reach the interpreter.
  assert.equal(parseDebianFormat('x', 'interpreter /i\nmagic \\x01\nfix_binary no\ncredentials yes\n').flags, 'CF');
});

test('amd64 variants and 386 run natively on amd64; other architectures need a usable handler', async () => {
  await withTmpDir('kiln-binfmt-', async (dir) => {
    const mount = await fakeMount(dir, {});
    for (const p of [amd64, { ...amd64, variant: 'v2' }, { ...amd64, variant: 'v3' }, { os: 'linux', architecture: '386' }]) {
      assert.deepEqual(await canRun(p, mount, amd64), { how: 'native' });
    }
    assert.deepEqual(await canRun({ os: 'linux', architecture: 'arm64' }, mount, amd64), { how: 'unsupported', reason: 'no binfmt_misc handler is registered for arm64', fix: 'arm64' });
    assert.equal((await canRun({ os: 'windows', architecture: 'arm64' }, mount, amd64)).how, 'unsupported');
    await assert.rejects(assertCanRun([{ os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'arm', variant: 'v7' }, amd64], mount, amd64), (err: Error & { code: string }) => {
      assert.equal(err.code, 'KILN_RUN_EMULATOR_MISSING');
      assert.match(err.message, /cannot run linux\/arm64 programs .*linux\/arm\/v7 programs/);
      assert.match(err.message, /`kiln setup binfmt --install arm64,arm` \(as root\)$/);
      return true;
    });
  });
});

test('a handler counts only when enabled and registered with the F flag', async () => {
  const arm64 = { os: 'linux', architecture: 'arm64' };
  await withTmpDir('kiln-binfmt-', async (dir) => {
    await mkdir(path.join(dir, 'a'));
    const noF = await fakeMount(path.join(dir, 'a'), { 'qemu-aarch64': aarch64Entry('P') });
    const support = await canRun(arm64, noF, amd64);
    assert.equal(support.how, 'unsupported');
    assert.match((support as { reason: string }).reason, /lacks the F \(fix-binary\) flag/);
    await mkdir(path.join(dir, 'b'));
    const disabled = await fakeMount(path.join(dir, 'b'), { 'qemu-aarch64': aarch64Entry('PF', false) });
    assert.match((await canRun(arm64, disabled, amd64) as { reason: string }).reason, /is disabled/);
    await mkdir(path.join(dir, 'c'));
    // Any name will do (binfmt-support, podman and tonistiigi/binfmt name them differently): the magic decides.
    const usable = await fakeMount(path.join(dir, 'c'), { aarch64: aarch64Entry('OCF'), 'qemu-arm': aarch64Entry('P').replace('b700', '2800') });
    const ok = await canRun(arm64, usable, amd64);
    assert.equal(ok.how, 'emulated');
    assert.equal((ok as { entry: { name: string } }).entry.name, 'aarch64');
  });
});

test('a missing qemu-user-static is one error naming the package to install', async () => {
  await withTmpDir('kiln-binfmt-', async (dir) => {
    await assert.rejects(debianFormat('arm64', dir), (err: Error & { code: string }) => {
      assert.equal(err.code, 'KILN_QEMU_MISSING');
      assert.match(err.message, new RegExp(`no QEMU emulator for arm64: ${dir}/qemu-aarch64 is missing; install it with \`apt-get install qemu-user-static\``));
      return true;
    });
    // The format is there but its interpreter is not (the package was removed, its config kept).
    await writeFile(path.join(dir, 'qemu-riscv64'), 'package qemu-user-static\ninterpreter /nonexistent/riscv64-binfmt-P\nmagic \\x7fELF\noffset 0\n');
    await assert.rejects(setupBinfmt({ install: [{ os: 'linux', architecture: 'riscv64' }], formats: dir }), /\/nonexistent\/riscv64-binfmt-P is missing; install it with `apt-get install qemu-user-static`/);
  });
});
