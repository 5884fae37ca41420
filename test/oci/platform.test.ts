// Platform specifiers parsed and normalised as containerd does, and manifest selection matching.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { arch, platform as nodePlatform } from 'node:process';
import type { Platform } from '../../oci/image-spec.js';
import {
  InvalidPlatformError,
  formatPlatform,
  hostPlatform,
  parsePlatform,
  parsePlatforms,
  platformMatches,
} from '../../oci/platform.js';

const host = hostPlatform();

// [spec, normalised platform, formatted]
const PARSE: Array<[string, Platform, string]> = [
  ['linux/amd64', { architecture: 'amd64', os: 'linux' }, 'linux/amd64'],
  ['linux/x86_64', { architecture: 'amd64', os: 'linux' }, 'linux/amd64'],
  ['linux/x86-64', { architecture: 'amd64', os: 'linux' }, 'linux/amd64'],
  ['linux/amd64/v1', { architecture: 'amd64', os: 'linux' }, 'linux/amd64'],
  ['linux/amd64/v3', { architecture: 'amd64', os: 'linux', variant: 'v3' }, 'linux/amd64/v3'],
  ['linux/arm64', { architecture: 'arm64', os: 'linux' }, 'linux/arm64'],
  ['linux/arm64/v8', { architecture: 'arm64', os: 'linux' }, 'linux/arm64'],
  ['linux/arm64/8', { architecture: 'arm64', os: 'linux' }, 'linux/arm64'],
  ['linux/aarch64', { architecture: 'arm64', os: 'linux' }, 'linux/arm64'],
  ['linux/arm64/v9', { architecture: 'arm64', os: 'linux', variant: 'v9' }, 'linux/arm64/v9'],
  ['linux/arm', { architecture: 'arm', os: 'linux', variant: 'v7' }, 'linux/arm/v7'],
  ['linux/arm/v7', { architecture: 'arm', os: 'linux', variant: 'v7' }, 'linux/arm/v7'],
  ['linux/arm/7', { architecture: 'arm', os: 'linux', variant: 'v7' }, 'linux/arm/v7'],
  ['linux/arm/v6', { architecture: 'arm', os: 'linux', variant: 'v6' }, 'linux/arm/v6'],
  ['linux/arm/6', { architecture: 'arm', os: 'linux', variant: 'v6' }, 'linux/arm/v6'],
  ['linux/arm/5', { architecture: 'arm', os: 'linux', variant: 'v5' }, 'linux/arm/v5'],
  ['linux/armhf', { architecture: 'arm', os: 'linux', variant: 'v7' }, 'linux/arm/v7'],
  ['linux/armel', { architecture: 'arm', os: 'linux', variant: 'v6' }, 'linux/arm/v6'],
  ['linux/i386', { architecture: '386', os: 'linux' }, 'linux/386'],
  ['linux/386', { architecture: '386', os: 'linux' }, 'linux/386'],
  ['linux/ppc64le', { architecture: 'ppc64le', os: 'linux' }, 'linux/ppc64le'],
  ['linux/s390x', { architecture: 's390x', os: 'linux' }, 'linux/s390x'],
  ['linux/riscv64', { architecture: 'riscv64', os: 'linux' }, 'linux/riscv64'],
  // Two parts are taken as given, known or not.
  ['linux/madeup', { architecture: 'madeup', os: 'linux' }, 'linux/madeup'],
  ['LINUX/AMD64', { architecture: 'amd64', os: 'linux' }, 'linux/amd64'],
  ['Linux/ARM/V7', { architecture: 'arm', os: 'linux', variant: 'v7' }, 'linux/arm/v7'],
  ['macos/arm64', { architecture: 'arm64', os: 'darwin' }, 'darwin/arm64'],
  ['windows/amd64', { architecture: 'amd64', os: 'windows' }, 'windows/amd64'],
  // A lone architecture runs on linux.
  ['amd64', { architecture: 'amd64', os: 'linux' }, 'linux/amd64'],
  ['x86_64', { architecture: 'amd64', os: 'linux' }, 'linux/amd64'],
  ['arm64', { architecture: 'arm64', os: 'linux' }, 'linux/arm64'],
  ['aarch64', { architecture: 'arm64', os: 'linux' }, 'linux/arm64'],
  ['arm', { architecture: 'arm', os: 'linux', variant: 'v7' }, 'linux/arm/v7'],
  ['armhf', { architecture: 'arm', os: 'linux', variant: 'v7' }, 'linux/arm/v7'],
  ['armel', { architecture: 'arm', os: 'linux', variant: 'v6' }, 'linux/arm/v6'],
  ['i386', { architecture: '386', os: 'linux' }, 'linux/386'],
  ['x86', { architecture: '386', os: 'linux' }, 'linux/386'],
  ['s390x', { architecture: 's390x', os: 'linux' }, 'linux/s390x'],
  // OS version and features in parentheses, percent-encoded where the syntax needs it.
  [
    'windows(10.0.17763)/amd64',
    { architecture: 'amd64', os: 'windows', 'os.version': '10.0.17763' },
    'windows(10.0.17763)/amd64',
  ],
  [
    'windows(10.0.17763+win32k+a)/amd64',
    { architecture: 'amd64', os: 'windows', 'os.version': '10.0.17763', 'os.features': ['a', 'win32k'] },
    'windows(10.0.17763+a+win32k)/amd64',
  ],
  ['linux(+gpu)/amd64', { architecture: 'amd64', os: 'linux', 'os.features': ['gpu'] }, 'linux(+gpu)/amd64'],
  ['linux(1%2B2)/amd64', { architecture: 'amd64', os: 'linux', 'os.version': '1+2' }, 'linux(1%2B2)/amd64'],
];

