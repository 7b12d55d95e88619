import assert from 'node:assert/strict';
import { ArgScope, expandInstruction, stageLookup } from './expand.js';
import { parseInstructions, type Instruction } from './instructions.js';
import { parseDockerfile } from './parse.js';

function instr(line: string): Instruction {
  return parseInstructions(parseDockerfile(`FROM x\n${line}\n`))[1] as Instruction;
}

describe('image/build/expand', () => {
  it('gives build args priority over ARG defaults, and inherits global values', () => {
    const scope = new ArgScope({ B: 'from-cli' }, new Map([['G', 'global']]), '\\');
    scope.declare([{ name: 'A', value: 'a' }, { name: 'B', value: 'b' }, { name: 'G' }, { name: 'U' }, { name: 'C', value: '${A}-c' }]);
    assert.deepEqual(scope.entries(), [
      ['A', 'a'],
      ['B', 'from-cli'],
      ['G', 'global'],
      ['C', 'a-c'],
    ]);
    assert.equal(scope.has('U'), true);
  });

  it('lets ENV win over ARG', () => {
    const scope = new ArgScope({}, new Map(), '\\');
    scope.declare([{ name: 'V', value: 'arg' }]);
    const look = stageLookup(['V=env'], scope);
    assert.equal(look('V'), 'env');
  });

  it('expands ENV keys and values against the environment before the instruction', () => {
    const look = stageLookup(['abc=hello'], new ArgScope({}, new Map(), '\\'));
    const r = expandInstruction(instr('ENV abc=bye def=$abc ghi="${abc} world"'), look, '\\');
    assert.deepEqual(r.instr.kind === 'ENV' && r.instr.pairs, [
      ['abc', 'bye'],
      ['def', 'hello'],
      ['ghi', 'hello world'],
    ]);
  });

  it('expands COPY sources, dest and flags, and EXPOSE into words', () => {
    const look = stageLookup(['D=/app', 'U=1000', 'P=80 443'], new ArgScope({}, new Map(), '\\'));
    const c = expandInstruction(instr('COPY --chown=$U:$U ["src dir", "${D}/"]'), look, '\\').instr;
    assert.deepEqual(c.kind === 'COPY' && [c.sources, c.dest, c.chown], [['src dir'], '/app/', '1000:1000']);
    assert.throws(() => expandInstruction(instr('COPY "src dir" /x/'), look, '\\'), /Dockerfile:2: COPY: unexpected end of statement/);
    const e = expandInstruction(instr('EXPOSE $P 53/udp'), look, '\\').instr;
    assert.deepEqual(e.kind === 'EXPOSE' && e.ports, ['80', '443', '53/udp']);
  });

  it('does not touch RUN and CMD', () => {
    const look = stageLookup(['A=1'], new ArgScope({}, new Map(), '\\'));
    const r = instr('RUN echo $A');
    assert.equal(expandInstruction(r, look, '\\').instr, r);
  });

  it('names the line on a substitution error', () => {
    const look = stageLookup([], new ArgScope({}, new Map(), '\\'));
    assert.throws(() => expandInstruction(instr('WORKDIR ${X:?is required}'), look, '\\'), /^DockerfileError: Dockerfile:2: WORKDIR: X: is required$|Dockerfile:2: WORKDIR: X: is required/);
  });
});
