import assert from 'node:assert/strict';
import { DockerfileError } from './errors.js';
import { parseGoDuration, parseInstructions, splitWords, type Instruction } from './instructions.js';
import { parseDockerfile } from './parse.js';

function parse(text: string, file = 'Dockerfile'): Instruction[] {
  return parseInstructions(parseDockerfile(text, file));
}

function one(line: string): Instruction {
  const all = parse(`FROM scratch\n${line}\n`);
  return all[1] as Instruction;
}

function fails(text: string, re: RegExp): void {
  assert.throws(() => parse(text), (e: unknown) => {
    assert.ok(e instanceof DockerfileError, `not a DockerfileError: ${String(e)}`);
    assert.match(e.message, re);
    return true;
  });
}

describe('image/build/instructions', () => {
  it('parses FROM with AS and --platform', () => {
    const [f] = parse('FROM --platform=linux/amd64 busybox:1 AS Build\n');
    assert.deepEqual(f && f.kind === 'FROM' ? [f.image, f.stageName, f.platform] : [], ['busybox:1', 'build', 'linux/amd64']);
    fails('FROM a b\n', /^Dockerfile:1: FROM: requires either one or three arguments/);
    fails('FROM a AS 1x\n', /invalid name for build stage/);
  });

  it('tells exec form from shell form', () => {
    assert.deepEqual(one('RUN ["echo", "a b"]'), {
      kind: 'RUN',
      loc: { file: 'Dockerfile', line: 2, endLine: 2, original: 'RUN ["echo", "a b"]' },
      command: { form: 'exec', args: ['echo', 'a b'] },
      network: 'default',
    });
    const sh = one("CMD ['not', 'json']");
    assert.deepEqual(sh.kind === 'CMD' && sh.command, { form: 'shell', script: "['not', 'json']" });
    fails('FROM a\nCMD ["a", 1]\n', /Dockerfile:2: CMD: when using JSON array syntax, arrays must be comprised of strings only/);
  });

  it('parses ENV and LABEL in both forms, keeping quotes for expansion', () => {
    const e = one('ENV A=1 B="two words" C=three\\ words');
    assert.deepEqual(e.kind === 'ENV' && e.pairs, [
      ['A', '1'],
      ['B', '"two words"'],
      ['C', 'three\\ words'],
    ]);
    const legacy = one('ENV NAME the rest of it');
    assert.deepEqual(legacy.kind === 'ENV' && legacy.pairs, [['NAME', 'the rest of it']]);
    fails('FROM a\nENV A=1 B\n', /Dockerfile:2: ENV: syntax error - can't find = in "B"/);
    fails('FROM a\nENV A\n', /ENV: must have two arguments/);
    fails('FROM a\nLABEL\n', /LABEL: requires at least one argument/);
  });

  it('parses COPY and ADD with flags and JSON form', () => {
    const c = one('COPY --from=build --chown=1:2 --chmod=0755 a b /dst/');
    assert.ok(c.kind === 'COPY');
    assert.deepEqual([c.sources, c.dest, c.from, c.chown, c.chmod], [['a', 'b'], '/dst/', 'build', '1:2', '0755']);
    const j = one('ADD ["a b", "/x"]');
    assert.ok(j.kind === 'ADD');
    assert.deepEqual([j.sources, j.dest], [['a b'], '/x']);
  });

  it('names the line, the instruction and the fix for a short COPY', () => {
    fails('FROM a\n\nCOPY onlyone\n', /^Dockerfile:3: COPY: requires at least two arguments, but only one was provided \(COPY SOURCE… DEST\)$/);
  });

  it('rejects unknown flags, listing the allowed ones', () => {
    fails('FROM a\nCOPY --frm=x a b\n', /Dockerfile:2: COPY: unknown flag: --frm \(COPY takes --from, --chown/);
    fails('FROM a\nENV --x=1 A=1\n', /ENV takes no flags/);
    fails('FROM a\nCOPY --from a b\n', /missing a value on flag: --from/);
    fails('FROM a\nRUN --mount=type=cache,target=/x true\n', /--mount is not supported/);
  });

  it('names an unknown instruction and suggests the nearest', () => {
    fails('FROM a\nCOPPY a b\n', /^Dockerfile:2: unknown instruction: COPPY \(did you mean COPY\?\)$/);
    fails('FROM a\nFROBNICATE x\n', /^Dockerfile:2: unknown instruction: FROBNICATE$/);
  });

  it('parses HEALTHCHECK with options and NONE', () => {
    const h = one('HEALTHCHECK --interval=5s --timeout=1m30s --retries=3 CMD curl -f http://x/ || exit 1');
    assert.deepEqual(h.kind === 'HEALTHCHECK' && h.health, {
      test: ['CMD-SHELL', 'curl -f http://x/ || exit 1'],
      interval: 5e9,
      timeout: 90e9,
      retries: 3,
    });
    const j = one('HEALTHCHECK CMD ["/bin/check", "-q"]');
    assert.deepEqual(j.kind === 'HEALTHCHECK' && j.health.test, ['CMD', '/bin/check', '-q']);
    assert.deepEqual((one('HEALTHCHECK NONE') as { health: unknown }).health, { test: ['NONE'] });
    fails('FROM a\nHEALTHCHECK NONE x\n', /HEALTHCHECK: NONE takes no arguments/);
    fails('FROM a\nHEALTHCHECK --interval=5 CMD x\n', /--interval: invalid duration "5"/);
    fails('FROM a\nHEALTHCHECK --retries=-1 CMD x\n', /--retries cannot be negative/);
    fails('FROM a\nHEALTHCHECK FOO x\n', /unknown type "FOO" in HEALTHCHECK \(try CMD\)/);
    fails('FROM a\nHEALTHCHECK CMD\n', /missing command after HEALTHCHECK CMD/);
  });

  it('parses ARG, EXPOSE, VOLUME, WORKDIR, USER, STOPSIGNAL, SHELL, ONBUILD', () => {
    assert.deepEqual((one('ARG A B=2 C="x y"') as { args: unknown }).args, [{ name: 'A' }, { name: 'B', value: '2' }, { name: 'C', value: '"x y"' }]);
    assert.deepEqual((one('EXPOSE 80 53/udp') as { ports: unknown }).ports, ['80', '53/udp']);
    assert.deepEqual((one('VOLUME ["/a", "/b"]') as { paths: unknown }).paths, ['/a', '/b']);
    assert.deepEqual((one('VOLUME /a /b') as { paths: unknown }).paths, ['/a', '/b']);
    assert.equal((one('WORKDIR /my dir') as { value: unknown }).value, '/my dir');
    assert.deepEqual((one('SHELL ["/bin/bash", "-c"]') as { shell: unknown }).shell, ['/bin/bash', '-c']);
    assert.equal((one('ONBUILD RUN echo hi') as { trigger: unknown }).trigger, 'RUN echo hi');
    fails('FROM a\nSHELL /bin/bash -c\n', /SHELL: requires the arguments to be in JSON form/);
    fails('FROM a\nWORKDIR\n', /Dockerfile:2: WORKDIR: requires exactly one argument \(WORKDIR \/path\)/);
    fails('FROM a\nONBUILD ONBUILD RUN x\n', /chaining ONBUILD/);
    fails('FROM a\nONBUILD FROM x\n', /FROM isn't allowed as an ONBUILD trigger/);
    fails('FROM a\nONBUILD COPY x\n', /Dockerfile:2: COPY: requires at least two arguments/);
    fails('FROM a\nVOLUME [""]\n', /VOLUME: a volume path can not be an empty string/);
  });

  it('uses the file name it was given in errors', () => {
    assert.throws(() => parse('FROM a\nBAD x\n', 'sub/Dockerfile.dev'), /^DockerfileError: sub\/Dockerfile\.dev:2: unknown instruction: BAD|sub\/Dockerfile\.dev:2/);
  });

  it('splits words like buildkit (quotes and escapes kept)', () => {
    assert.deepEqual(splitWords(`a="b c" d='e f' g\\ h ""`, '\\'), ['a="b c"', "d='e f'", 'g\\ h', '""']);
  });

  it('parses Go durations', () => {
    assert.equal(parseGoDuration('1h2m3s'), 3723e9);
    assert.equal(parseGoDuration('1.5s'), 1.5e9);
    assert.equal(parseGoDuration('300ms'), 300e6);
    assert.equal(parseGoDuration('0'), 0);
    assert.equal(parseGoDuration('5'), undefined);
    assert.equal(parseGoDuration('s'), undefined);
  });
});
