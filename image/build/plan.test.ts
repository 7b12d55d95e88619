import assert from 'node:assert/strict';
import { DockerfileError } from './errors.js';
import { planBuild, resolveFromRef } from './plan.js';

describe('image/build/plan', () => {
  it('builds the stage graph with bases and COPY --from dependencies', () => {
    const p = planBuild(
      [
        'ARG BASE=busybox',
        'FROM ${BASE}:1 AS deps',
        'RUN make',
        'FROM scratch AS unused',
        'COPY x /x',
        'FROM deps AS build',
        'RUN build',
        'FROM ${BASE}',
        'COPY --from=build /out /app',
        'COPY --from=0 /lib /lib',
        'COPY --from=alpine:3 /etc/os-release /',
      ].join('\n'),
    );
    assert.deepEqual(p.stages.map((s) => [s.name, s.base, s.deps]), [
      ['deps', { kind: 'image', ref: 'busybox:1' }, []],
      ['unused', { kind: 'scratch' }, []],
      ['build', { kind: 'stage', index: 0 }, [0]],
      [undefined, { kind: 'image', ref: 'busybox' }, [2, 0]],
    ]);
    assert.equal(p.target, 3);
    assert.deepEqual(p.order, [0, 2, 3]);
    assert.equal(p.totalSteps, 2 + 2 + 4);
  });

  it('builds only what --target needs', () => {
    const p = planBuild('FROM a AS one\nRUN x\nFROM b AS two\nRUN y\nFROM one AS three\n', { target: 'TWO' });
    assert.equal(p.target, 1);
    assert.deepEqual(p.order, [1]);
    assert.throws(() => planBuild('FROM a AS one\n', { target: 'nope' }), /target stage "nope" could not be found \(stages: one\)/);
  });

  it('applies build args to global ARGs used in FROM', () => {
    const p = planBuild('ARG V=1\nARG IMG=base:${V}\nFROM $IMG\n', { buildArgs: { V: '2' } });
    assert.deepEqual(p.stages[0]?.base, { kind: 'image', ref: 'base:2' });
    assert.equal(p.globalArgs.get('IMG'), 'base:2');
  });

  it('knows the platform args in FROM', () => {
    const p = planBuild('FROM --platform=$BUILDPLATFORM img-$TARGETARCH\n');
    assert.deepEqual([p.stages[0]?.base, p.stages[0]?.platform], [{ kind: 'image', ref: 'img-amd64' }, 'linux/amd64']);
  });

  it('warns about build args nothing declares', () => {
    const p = planBuild('FROM a\nARG USED\n', { buildArgs: { USED: '1', EXTRA: '2', HTTP_PROXY: 'x' } });
    assert.deepEqual(p.warnings, ['[Warning] One or more build-args [EXTRA] were not consumed']);
  });

  it('refuses instructions before the first FROM, naming the line', () => {
    assert.throws(
      () => planBuild('ARG A\nRUN echo\nFROM a\n'),
      (e: unknown) => e instanceof DockerfileError && /^Dockerfile:2: RUN: no build stage in current context/.test(e.message),
    );
  });

  it('rejects duplicate stage names, blank bases and bad --from references', () => {
    assert.throws(() => planBuild('FROM a AS x\nFROM b AS X\n'), /Dockerfile:2: FROM: duplicate stage name "x"/);
    assert.throws(() => planBuild('ARG B\nFROM ${B}\n'), /Dockerfile:2: FROM: base name \(\$\{B\}\) should not be blank/);
    assert.throws(() => planBuild('FROM a AS x\nCOPY --from=x /a /b\n'), /Dockerfile:2: COPY: stage "x" cannot copy from itself/);
    assert.throws(() => planBuild('FROM a\nCOPY --from=3 /a /b\n'), /Dockerfile:2: COPY: --from=3 refers to stage 3/);
  });

  it('resolves FROM and --from names case-insensitively, and only to earlier stages', () => {
    const stages = [{ index: 0, name: 'build' }, { index: 1 }];
    assert.deepEqual(resolveFromRef('BUILD', stages, 2), { kind: 'stage', index: 0 });
    assert.deepEqual(resolveFromRef('1', stages, 2), { kind: 'stage', index: 1 });
    assert.deepEqual(resolveFromRef('busybox', stages, 2), { kind: 'image', ref: 'busybox' });
    const p = planBuild('FROM later AS first\nFROM x AS later\n');
    assert.deepEqual(p.stages[0]?.base, { kind: 'image', ref: 'later' });
  });
});
