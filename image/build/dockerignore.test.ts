import assert from 'node:assert/strict';
import { IgnoreMatcher, readDockerignore } from './dockerignore.js';

function matcher(text: string): IgnoreMatcher {
  return new IgnoreMatcher(readDockerignore(text));
}

describe('image/build/dockerignore', () => {
  it('reads lines like the Docker CLI: comments, blanks, cleaning, leading /', () => {
    assert.deepEqual(readDockerignore('# comment\n\n  *.log  \n/abs/path\n! keep.log\n./a/../b/\n #notacomment\n'), [
      '*.log',
      'abs/path',
      '!keep.log',
      'b',
      '#notacomment',
    ]);
  });

  it('matches * and ? within one segment', () => {
    const m = matcher('*.log\nfile?.txt');
    assert.equal(m.ignores('a.log'), true);
    assert.equal(m.ignores('dir/a.log'), false);
    assert.equal(m.ignores('file1.txt'), true);
    assert.equal(m.ignores('file12.txt'), false);
  });

  it('matches ** across segments', () => {
    const m = matcher('**/*.log\nbuild/**\n**/tmp');
    assert.equal(m.ignores('a.log'), true);
    assert.equal(m.ignores('x/y/z.log'), true);
    assert.equal(m.ignores('build/out/o.bin'), true);
    assert.equal(m.ignores('build'), false);
    assert.equal(m.ignores('src/tmp'), true);
    assert.equal(m.ignores('tmp'), true);
  });

  it('excludes everything under a matched directory', () => {
    const m = matcher('node_modules\n.git');
    assert.equal(m.ignores('node_modules/x/y.js'), true);
    assert.equal(m.ignores('.git/HEAD'), true);
    assert.equal(m.ignores('src/node_modules'), false);
  });

  it('lets the last matching pattern win, with ! re-including', () => {
    const m = matcher('*.md\n!README.md\nREADME*.md');
    assert.equal(m.ignores('CHANGES.md'), true);
    assert.equal(m.ignores('README.md'), true);
    const n = matcher('docs\n!docs/keep.txt');
    assert.equal(n.ignores('docs/other.txt'), true);
    assert.equal(n.ignores('docs/keep.txt'), false);
    assert.equal(n.mayReinclude('docs'), true);
    assert.equal(n.mayReinclude('other'), false);
  });

  it('escapes regexp characters and supports classes', () => {
    const m = matcher('a+b(c).txt\n[ab].bin\n[^x]y');
    assert.equal(m.ignores('a+b(c).txt'), true);
    assert.equal(m.ignores('aab(c).txt'), false);
    assert.equal(m.ignores('a.bin'), true);
    assert.equal(m.ignores('c.bin'), false);
    assert.equal(m.ignores('zy'), true);
    assert.equal(m.ignores('xy'), false);
  });

  it('rejects a lone !', () => {
    assert.throws(() => matcher('!'), /illegal exclusion pattern/);
  });
});
