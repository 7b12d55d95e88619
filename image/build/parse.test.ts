import assert from 'node:assert/strict';
import { DockerfileError } from './errors.js';
import { extractFlags, parseDockerfile } from './parse.js';

describe('image/build/parse', () => {
  it('joins continuations, drops comments, and keeps line numbers', () => {
    const p = parseDockerfile(['# a comment', 'FROM busybox', '', 'RUN echo a \\', '  # inner comment', '    && echo b', 'CMD ["sh"]'].join('\n'));
    assert.deepEqual(
      p.instructions.map((i) => [i.keyword, i.line, i.endLine, i.rest]),
      [
        ['FROM', 2, 2, 'busybox'],
        ['RUN', 4, 6, 'echo a     && echo b'],
        ['CMD', 7, 7, '["sh"]'],
      ],
    );
  });

  it('reads parser directives only at the top', () => {
    const p = parseDockerfile('# syntax=docker/dockerfile:1\n# escape=`\nFROM x\nRUN a `\n b\n');
    assert.equal(p.directives.escape, '`');
    assert.equal(p.directives.syntax, 'docker/dockerfile:1');
    assert.equal(p.instructions[1]?.rest, 'a  b');
    const late = parseDockerfile('FROM x\n# escape=`\nRUN a \\\n b\n');
    assert.equal(late.directives.escape, '\\');
    const afterComment = parseDockerfile('# hello\n# escape=`\nFROM x\n');
    assert.equal(afterComment.directives.escape, '\\');
  });

  it('rejects a bad or repeated escape directive, naming the line', () => {
    assert.throws(() => parseDockerfile('# escape=x\nFROM a'), /Dockerfile:1: invalid escape token 'x'/);
    assert.throws(() => parseDockerfile('# escape=`\n# escape=\\\nFROM a'), /Dockerfile:2: only one escape parser directive/);
  });

  it('handles CRLF, a BOM and keywords in any case', () => {
    const p = parseDockerfile('\uFEFFfrom a\r\nrun echo hi\r\n');
    assert.deepEqual(
      p.instructions.map((i) => [i.keyword, i.rest]),
      [
        ['FROM', 'a'],
        ['RUN', 'echo hi'],
      ],
    );
  });

  it('warns about empty continuation lines', () => {
    const p = parseDockerfile('FROM a\nRUN a \\\n\n b\n');
    assert.equal(p.instructions[1]?.rest, 'a  b');
    assert.match(p.warnings[0] ?? '', /Dockerfile:2: RUN: empty continuation line/);
  });

  it('extracts leading --flags with quotes, stops at the first other word', () => {
    assert.deepEqual(extractFlags('--from=build --chown="a b" src dst'), { flags: ['--from=build', '--chown=a b'], rest: 'src dst' });
    assert.deepEqual(extractFlags('--link -- --not-a-flag'), { flags: ['--link'], rest: '--not-a-flag' });
    assert.deepEqual(extractFlags('echo --x'), { flags: [], rest: 'echo --x' });
  });

  it('rejects an empty Dockerfile', () => {
    assert.throws(() => parseDockerfile('# only a comment\n\n'), (e: unknown) => e instanceof DockerfileError && /no instructions/.test(e.message));
  });
});
