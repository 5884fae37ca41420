// resolveUser against passwd/group text, case by case as runc resolves them and BuildKit passes them on.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGroup, parsePasswd, resolveUser } from '../../runner/user.js';
import { UnknownUserError } from '../../runner/errors.js';

const passwd = parsePasswd(
  ['# comment', 'root:x:0:0:root:/root:/bin/sh', 'self:x:5:5::/:/bin/sh', 'app:x:1000:1000::/home/app:/bin/sh', '2000:x:3000:3000::/weird:/bin/sh', 'broken:x:notanumber:0::/:'].join('\n'),
);
const groups = parseGroup(['root:x:0:', 'self:x:5:self', 'wheel:x:10:root,app,self', 'audio:x:29:app', 'app:x:1000:', '3000:x:77:'].join('\n'));

describe('resolveUser', () => {
  const cases: [string | undefined, { uid: number; gid: number; groups: number[]; home: string }][] = [
    [undefined, { uid: 0, gid: 0, groups: [0, 10], home: '/root' }],
    ['', { uid: 0, gid: 0, groups: [0, 10], home: '/root' }],
    ['app', { uid: 1000, gid: 1000, groups: [1000, 10, 29], home: '/home/app' }],
    ['1000', { uid: 1000, gid: 1000, groups: [1000, 10, 29], home: '/home/app' }],
    ['app:audio', { uid: 1000, gid: 29, groups: [29], home: '/home/app' }],
    ['app:29', { uid: 1000, gid: 29, groups: [29], home: '/home/app' }],
    ['1000:5555', { uid: 1000, gid: 5555, groups: [5555], home: '/home/app' }],
    ['4242', { uid: 4242, gid: 0, groups: [0], home: '/' }],
    ['4242:4343', { uid: 4242, gid: 4343, groups: [4343], home: '/' }],
    // The primary group is always a supplementary one (BuildKit, containerd); a user listed in its own
    // primary group has it once.
    ['self', { uid: 5, gid: 5, groups: [5, 10], home: '/' }],
    // Numeric arguments are ids, even where a name looks like one.
    ['2000', { uid: 2000, gid: 0, groups: [0], home: '/' }],
    ['0:3000', { uid: 0, gid: 3000, groups: [3000], home: '/root' }],
  ];
  for (const [arg, want] of cases) {
    it(`resolves ${JSON.stringify(arg)}`, () => assert.deepEqual(resolveUser(arg, passwd, groups), want));
  }

  it('refuses unknown names and malformed specs with a typed error', () => {
    for (const bad of ['ghost', 'app:ghosts', 'a:b:c', ':10', 'app:', '99999999999']) {
      assert.throws(() => resolveUser(bad, passwd, groups), (e: unknown) => e instanceof UnknownUserError && e.code === 'KILN_RUN_UNKNOWN_USER', bad);
    }
    assert.throws(() => resolveUser('ghost', passwd, groups), /unable to find user ghost: no matching entries in passwd file/);
  });

  it('skips malformed lines and works without any files', () => {
    assert.equal(passwd.find((p) => p.name === 'broken'), undefined);
    assert.deepEqual(resolveUser('7:8', [], []), { uid: 7, gid: 8, groups: [8], home: '/' });
    assert.deepEqual(resolveUser(undefined, [], []), { uid: 0, gid: 0, groups: [0], home: '/' });
  });
});