describe('parsePlatform and formatPlatform', () => {
  for (const [spec, expected, formatted] of PARSE) {
    it(`${spec} → ${formatted}`, () => {
      const p = parsePlatform(spec);
      assert.deepEqual(p, expected);
      assert.equal(formatPlatform(p), formatted);
      assert.deepEqual(parsePlatform(formatted), expected, 'formatted form parses back to the same platform');
    });
  }
  it('a lone OS takes the host architecture', () => {
    assert.deepEqual(parsePlatform('linux'), { ...host, os: 'linux' });
    assert.equal(parsePlatform('windows').architecture, host.architecture);
  });
  it('formatPlatform writes keys it is given, unknown os as "unknown"', () => {
    assert.equal(formatPlatform({ os: '', architecture: 'amd64' }), 'unknown');
    assert.equal(formatPlatform({ os: 'linux', architecture: 'arm64', variant: 'v8' }), 'linux/arm64/v8');
  });
  it('keeps JSON keys in the OCI struct order', () => {
    const p = parsePlatform('windows(10.0+f)/arm/v7');
    assert.deepEqual(Object.keys(p), ['architecture', 'os', 'os.version', 'os.features', 'variant']);
  });
});

// [spec, part of the reason]
const INVALID: Array<[string, RegExp]> = [
  ['', /not an operating system name/],
  ['foo', /neither a known operating system nor a known architecture/],
  ['linux/', /"" is not a valid part/],
  ['/amd64', /not an operating system name/],
  ['linux/amd64/', /"" is not a valid part/],
  ['linux/amd64/v8/extra', /more than three parts/],
  ['linux/*', /wildcards/],
  ['*', /wildcards/],
  ['linux amd64', /not an operating system name/],
  ['linux/amd 64', /not a valid part/],
  ['linux(10/amd64', /not an operating system name/],
  ['linux(%zz)/amd64', /bad percent escape/],
  ['linux/arm64/v8!', /not a valid part/],
];

describe('parsePlatform rejects', () => {
  for (const [spec, reason] of INVALID) {
    it(`${JSON.stringify(spec)} (${reason.source})`, () => {
      assert.throws(
        () => parsePlatform(spec),
        (err: unknown) => {
          assert.ok(err instanceof InvalidPlatformError, String(err));
          assert.equal(err.code, 'KILN_INVALID_PLATFORM');
          assert.equal(err.userFacing, true);
          assert.equal(err.spec, spec);
          assert.ok(err.message.includes(JSON.stringify(spec)), `message does not name the spec: ${err.message}`);
          assert.match(err.message, reason);
          return true;
        },
      );
    });
  }
});

