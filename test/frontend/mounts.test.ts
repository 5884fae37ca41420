// RUN --mount values: every key, Docker's defaults per mount type, and every way a value can be wrong.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DockerfileError, DockerfileErrorCode } from '../../frontend/errors.js';
import { parseMount, type MountSpec } from '../../frontend/mounts.js';

const range = { file: 'Dockerfile', startLine: 7, endLine: 8 };

const good: Array<[string, MountSpec, number?]> = [
  // bind: read-only unless rw
  ['target=/src', { type: 'bind', target: '/src', readonly: true }],
  ['type=bind,source=/out,target=/in,from=builder', { type: 'bind', target: '/in', source: '/out', from: 'builder', readonly: true }],
  ['type=bind,src=a,dst=/b,rw', { type: 'bind', target: '/b', source: 'a', readonly: false }],
  ['type=bind,destination=/b,readwrite=true', { type: 'bind', target: '/b', readonly: false }],
  ['type=bind,target=/b,rw=false', { type: 'bind', target: '/b', readonly: true }],
  ['TYPE=BIND,Target=/b,RO', { type: 'bind', target: '/b', readonly: true }],
  ['"type=bind","target=/with,comma"', { type: 'bind', target: '/with,comma', readonly: true }],
  ['type=bind,"target=say ""hi"""', { type: 'bind', target: 'say "hi"', readonly: true }],
  // no target: the compiler puts bind, cache and tmpfs mounts at the WORKDIR
  ['type=bind,from=x', { type: 'bind', target: '', from: 'x', readonly: true }],
  ['type=cache', { type: 'cache', target: '', readonly: false, sharing: 'shared', mode: 0o755, uid: 0, gid: 0 }],
  ['type=tmpfs,size=1m', { type: 'tmpfs', target: '', readonly: false, size: 1024 * 1024 }],
  // cache: rw, shared, 0755, root-owned (the compiler defaults the id to the target)
  ['type=cache,target=/root/.cache', { type: 'cache', target: '/root/.cache', readonly: false, sharing: 'shared', mode: 0o755, uid: 0, gid: 0 }],
  ['type=cache,target=/c,id=go,sharing=LOCKED,mode=0700,uid=1000,gid=100,ro', { type: 'cache', target: '/c', readonly: true, id: 'go', sharing: 'locked', mode: 0o700, uid: 1000, gid: 100, explicit: { owner: true } }],
  ['type=cache,target=/c,sharing=private,from=seed,source=/s,readonly=false', { type: 'cache', target: '/c', source: '/s', from: 'seed', readonly: false, sharing: 'private', mode: 0o755, uid: 0, gid: 0 }],
  // tmpfs: rw, size in bytes
  ['type=tmpfs,target=/tmp', { type: 'tmpfs', target: '/tmp', readonly: false }],
  ['type=tmpfs,target=/tmp,size=64m', { type: 'tmpfs', target: '/tmp', readonly: false, size: 64 * 1024 * 1024 }],
  ['type=tmpfs,target=/tmp,size=1.5g', { type: 'tmpfs', target: '/tmp', readonly: false, size: 1.5 * 1024 ** 3 }],
  ['type=tmpfs,target=/tmp,size=4096', { type: 'tmpfs', target: '/tmp', readonly: false, size: 4096 }],
  ['type=tmpfs,target=/tmp,size=512KiB', { type: 'tmpfs', target: '/tmp', readonly: false, size: 512 * 1024 }],
  // secret: id from target basename, target from id, 0400
  ['type=secret,id=npmrc', { type: 'secret', target: '/run/secrets/npmrc', readonly: true, id: 'npmrc', mode: 0o400, uid: 0, gid: 0, required: false }],
  ['type=secret,target=/root/.aws/credentials', { type: 'secret', target: '/root/.aws/credentials', readonly: true, id: 'credentials', mode: 0o400, uid: 0, gid: 0, required: false }],
  ['type=secret,source=tok,required', { type: 'secret', target: '/run/secrets/tok', readonly: true, id: 'tok', mode: 0o400, uid: 0, gid: 0, required: true }],
  ['type=secret,id=tok,env=TOKEN,required=false,mode=0440,uid=1,gid=2', { type: 'secret', target: '', readonly: true, id: 'tok', env: 'TOKEN', mode: 0o440, uid: 1, gid: 2, required: false, explicit: { owner: true } }],
  ['type=secret,id=a/b', { type: 'secret', target: '/run/secrets/b', readonly: true, id: 'a/b', mode: 0o400, uid: 0, gid: 0, required: false }],
  ['type=secret,id=tok,target=', { type: 'secret', target: '/run/secrets/tok', readonly: true, id: 'tok', mode: 0o400, uid: 0, gid: 0, required: false }],
  ['type=secret,id=tok,env=TOKEN,target=/t', { type: 'secret', target: '/t', readonly: true, id: 'tok', env: 'TOKEN', mode: 0o400, uid: 0, gid: 0, required: false }],
  // ssh: id default, numbered agent socket, 0600
  ['type=ssh', { type: 'ssh', target: '/run/buildkit/ssh_agent.0', readonly: true, id: 'default', mode: 0o600, uid: 0, gid: 0, required: false }],
  ['type=ssh,id=github,required=true', { type: 'ssh', target: '/run/buildkit/ssh_agent.2', readonly: true, id: 'github', mode: 0o600, uid: 0, gid: 0, required: true, explicit: { id: true } }, 2],
  ['type=ssh,target=/agent.sock,mode=0666', { type: 'ssh', target: '/agent.sock', readonly: true, id: 'default', mode: 0o666, uid: 0, gid: 0, required: false, explicit: { owner: true } }],
];

