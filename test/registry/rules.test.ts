// The registry client's rules on plain strings: WWW-Authenticate parsing, which hosts may use
// plain HTTP, Retry-After and backoff bounds, docker config keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChallenge } from '../../registry/challenge.js';
import { allowsPlainHttp } from '../../registry/insecure.js';
import { backoffMs, isTransientStatus, parseRetryAfter } from '../../registry/retry.js';
import { configKey, keyHost } from '../../registry/docker-config.js';

test('WWW-Authenticate challenges as registries send them', () => {
  assert.deepEqual(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"'), {
    scheme: 'bearer',
    params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' },
  });
  assert.deepEqual(parseChallenge('Basic realm="kiln test"'), { scheme: 'basic', params: { realm: 'kiln test' } });
  assert.deepEqual(parseChallenge('Bearer realm="r",error="insufficient_scope",scope="repository:a:pull,push"')?.params.scope, 'repository:a:pull,push');
  assert.equal(parseChallenge('Negotiate abc'), undefined);
  assert.equal(parseChallenge(undefined), undefined);
});

test('plain HTTP only for loopback and the hosts or CIDRs listed', () => {
  for (const h of ['localhost:5000', '127.0.0.1:5000', '127.8.9.10', '[::1]:5000', 'localhost']) assert.equal(allowsPlainHttp(h, []), true, h);
  for (const h of ['registry.example.com', '10.1.2.3:5000', '128.0.0.1', 'localhost.example.com']) assert.equal(allowsPlainHttp(h, []), false, h);
  assert.equal(allowsPlainHttp('reg.internal:5000', ['reg.internal:5000']), true);
  assert.equal(allowsPlainHttp('reg.internal:5000', ['reg.internal']), true);
  assert.equal(allowsPlainHttp('reg.internal:5000', ['reg.internal:5001']), false);
  assert.equal(allowsPlainHttp('10.1.2.3:5000', ['10.0.0.0/8']), true);
  assert.equal(allowsPlainHttp('11.1.2.3:5000', ['10.0.0.0/8']), false);
});

test('Retry-After in seconds or as a date; backoff grows, is bounded and jittered', () => {
  assert.equal(parseRetryAfter('2'), 2000);
  assert.equal(parseRetryAfter('Thu, 03 Dec 2026 12:00:10 GMT', Date.parse('Thu, 03 Dec 2026 12:00:00 GMT')), 10_000);
  assert.equal(parseRetryAfter('soon'), undefined);
  const policy = { attempts: 5, baseMs: 100, maxMs: 1000 };
  assert.equal(backoffMs(0, policy, () => 1), 100);
  assert.equal(backoffMs(3, policy, () => 1), 800);
  assert.equal(backoffMs(10, policy, () => 1), 1000);
  assert.equal(backoffMs(3, policy, () => 0.5), 400);
  assert.deepEqual([429, 500, 502, 503, 504, 400, 404, 501].map(isTransientStatus), [true, true, true, true, true, false, false, false]);
});

test('docker config keys: Docker Hub under its legacy URL, others by host', () => {
  assert.equal(configKey('docker.io'), 'https://index.docker.io/v1/');
  assert.equal(configKey('reg:5000'), 'reg:5000');
  assert.equal(keyHost('https://index.docker.io/v1/'), 'docker.io');
  assert.equal(keyHost('https://reg.example.com:5000/v2/'), 'reg.example.com:5000');
  assert.equal(keyHost('reg.example.com'), 'reg.example.com');
});
