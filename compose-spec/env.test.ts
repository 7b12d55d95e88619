import { strict as assert } from 'node:assert';
import { parseDotEnv, DotEnvError } from './env.js';

describe('dotenv', () => {
  it('parses keys, comments, export, blank lines', () => {
    const text = '# comment\n\nA=1\nexport B=two\n  C = spaced  \nD=with # inline comment\nE=url#fragment\nF=\n';
    assert.deepEqual(parseDotEnv(text), { A: '1', B: 'two', C: 'spaced', D: 'with', E: 'url#fragment', F: '' });
  });
  it('single quotes are literal, double quotes know escapes and may span lines', () => {
    const text = `S='a $A \\n b'\nD="line1\\nline2 \\"q\\" \\$A"\nM="first\nsecond"\nA=x\n`;
    assert.deepEqual(parseDotEnv(text), { S: 'a $A \\n b', D: 'line1\nline2 "q" $A', M: 'first\nsecond', A: 'x' });
  });
  it('interpolates unquoted and double-quoted values: earlier keys, then the lookup', () => {
    const text = 'A=1\nB=${A}-$OS\nC="${MISSING:-def}"\nD=\'${A}\'\n';
    assert.deepEqual(parseDotEnv(text, { lookup: (n) => (n === 'OS' ? 'os' : undefined) }), { A: '1', B: '1-os', C: 'def', D: '${A}' });
  });
  it('a bare name takes its value from the lookup, or is skipped', () => {
    assert.deepEqual(parseDotEnv('HOME\nNOPE\n', { lookup: (n) => (n === 'HOME' ? '/root' : undefined) }), { HOME: '/root' });
  });
  it('raw format takes values literally', () => {
    assert.deepEqual(parseDotEnv('A="q" $B # not a comment\n', { format: 'raw' }), { A: '"q" $B # not a comment' });
  });
  it('handles CRLF and a BOM', () => {
    assert.deepEqual(parseDotEnv('\uFEFFA=1\r\nB=2\r\n'), { A: '1', B: '2' });
  });
  it('reports the line of errors', () => {
    assert.throws(() => parseDotEnv('A=1\nnot valid=2\n'), (e: unknown) => e instanceof DotEnvError && e.line === 2);
    assert.throws(() => parseDotEnv('A=1\nB="open\n'), (e: unknown) => e instanceof DotEnvError && /unterminated/.test(e.message));
    assert.throws(() => parseDotEnv('A="x" junk\n'), /unexpected characters/);
  });
});
