// `kiln import --change` parsing and application, table-driven on plain strings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChanges, splitWords } from '../../frontend/import-changes.js';
import { ImportChangeError } from '../../frontend/errors.js';
import type { ContainerConfig } from '../../oci/image-spec.js';

const cases: { name: string; base?: ContainerConfig; changes: string[]; want: ContainerConfig }[] = [
  { name: 'ENV key=value pairs, quoted, expanding earlier values', base: { Env: ['PATH=/bin'] },
    changes: ['ENV PATH=/usr/local/bin:$PATH A="x y" B=${A:-no}', 'ENV C=${A}-${UNSET:-d}'],
    want: { Env: ['PATH=/usr/local/bin:/bin', 'A=x y', 'B=no', 'C=x y-d'] } },
  { name: 'ENV legacy form keeps the rest of the line', changes: ['ENV GREETING hello there  world'],
    want: { Env: ['GREETING=hello there  world'] } },
  { name: 'ENV replaces an existing variable in place', base: { Env: ['A=1', 'B=2'] }, changes: ['env A=3'],
    want: { Env: ['A=3', 'B=2'] } },
  { name: 'an ENV value expanding to spaces stays one value; EXPOSE splits it', base: { Env: ['P=80 443'] },
    changes: ['ENV Q=$P', 'EXPOSE $P'], want: { Env: ['P=80 443', 'Q=80 443'], ExposedPorts: { '80/tcp': {}, '443/tcp': {} } } },
  { name: 'CMD exec and shell forms', changes: ['CMD ["/bin/echo","hi"]'], want: { Cmd: ['/bin/echo', 'hi'] } },
  { name: 'CMD shell form uses /bin/sh -c', changes: ['CMD echo $HOME && ls'], want: { Cmd: ['/bin/sh', '-c', 'echo $HOME && ls'] } },
  { name: 'ENTRYPOINT drops an inherited CMD', base: { Cmd: ['sh'] }, changes: ['ENTRYPOINT ["/bin/app"]'],
    want: { Cmd: null, Entrypoint: ['/bin/app'] } },
  { name: 'ENTRYPOINT keeps a CMD given with it', changes: ['CMD ["x"]', 'ENTRYPOINT /bin/app'],
    want: { Cmd: ['x'], Entrypoint: ['/bin/sh', '-c', '/bin/app'] } },
  { name: 'WORKDIR relative to the previous one', changes: ['WORKDIR /srv', 'WORKDIR app/../web'], want: { WorkingDir: '/srv/web' } },
  { name: 'USER and STOPSIGNAL', changes: ['USER 1000:1000', 'STOPSIGNAL SIGQUIT'], want: { User: '1000:1000', StopSignal: 'SIGQUIT' } },
  { name: 'EXPOSE ports, protocols and ranges', changes: ['EXPOSE 80 53/udp 8000-8001'],
    want: { ExposedPorts: { '80/tcp': {}, '53/udp': {}, '8000/tcp': {}, '8001/tcp': {} } } },
  { name: 'LABEL quoted pairs', changes: ['LABEL a=1 "b c"="d e" f=\'$x\''], want: { Labels: { a: '1', 'b c': 'd e', f: '$x' } } },
  { name: 'VOLUME JSON and word forms', changes: ['VOLUME ["/data", "/logs"]', 'VOLUME /cache /tmp/x'],
    want: { Volumes: { '/data': {}, '/logs': {}, '/cache': {}, '/tmp/x': {} } } },
];

for (const c of cases) {
  test(`applyChanges: ${c.name}`, () => {
    assert.deepEqual(applyChanges(c.base ?? {}, c.changes), c.want);
  });
}

test('applyChanges does not touch its input', () => {
  const base: ContainerConfig = { Env: ['A=1'] };
  applyChanges(base, ['ENV A=2']);
  assert.deepEqual(base, { Env: ['A=1'] });
});

const bad: [string, RegExp][] = [
  ['RUN echo hi', /RUN is not supported by import; use one of ENV, CMD/],
  ['ENV', /ENV requires an argument/],
  ['ENV =x', /empty name/],
  ['ENV A=1 B', /'B' is not of the form name=value/],
  ['EXPOSE http', /'http' is not a port/],
  ['EXPOSE 70000', /out of the range/],
  ['STOPSIGNAL kill me', /expected one value, got 2/],
  ['STOPSIGNAL $%', /is not a signal/],
  ['CMD ["unterminated"', /exec form must be a JSON array/],
  ['123', /expected an instruction/],
];
for (const [change, message] of bad) {
  test(`applyChanges refuses ${JSON.stringify(change)} naming it`, () => {
    assert.throws(() => applyChanges({}, [change]), (err: unknown) => {
      assert.ok(err instanceof ImportChangeError);
      assert.equal(err.code, 'KILN_IMPORT_CHANGE');
      assert.equal(err.userFacing, true);
      assert.ok(err.message.includes(`'${change}'`), err.message);
      assert.match(err.message, message);
      return true;
    });
  });
}

test('splitWords: quotes, escapes and expansion', () => {
  const env = new Map([['X', 'a b']]);
  assert.deepEqual(splitWords(`one "two three" 'four $X' five\\ six $X "${'$'}{X}" \\$X`, env), [
    'one', 'two three', 'four $X', 'five six', 'a', 'b', 'a b', '$X',
  ]);
});
