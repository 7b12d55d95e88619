import assert from 'node:assert/strict';
import { compileGlob, globMatch, hasGlobMeta } from './glob.js';

describe('image/build/glob', () => {
  it('matches like Go path.Match', () => {
    assert.equal(globMatch('*.txt', 'a.txt'), true);
    assert.equal(globMatch('*.txt', 'd/a.txt'), false);
    assert.equal(globMatch('d/*', 'd/a.txt'), true);
    assert.equal(globMatch('?.txt', 'ab.txt'), false);
    assert.equal(globMatch('[a-c]x', 'bx'), true);
    assert.equal(globMatch('[^a-c]x', 'bx'), false);
    assert.equal(globMatch('[^a-c]x', 'dx'), true);
    assert.equal(globMatch('a\\*b', 'a*b'), true);
    assert.equal(globMatch('a\\*b', 'axb'), false);
    assert.equal(globMatch('[]]', ']'), true);
    assert.equal(globMatch('a.b', 'axb'), false);
  });

  it('rejects malformed patterns', () => {
    assert.throws(() => compileGlob('[abc'), /unterminated/);
    assert.throws(() => compileGlob('abc\\'), /trailing/);
    assert.throws(() => compileGlob('[z-a]'), /bad range/);
  });

  it('knows which sources are wildcards', () => {
    assert.equal(hasGlobMeta('src/*.js'), true);
    assert.equal(hasGlobMeta('src/main.js'), false);
  });
});
