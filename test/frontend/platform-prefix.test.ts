// The platform part of multi-platform step names, against the forms buildx prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { platformPrefix } from '../../frontend/platform-prefix.js';

const amd64 = { os: 'linux', architecture: 'amd64' };

test('a stage shows its own platform, and the target its TARGET* variables name when that differs', () => {
  assert.equal(platformPrefix(amd64), 'linux/amd64 ');
  assert.equal(platformPrefix({ os: 'linux', architecture: 'arm', variant: 'v7' }), 'linux/arm/v7 ');
  assert.equal(platformPrefix(amd64, [['TARGETARCH', 'amd64']]), 'linux/amd64 ', 'the same platform adds nothing');
  assert.equal(platformPrefix(amd64, [['TARGETARCH', 'arm64']]), 'linux/amd64->arm64 ');
  assert.equal(platformPrefix(amd64, [['TARGETARCH', 'arm'], ['TARGETVARIANT', 'v6']]), 'linux/amd64->arm/v6 ');
  assert.equal(platformPrefix(amd64, [['TARGETPLATFORM', 'windows/amd64'], ['TARGETARCH', 'arm64']]), 'linux/amd64->windows/amd64 ', 'TARGETPLATFORM wins');
  assert.equal(platformPrefix(amd64, [['TARGETARCH', 'arm64'], ['TARGETARCH', 'riscv64']]), 'linux/amd64->riscv64 ', 'the latest assignment counts');
  assert.equal(platformPrefix(amd64, [['TARGETPLATFORM', 'not a platform!']]), 'linux/amd64 ', 'an unreadable value is ignored');
});
