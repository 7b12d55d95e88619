import assert from 'node:assert/strict';
import {
  parseReference,
  formatReference,
  familiarName,
  isLoopbackHost,
  InvalidReferenceError,
  registryEndpointHost,
} from './reference.js';

const D = 'sha256:' + 'a'.repeat(64);

describe('image/reference', () => {
  const cases: Array<[string, string, string]> = [
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['index.docker.io/library/busybox:x', 'docker.io/library/busybox:x', 'busybox:x'],
    ['me/app', 'docker.io/me/app:latest', 'me/app:latest'],
    ['localhost/app', 'localhost/app:latest', 'localhost/app:latest'],
    ['localhost:5000/a/b:c', 'localhost:5000/a/b:c', 'localhost:5000/a/b:c'],
    ['127.0.0.1:41234/x', '127.0.0.1:41234/x:latest', '127.0.0.1:41234/x:latest'],
    ['[::1]:5000/x:y', '[::1]:5000/x:y', '[::1]:5000/x:y'],
    ['quay.io/a/b/c', 'quay.io/a/b/c:latest', 'quay.io/a/b/c:latest'],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`, `busybox@${D}`],
    [`busybox:1@${D}`, `docker.io/library/busybox:1@${D}`, `busybox:1@${D}`],
    ['me/a_b.c-d__e---f', 'docker.io/me/a_b.c-d__e---f:latest', 'me/a_b.c-d__e---f:latest'],
  ];
  for (const [input, full, familiar] of cases) {
    it(`normalises ${input}`, () => {
      const r = parseReference(input);
      assert.equal(formatReference(r), full);
      assert.equal(familiarName(r), familiar);
    });
  }

  it('keeps the tag absent on request', () => {
    assert.equal(parseReference('busybox', { defaultTag: false }).tag, undefined);
  });

  for (const bad of ['', 'Busybox', 'a/B', 'a//b', 'a:', 'a:-x', 'a@sha256:12', '/a', 'a/', 'a/../b', 'a b', 'x:' + 'y'.repeat(129)]) {
    it(`rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(() => parseReference(bad), InvalidReferenceError);
    });
  }

  it('knows loopback hosts', () => {
    assert.ok(isLoopbackHost('127.0.0.1:5000'));
    assert.ok(isLoopbackHost('localhost'));
    assert.ok(isLoopbackHost('[::1]:80'));
    assert.ok(!isLoopbackHost('10.0.0.1:5000'));
    assert.ok(!isLoopbackHost('docker.io'));
  });

  it('maps docker.io to its registry endpoint', () => {
    assert.equal(registryEndpointHost('docker.io'), 'registry-1.docker.io');
    assert.equal(registryEndpointHost('h:1'), 'h:1');
  });
});