describe('parsePlatforms', () => {
  const cases: Array<[string, string[]]> = [
    ['linux/amd64', ['linux/amd64']],
    ['linux/amd64,linux/arm64', ['linux/amd64', 'linux/arm64']],
    ['linux/amd64, linux/arm/v7 ,linux/arm64/v8', ['linux/amd64', 'linux/arm/v7', 'linux/arm64']],
    ['linux/arm64,linux/amd64,linux/arm64/v8,aarch64', ['linux/arm64', 'linux/amd64']],
    ['linux/amd64,', ['linux/amd64']],
    ['arm64,armhf', ['linux/arm64', 'linux/arm/v7']],
  ];
  for (const [list, expected] of cases) {
    it(`${list} → ${expected.join(' ')}`, () => {
      assert.deepEqual(parsePlatforms(list).map(formatPlatform), expected);
    });
  }
  it('names the bad entry', () => {
    assert.throws(() => parsePlatforms('linux/amd64,bogus'), (err: unknown) => err instanceof InvalidPlatformError && err.spec === 'bogus');
  });
  it('rejects an empty list', () => {
    assert.throws(() => parsePlatforms(' , '), InvalidPlatformError);
  });
});

// [want, have, matches]
const MATCH: Array<[Platform, Platform, boolean]> = [
  [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'amd64' }, true],
  [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64' }, false],
  [{ os: 'linux', architecture: 'amd64' }, { os: 'windows', architecture: 'amd64' }, false],
  [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'amd64', variant: 'v1' }, true],
  [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'x86_64' }, true],
  [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'amd64', variant: 'v3' }, false],
  [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: '386' }, false],
  [{ os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'arm64', variant: 'v8' }, true],
  [{ os: 'linux', architecture: 'arm64', variant: 'v8' }, { os: 'linux', architecture: 'arm64' }, true],
  [{ os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'aarch64' }, true],
  [{ os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'arm64', variant: 'v8.2' }, false],
  [{ os: 'linux', architecture: 'arm', variant: 'v7' }, { os: 'linux', architecture: 'arm' }, true],
  [{ os: 'linux', architecture: 'arm' }, { os: 'linux', architecture: 'arm', variant: 'v7' }, true],
  [{ os: 'linux', architecture: 'arm', variant: 'v7' }, { os: 'linux', architecture: 'arm', variant: 'v6' }, false],
  [{ os: 'linux', architecture: 'arm', variant: 'v6' }, { os: 'linux', architecture: 'armel' }, true],
  [{ os: 'linux', architecture: 'amd64' }, { os: 'Linux', architecture: 'AMD64' }, true],
  [{ os: 'linux', architecture: 'amd64', 'os.features': ['a', 'b'] }, { os: 'linux', architecture: 'amd64', 'os.features': ['b'] }, true],
  [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'amd64', 'os.features': ['gpu'] }, false],
  [{ os: 'linux', architecture: 'amd64', 'os.features': ['gpu'] }, { os: 'linux', architecture: 'amd64' }, true],
];

describe('platformMatches', () => {
  for (const [want, have, expected] of MATCH) {
    it(`${JSON.stringify(want)} ${expected ? 'takes' : 'skips'} ${JSON.stringify(have)}`, () => {
      assert.equal(platformMatches(want, have), expected);
    });
  }
});

describe('hostPlatform', () => {
  it('is this machine, normalised', () => {
    const expectedArch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', s390x: 's390x', riscv64: 'riscv64' };
    const expectedOS: Record<string, string> = { linux: 'linux', darwin: 'darwin', win32: 'windows' };
    if (expectedArch[arch] !== undefined) assert.equal(host.architecture, expectedArch[arch]);
    if (expectedOS[nodePlatform] !== undefined) assert.equal(host.os, expectedOS[nodePlatform]);
    assert.deepEqual(parsePlatform(formatPlatform(host)), host);
  });
  it('is linux/amd64 on the machine kiln is built on', { skip: arch !== 'x64' || nodePlatform !== 'linux' ? 'other machine' : false }, () => {
    assert.deepEqual(host, { architecture: 'amd64', os: 'linux' });
  });
});
