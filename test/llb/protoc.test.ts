// Field numbers checked by an independent decoder: protoc reads our bytes with ops.proto
// (--decode=pb.Op) and without any schema (--decode_raw, which shows only field numbers), so
// a wrong number in ops.proto or in the codec shows up as a wrong path in the raw tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { definition, exec, file, git, http, image, local } from '../../solver/llb/builder.js';
import { marshalDefinition } from '../../solver/llb/marshal.js';

const ROOT = path.resolve(fileURLToPath(import.meta.url), '../../../..');
const PROTO = path.join(ROOT, 'solver/llb/ops.proto');
const MAX_U64 = '18446744073709551615'; // -1 as an int64 varint, which --decode_raw shows unsigned

function protoc(args: string[], input: Uint8Array): string {
  const r = spawnSync('protoc', [...args], { input, cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `protoc ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

const decode = (bytes: Uint8Array, type = 'pb.Op'): string => protoc([`--decode=${type}`, `--proto_path=${path.dirname(PROTO)}`, PROTO], bytes);

/** The --decode_raw text as a tree: field number → list of values (strings) or subtrees. */
interface Raw { [field: string]: (string | Raw)[] }

function raw(bytes: Uint8Array): Raw {
  const rootNode: Raw = {};
  const stack: Raw[] = [rootNode];
  for (const line of protoc(['--decode_raw'], bytes).split('\n')) {
    const t = line.trim();
    if (!t) continue;
    const top = stack[stack.length - 1]!;
    if (t === '}') stack.pop();
    else if (t.endsWith(' {')) {
      const child: Raw = {};
      (top[t.slice(0, -2)] ??= []).push(child);
      stack.push(child);
    } else {
      const i = t.indexOf(': ');
      (top[t.slice(0, i)] ??= []).push(t.slice(i + 2));
    }
  }
  return rootNode;
}

/** Follows a path of field numbers (each taking the first occurrence unless `n:k` says which). */
function at(tree: Raw, ...fields: string[]): string | Raw {
  let node: string | Raw = tree;
  for (const f of fields) {
    const [num, idx] = f.split(':');
    assert.ok(typeof node === 'object', `path ${fields.join('/')} goes through a scalar`);
    const list: (string | Raw)[] | undefined = node[num!];
    assert.ok(list, `no field ${num} on path ${fields.join('/')}: ${JSON.stringify(node)}`);
    node = list[Number(idx ?? 0)]!;
  }
  return node;
}

const linux = { os: 'linux', architecture: 'amd64' };

test('source ops: identifier 1, attrs 2 (key 1, value 2), platform 10 with its five fields, constraints 11', () => {
  const img = image('docker.io/library/alpine:3.20', {
    platform: { os: 'linux', architecture: 'arm64', variant: 'v8', 'os.version': '10.0', 'os.features': ['win32k'] },
    attrs: { 'image.resolvemode': 'pull' },
  });
  const r = raw(img.vertex.marshal());
  assert.equal(at(r, '3', '1'), '"docker-image://docker.io/library/alpine:3.20"');
  assert.equal(at(r, '3', '2', '1'), '"image.resolvemode"');
  assert.equal(at(r, '3', '2', '2'), '"pull"');
  assert.deepEqual(at(r, '10'), { 1: ['"arm64"'], 2: ['"linux"'], 3: ['"v8"'], 4: ['"10.0"'], 5: ['"win32k"'] });
  assert.deepEqual(r['11'], ['""']);
  const text = decode(img.vertex.marshal());
  for (const line of ['identifier: "docker-image://docker.io/library/alpine:3.20"', 'key: "image.resolvemode"', 'Architecture: "arm64"', 'OS: "linux"', 'Variant: "v8"', 'OSVersion: "10.0"', 'OSFeatures: "win32k"', 'constraints {']) {
    assert.ok(text.includes(line), `missing ${line} in\n${text}`);
  }

  const ctx = local('context', { includePatterns: ['src'], excludePatterns: ['*.md'], followPaths: ['Dockerfile'], sharedKeyHint: 'context', differ: 'metadata' });
  const lr = raw(ctx.vertex.marshal());
  assert.equal(at(lr, '3', '1'), '"local://context"');
  assert.equal(lr['10'], undefined, 'a local source has no platform');
  const attrs = Object.fromEntries((at(lr, '3') as Raw)['2']!.map((e) => [(e as Raw)['1']![0], (e as Raw)['2']![0]]));
  assert.deepEqual(attrs, {
    '"local.differ"': '"metadata"',
    '"local.excludepatterns"': '"[\\"*.md\\"]"',
    '"local.followpaths"': '"[\\"Dockerfile\\"]"',
    '"local.includepattern"': '"[\\"src\\"]"',
    '"local.sharedkeyhint"': '"context"',
  });

  const h = raw(http('https://example.com/a.tgz', { checksum: 'sha256:' + '0'.repeat(64), filename: 'a.tgz', chmod: 0o755 }).vertex.marshal());
  assert.equal(at(h, '3', '1'), '"https://example.com/a.tgz"');
  assert.equal((at(h, '3') as Raw)['2']!.length, 3);
  const g = raw(git('https://github.com/moby/buildkit.git', 'v0.12.0', { keepGitDir: true }).vertex.marshal());
  assert.equal(at(g, '3', '1'), '"git://github.com/moby/buildkit.git#v0.12.0"');
});

test('exec op: meta 1, mounts 2 with every mount type, network 3, security 4, secretenv 5', () => {
  const base = image('docker.io/library/alpine:latest', { platform: linux });
  const ctx = local('context');
  const r = exec({
    args: ['sh', '-c', 'make'], env: ['PATH=/usr/bin'], cwd: '/src', user: 'build', hostname: 'box',
    root: base, network: 'host', security: 'insecure', validExitCodes: [0, 3], platform: linux,
    mounts: [
      { dest: '/src', input: ctx, readonly: true, selector: '/app' },
      { dest: '/root/.cache', input: null, type: 'cache', cache: { id: 'gocache', sharing: 'locked' } },
      { dest: '/tmp', input: null, type: 'tmpfs', tmpfs: { size: 65536 } },
      { dest: '/run/secrets/npmrc', input: null, type: 'secret', secret: { id: 'npmrc', uid: 1000, gid: 1001, mode: 0o440, optional: true } },
      { dest: '/run/ssh.sock', input: null, type: 'ssh', ssh: { id: 'default', mode: 0o600 } },
      { dest: '/out', input: null },
    ],
    secretEnv: [{ id: 'tok', name: 'TOKEN', optional: true }],
  });
  const bytes = r.root.vertex.marshal();
  const t = raw(bytes);
  assert.equal(at(t, '1:0', '1'), `"${base.digest()}"`);
  assert.equal(at(t, '1:1', '1'), `"${ctx.digest()}"`);
  const meta = at(t, '2', '1') as Raw;
  assert.deepEqual(meta['1'], ['"sh"', '"-c"', '"make"']);
  assert.deepEqual(meta['2'], ['"PATH=/usr/bin"', '"SSH_AUTH_SOCK=/run/ssh.sock"']);
  assert.deepEqual([meta['3'], meta['4'], meta['7'], meta['11']], [['"/src"'], ['"build"'], ['"box"'], ['1']]);
  assert.ok(meta['12'], 'validExitCodes (12) present');
  // Sorted by dest: / /out /root/.cache /src /tmp, then the secret, then the ssh socket.
  const mounts = (at(t, '2') as Raw)['2'] as Raw[];
  assert.deepEqual(mounts.map((m) => m['3']![0]), ['"/"', '"/out"', '"/root/.cache"', '"/src"', '"/tmp"', '"/run/secrets/npmrc"', '"/run/ssh.sock"']);
  const [root, out, cache, src, tmp, secret, ssh] = mounts as [Raw, Raw, Raw, Raw, Raw, Raw, Raw];
  assert.deepEqual(root, { 3: ['"/"'] }); // input 0, output 0, BIND: all defaults
  assert.deepEqual(out, { 1: [MAX_U64], 3: ['"/out"'], 4: ['1'] });
  assert.deepEqual(cache, { 1: [MAX_U64], 3: ['"/root/.cache"'], 4: [MAX_U64], 6: ['3'], 20: [{ 1: ['"gocache"'], 2: ['2'] }] });
  assert.deepEqual(src, { 1: ['1'], 2: ['"/app"'], 3: ['"/src"'], 4: [MAX_U64], 5: ['1'] });
  assert.deepEqual(tmp, { 1: [MAX_U64], 3: ['"/tmp"'], 4: [MAX_U64], 6: ['4'], 19: [{ 1: ['65536'] }] });
  assert.deepEqual(secret, { 1: [MAX_U64], 3: ['"/run/secrets/npmrc"'], 6: ['1'], 21: [{ 1: ['"npmrc"'], 2: ['1000'], 3: ['1001'], 4: ['288'], 5: ['1'] }] });
  assert.deepEqual(ssh, { 1: [MAX_U64], 3: ['"/run/ssh.sock"'], 6: ['2'], 22: [{ 1: ['"default"'], 4: ['384'] }] });
  assert.deepEqual([at(t, '2', '3'), at(t, '2', '4')], ['1', '1']);
  assert.deepEqual(at(t, '2', '5'), { 1: ['"tok"'], 2: ['"TOKEN"'], 3: ['1'] });

  const text = decode(bytes);
  for (const line of ['mountType: CACHE', 'sharing: LOCKED', 'mountType: TMPFS', 'TmpfsOpt {', 'mountType: SECRET', 'secretOpt {', 'mountType: SSH', 'SSHOpt {', 'network: HOST', 'security: INSECURE', 'secretenv {', 'validExitCodes: 0', 'validExitCodes: 3', 'removeMountStubsRecursive: true', 'selector: "/app"', 'readonly: true']) {
    assert.ok(text.includes(line), `missing ${line} in\n${text}`);
  }
});

test('file op: actions 2 with copy 4, mkfile 5, mkdir 6, rm 7, symlink 8 and chown by name and id', () => {
  const base = image('docker.io/library/alpine:latest', { platform: linux });
  const ctx = local('context');
  const f = file(base, [
    { copy: { from: ctx, src: '/app', dest: '/srv/', owner: { user: { name: 'app' }, group: { id: 0 } }, mode: 0o755, followSymlink: true, dirCopyContents: true, attemptUnpackDockerCompatibility: true, createDestPath: true, allowWildcard: true, allowEmptyWildcard: true, timestamp: 1_700_000_000_000_000_000, includePatterns: ['*.js'], excludePatterns: ['test'], alwaysReplaceExistingDestPaths: true, modeStr: 'u+x', requiredPaths: ['package.json'] } },
    { mkfile: { path: '/etc/motd', mode: 0o644, data: new TextEncoder().encode('hi\n'), owner: { user: { id: 1000 } }, timestamp: 5 } },
    { mkdir: { path: '/var/app', mode: 0o750, makeParents: true, owner: { group: { name: 'staff' } } } },
    { rm: { path: '/tmp/x', allowNotFound: true, allowWildcard: true } },
    { symlink: { oldpath: '../lib', newpath: '/srv/lib', owner: { user: { id: 1 } }, timestamp: 7 } },
  ]);
  const bytes = f.vertex.marshal();
  const t = raw(bytes);
  assert.equal(t['10'], undefined, 'file ops carry no platform');
  assert.deepEqual(t['11'], ['""']);
  const actions = (at(t, '4') as Raw)['2'] as Raw[];
  assert.equal(actions.length, 5);
  // Action 0 reads input 0 (the base) and input 1 (the context); later ones read the previous
  // action at 2 + (i-1); only the last has output 0 (absent).
  assert.deepEqual(actions.map((a) => [a['1']?.[0] ?? '0', a['2']?.[0] ?? '0', a['3']?.[0] ?? '0']), [
    ['0', '1', MAX_U64], ['2', MAX_U64, MAX_U64], ['3', MAX_U64, MAX_U64], ['4', MAX_U64, MAX_U64], ['5', MAX_U64, '0'],
  ]);
  const copy = at(actions[0]!, '4') as Raw;
  assert.deepEqual(Object.keys(copy).map(Number).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
  assert.deepEqual(copy['3'], [{ 1: [{ 1: [{ 1: ['"app"'] }] }], 2: [{ 2: ['0'] }] }]);
  assert.deepEqual([copy['4'], copy['11'], copy['15'], copy['16']], [['493'], ['1700000000000000000'], ['"u+x"'], ['"package.json"']]);
  assert.deepEqual(at(actions[1]!, '5'), { 1: ['"/etc/motd"'], 2: ['420'], 3: ['"hi\\n"'], 4: [{ 1: [{ 2: ['1000'] }] }], 5: ['5'] });
  assert.deepEqual(at(actions[2]!, '6'), { 1: ['"/var/app"'], 2: ['488'], 3: ['1'], 4: [{ 2: [{ 1: [{ 1: ['"staff"'] }] }] }], 5: [MAX_U64] });
  assert.deepEqual(at(actions[3]!, '7'), { 1: ['"/tmp/x"'], 2: ['1'], 3: ['1'] });
  assert.deepEqual(at(actions[4]!, '8'), { 1: ['"../lib"'], 2: ['"/srv/lib"'], 3: [{ 1: [{ 2: ['1'] }] }], 4: ['7'] });

  const text = decode(bytes);
  for (const line of ['copy {', 'mkfile {', 'mkdir {', 'rm {', 'symlink {', 'byName {', 'byID: 0', 'modeStr: "u+x"', 'required_paths: "package.json"', 'include_patterns: "*.js"', 'exclude_patterns: "test"', 'alwaysReplaceExistingDestPaths: true', 'oldpath: "../lib"', 'timestamp: -1', 'mode: 493']) {
    assert.ok(text.includes(line), `missing ${line} in\n${text}`);
  }
});

test('terminal op and Definition: the last op holds only inputs[0]; def 1, metadata 2', () => {
  const img = image('docker.io/library/busybox:latest', { platform: linux, description: { 'llb.customname': 'FROM busybox' } });
  const def = definition(img);
  assert.equal(def.def.length, 2);
  assert.deepEqual(raw(def.def[1]!), { 1: [{ 1: [`"${img.digest()}"`] }] });
  const bytes = marshalDefinition(def);
  const t = raw(bytes);
  assert.equal(t['1']!.length, 2);
  assert.deepEqual(t['2'], [{ 1: [`"${img.digest()}"`], 2: [{ 2: [{ 1: ['"llb.customname"'], 2: ['"FROM busybox"'] }] }] }]);
  const text = decode(bytes, 'pb.Definition');
  assert.ok(text.includes('key: "llb.customname"') && text.includes('value: "FROM busybox"'), text);
});
