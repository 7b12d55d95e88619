import assert from 'node:assert/strict';
import { parseWwwAuthenticate } from './challenge.js';

describe('image/registry/challenge', () => {
  it('parses a Bearer challenge', () => {
    const c = parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"');
    assert.deepEqual(c, [
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
    ]);
  });
  it('parses Basic, escapes, tokens and several challenges', () => {
    const c = parseWwwAuthenticate('Basic realm="a \\"b\\"", Bearer realm=x, error=insufficient_scope');
    assert.equal(c.length, 2);
    assert.deepEqual(c[0], { scheme: 'basic', params: { realm: 'a "b"' } });
    assert.deepEqual(c[1], { scheme: 'bearer', params: { realm: 'x', error: 'insufficient_scope' } });
  });
  it('copes with junk', () => {
    assert.deepEqual(parseWwwAuthenticate(''), []);
    assert.deepEqual(parseWwwAuthenticate('Basic'), [{ scheme: 'basic', params: {} }]);
  });
});
