import assert from 'node:assert/strict';
import { BindSpecError, cleanPath, parseBindSpec } from './binds.js';

describe('agent/containers/binds', () => {
  it('parses anonymous, named and bind specs', () => {
    assert.deepEqual(parseBindSpec('/data'), { type: 'volume', source: '', target: '/data', readOnly: false, noCopy: false, mode: '' });
    assert.deepEqual(parseBindSpec('db:/var/lib/db/'), { type: 'volume', source: 'db', target: '/var/lib/db', readOnly: false, noCopy: false, mode: '' });
    assert.deepEqual(parseBindSpec('/etc//x:/x:ro,Z,rshared'), {
      type: 'bind', source: '/etc/x', target: '/x', readOnly: true, noCopy: false, mode: 'ro,Z,rshared', relabel: 'Z', propagation: 'rshared',
    });
    assert.equal(parseBindSpec('vv:/x:nocopy').noCopy, true);
    assert.equal(cleanPath('/a/b/../c/'), '/a/c');
  });
  it('errors say what is wrong and what is expected', () => {
    const cases: [string, RegExp][] = [
      ['', /empty/],
      ['rel', /mount path must be absolute/],
      ['a:b:c:d', /too many colons/],
      ['vv:/x:ro,rw', /given twice/],
      ['vv:/x:rshared', /propagation only applies to bind mounts/],
      ['/h:/x:nocopy', /nocopy only applies to volumes/],
      ['/h:/', /destination can't be '\/'/],
      [':/x', /empty source/],
      ['vv:/x:', /empty mode/],
    ];
    for (const [spec, re] of cases) {
      assert.throws(() => parseBindSpec(spec), (e: unknown) => e instanceof BindSpecError && re.test(e.message) && e.message.includes(`'${spec}'`) && e.message.includes('expected'), spec);
    }
  });
});