for (const [value, expected, sshIndex] of good) {
  test(`mount: ${value}`, () => {
    assert.deepStrictEqual(parseMount(value, range, sshIndex), expected);
  });
}

const bad: Array<[string, string]> = [
  ['', 'the value is empty'],
  ['type=volume,target=/x', 'unsupported mount type "volume"'],
  ['type=cahce,target=/x', 'unsupported mount type "cahce" (did you mean cache?)'],
  ['type=bind,taget=/x', 'unknown key "taget" (did you mean target?)'],
  ['type=bind,target', 'field "target" must be a key=value pair'],
  ['type=cache,target=/x,sharing=all', 'unsupported sharing value "all"'],
  ['type=bind,target=/x,sharing=shared', 'sharing is not allowed for type=bind'],
  ['type=cache,target=/x,mode=888', 'mode must be an octal number'],
  ['type=cache,target=/x,mode=0o755', 'mode must be an octal number'],
  ['type=cache,target=/x,uid=-1', 'uid must be a non-negative number'],
  ['type=cache,target=/x,gid=abc', 'gid must be a non-negative number'],
  ['type=cache,target=/x,uid=4294967296', 'uid must be a non-negative number'],
  ['type=bind,target=/x,mode=0755', 'mode is not allowed for type=bind'],
  ['type=tmpfs,target=/x,uid=1', 'uid is not allowed for type=tmpfs'],
  ['type=bind,target=/x,required', 'required is not allowed for type=bind'],
  ['type=cache,target=/x,required=true', 'required is not allowed for type=cache'],
  ['type=cache,target=/x,size=1m', 'size is not allowed for type=cache'],
  ['type=tmpfs,target=/x,size=lots', 'size must be a byte count'],
  ['type=bind,target=/x,env=A', 'env is not allowed for type=bind'],
  ['type=secret,id=a,from=stage', 'from is not allowed for type=secret'],
  ['type=secret', 'a secret mount needs id=<secret id> or target=<path>'],
  ['type=secret,env=TOKEN', 'a secret mount needs id'],
  ['type=secret,id=a,source=b', 'id and source are the same setting'],
  ['type=secret,id=a,required=maybe', 'required must be true or false, not "maybe"'],
  ['type=bind,target=/x,ro=yes', 'ro must be true or false'],
  ['type=bind,target=/x,rw=2', 'rw must be true or false'],
  ['type=bind,target=/a"b', 'a quote inside an unquoted field'],
  ['"type=bind,target=/x', 'a quoted field is not closed'],
  ['"type=bind"x,target=/x', 'extra text after a closing quote'],
];

for (const [value, message] of bad) {
  test(`mount error: ${value || '(empty)'}`, () => {
    assert.throws(() => parseMount(value, range), (err: unknown) => {
      assert.ok(err instanceof DockerfileError);
      assert.equal(err.code, DockerfileErrorCode.mount);
      assert.equal(err.line, 7);
      assert.ok(err.message.startsWith(`Dockerfile:7: invalid --mount "${value}": `), err.message);
      assert.ok(err.message.includes(message), `"${err.message}" should contain "${message}"`);
      return true;
    });
  });
}
