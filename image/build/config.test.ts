import assert from 'node:assert/strict';
import type { ContainerConfig } from '../schemas.js';
import { applyInstruction, historyLine, normalizeWorkdir, parseExposedPort, setEnv, validateSignal, type StageConfig } from './config.js';
import { parseInstructions, type Instruction } from './instructions.js';
import { parseDockerfile } from './parse.js';

function run(lines: string[], base: ContainerConfig = {}): StageConfig {
  const instrs = parseInstructions(parseDockerfile(['FROM x', ...lines].join('\n'))).slice(1);
  return instrs.reduce((s: StageConfig, i: Instruction) => applyInstruction(s, i), { config: base, cmdSet: false });
}

describe('image/build/config', () => {
  it('sets Env in place and appends new keys', () => {
    assert.deepEqual(setEnv(['PATH=/bin', 'A=1'], 'PATH', '/usr/bin'), ['PATH=/usr/bin', 'A=1']);
    assert.deepEqual(run(['ENV A=1 B=2', 'ENV A=3'], { Env: ['PATH=/bin'] }).config.Env, ['PATH=/bin', 'A=3', 'B=2']);
  });

  it('wraps shell-form CMD/ENTRYPOINT in the SHELL', () => {
    const s = run(['CMD echo hi', 'SHELL ["/bin/bash", "-eu", "-c"]', 'ENTRYPOINT run it']);
    assert.deepEqual(s.config.Cmd, ['/bin/sh', '-c', 'echo hi']);
    assert.deepEqual(s.config.Entrypoint, ['/bin/bash', '-eu', '-c', 'run it']);
    assert.deepEqual(s.config.Shell, ['/bin/bash', '-eu', '-c']);
  });

  it('clears an inherited CMD when ENTRYPOINT is set, but not one set in this stage', () => {
    assert.equal(run(['ENTRYPOINT ["/e"]'], { Cmd: ['sh'] }).config.Cmd, null);
    assert.deepEqual(run(['CMD ["c"]', 'ENTRYPOINT ["/e"]'], { Cmd: ['sh'] }).config.Cmd, ['c']);
  });

  it('joins relative WORKDIRs', () => {
    assert.equal(run(['WORKDIR /a', 'WORKDIR b', 'WORKDIR ../c']).config.WorkingDir, '/a/c');
    assert.equal(normalizeWorkdir(undefined, 'rel'), '/rel');
    assert.equal(normalizeWorkdir('/x', '/abs/./y/'), '/abs/y/');
  });

  it('records ports, volumes, labels, user, stop signal, healthcheck, onbuild', () => {
    const s = run([
      'EXPOSE 80 53/UDP 8000-8001',
      'VOLUME /data ["/logs"]',
      'LABEL a=1 "b c"=2',
      'USER app:app',
      'STOPSIGNAL SIGINT',
      'HEALTHCHECK --interval=10s CMD true',
      'ONBUILD RUN echo child',
      'MAINTAINER me',
    ]);
    assert.deepEqual(s.config.ExposedPorts, { '80/tcp': {}, '53/udp': {}, '8000/tcp': {}, '8001/tcp': {} });
    assert.deepEqual(Object.keys(s.config.Volumes ?? {}), ['/data', '["/logs"]']);
    assert.deepEqual(s.config.Labels, { a: '1', '"b c"': '2' });
    assert.equal(s.config.User, 'app:app');
    assert.equal(s.config.StopSignal, 'SIGINT');
    assert.deepEqual(s.config.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 10e9 });
    assert.deepEqual(s.config.OnBuild, ['RUN echo child']);
    assert.equal(s.author, 'me');
  });

  it('validates ports and signals', () => {
    assert.deepEqual(parseExposedPort('8080/tcp'), ['8080/tcp']);
    assert.throws(() => parseExposedPort('http'), /invalid port "http"/);
    assert.throws(() => parseExposedPort('80/icmp'), /invalid port/);
    assert.throws(() => parseExposedPort('70000'), /invalid port/);
    assert.equal(validateSignal('TERM'), 'TERM');
    assert.equal(validateSignal('9'), '9');
    assert.equal(validateSignal('SIGRTMIN+3'), 'SIGRTMIN+3');
    assert.throws(() => validateSignal('SIGFOO'), /invalid signal: SIGFOO/);
  });

  it('leaves the base config alone', () => {
    const base: ContainerConfig = { Env: ['A=1'], Labels: { x: '1' } };
    run(['ENV A=2', 'LABEL x=2'], base);
    assert.deepEqual(base, { Env: ['A=1'], Labels: { x: '1' } });
  });

  it('writes history lines the way BuildKit does', () => {
    const [runI, envI, copyI] = parseInstructions(parseDockerfile('FROM x\nRUN echo hi\nENV A=1\nCOPY --chown=1 a /b\n')).slice(1);
    assert.equal(historyLine(runI as Instruction, {}, [['V', '1']]), 'RUN |1 V=1 /bin/sh -c echo hi');
    assert.equal(historyLine(envI as Instruction, {}), 'ENV A=1');
    assert.equal(historyLine(copyI as Instruction, {}), 'COPY --chown=1 a /b');
  });
});
