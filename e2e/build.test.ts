// `tsswarm build` end to end: Dockerfiles built on the busybox fixture image with RUN executed by our
// runtime, the results checked by running containers from them, and the cache checked by rebuilding.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { Runtime } from '../runtime/driver.js';
import { ImageStore } from '../image/store.js';
import { importBusyboxImage } from '../image/testing/busybox-image.js';
import { ensureTsunpack } from '../image/testing/native.js';
import { makeTestDir } from '../image/testing/tmp.js';
import { Builder, type BuildOptions } from '../image/build/builder.js';
import { runtimeExecutor } from '../image/build/executor.js';
import { DockerfileError } from '../image/build/errors.js';
import { ensureTsbox } from './fixtures/tsbox.js';

describe('e2e: build', function () {
  let tmp: string;
  let cleanup: () => Promise<void>;
  let store: ImageStore;
  let rt: Runtime;
  let builder: Builder;
  const rtRoot = `/run/tsswarm-build-test-${randomBytes(4).toString('hex')}`;
  let ctxN = 0;

  before(async () => {
    ensureTsunpack();
    ensureTsbox();
    ({ dir: tmp, cleanup } = await makeTestDir('tsswarm-build-e2e-'));
    store = await ImageStore.open(join(tmp, 'data'));
    await importBusyboxImage(store);
    rt = new Runtime({ root: rtRoot });
    builder = new Builder({ store, executor: runtimeExecutor(rt), root: join(tmp, 'data', 'build') });
  });

  after(async () => {
    for (const c of await rt.list().catch(() => [])) await rt.delete(c.id, { force: true }).catch(() => undefined);
    await rm(rtRoot, { recursive: true, force: true });
    // No overlay view may outlive a build.
    const mounts = execFileSync('cat', ['/proc/self/mountinfo'], { encoding: 'utf8' });
    assert.equal(mounts.includes(tmp), false, 'a build left a mount behind');
    await cleanup();
  });

  async function context(files: Record<string, string>): Promise<string> {
    const dir = join(tmp, `ctx-${ctxN++}`);
    for (const [name, content] of Object.entries(files)) {
      await mkdir(join(dir, name, '..'), { recursive: true });
      await writeFile(join(dir, name), content);
    }
    return dir;
  }

  async function build(dir: string, over: Partial<BuildOptions> = {}): Promise<{ id: string; lines: string[] }> {
    const lines: string[] = [];
    const r = await builder.build({ context: dir, tags: [], buildArgs: {}, labels: {}, output: (l) => lines.push(l), ...over });
    return { id: r.imageId, lines };
  }

  /** Runs argv in a container of the image (a throwaway upper dir) and returns stdout. */
  async function runIn(id: string, argv: string[]): Promise<string> {
    const cfg = await store.config(id);
    const work = join(tmp, `run-${randomBytes(3).toString('hex')}`);
    await mkdir(join(work, 'upper'), { recursive: true });
    await mkdir(join(work, 'work'), { recursive: true });
    let out = '';
    const r = await runtimeExecutor(rt).run({
      id: `bt-${randomBytes(4).toString('hex')}`,
      rootfs: { lower: store.lowerDirs(id), upper: join(work, 'upper'), work: join(work, 'work') },
      args: argv,
      env: cfg.config?.Env ?? [],
      cwd: cfg.config?.WorkingDir || '/',
      user: { uid: 0, gid: 0, additionalGids: [] },
      network: 'none',
      workDir: join(work, 'run'),
      output: (_s, t) => (out += t),
    });
    await rm(work, { recursive: true, force: true });
    assert.equal(r.exitCode, 0, `${argv.join(' ')} exited ${r.exitCode}: ${out}`);
    return out;
  }

  const MULTI = [
    '# syntax=docker/dockerfile:1',
    'ARG BASE=busybox',
    'FROM ${BASE} AS base',
    'RUN echo hello > /hello.txt && rm /etc/group && mkdir -p /data/sub && echo x > /data/sub/f',
    'COPY app/ /app/',
    'ENV GREETING=hi \\',
    '    OTHER="two words"',
    'WORKDIR /app',
    'RUN rm -rf /data && mkdir /data && echo new > /data/only',
    '',
    'FROM busybox',
    'COPY --from=base /hello.txt /copied.txt',
    'COPY --from=base /app /srv/app',
    'COPY --chown=65534:65534 app/main.sh /srv/',
    'ENV A=1',
    'EXPOSE 8080',
    'LABEL org.example.name="multi stage"',
    'CMD ["cat", "/copied.txt"]',
  ].join('\n');

  let multiCtx: string;
  let multiId: string;

  it('builds a multi-stage image with RUN, COPY, COPY --from, ENV, WORKDIR, CMD', async () => {
    multiCtx = await context({ Dockerfile: MULTI, 'app/main.sh': '#!/bin/sh\necho main\n', 'app/lib/util.sh': 'util\n', 'unrelated.txt': 'x' });
    const { id, lines } = await build(multiCtx, { tags: ['multi:1'], labels: { 'built.by': 'test' } });
    multiId = id;
    assert.ok(lines.includes('Step 1/14 : FROM ${BASE} AS base'), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith(' ---> Running in ')));
    assert.ok(lines.includes('Successfully tagged multi:1'));
    assert.equal(store.resolve('multi:1')?.id, id);

    const cfg = await store.config(id);
    assert.deepEqual(cfg.config?.Cmd, ['cat', '/copied.txt']);
    assert.ok(cfg.config?.Env?.includes('A=1'));
    assert.deepEqual(cfg.config?.ExposedPorts, { '8080/tcp': {} });
    assert.deepEqual(cfg.config?.Labels, { 'org.example.name': 'multi stage', 'built.by': 'test' });
    assert.equal(cfg.history?.length, 2 + 7);

    assert.equal(await runIn(id, ['cat', '/copied.txt']), 'hello\n');
    assert.equal(await runIn(id, ['cat', '/srv/app/lib/util.sh']), 'util\n');
    assert.equal(await runIn(id, ['sh', '-c', 'stat -c "%u:%g %a" /srv/main.sh /srv/app/main.sh']), '65534:65534 644\n0:0 644\n');
  });

  it('carries deletions (whiteouts, replaced directories) from RUN into the image', async () => {
    const ctx = await context({ Dockerfile: MULTI, 'app/main.sh': '#!/bin/sh\necho main\n', 'app/lib/util.sh': 'util\n' });
    const { id } = await build(ctx, { target: 'base' });
    const cfg = await store.config(id);
    assert.equal(cfg.config?.WorkingDir, '/app');
    assert.ok(cfg.config?.Env?.includes('OTHER=two words'));
    assert.equal(await runIn(id, ['sh', '-c', 'ls /data; test -e /etc/group && echo group-still-there; cat /hello.txt; pwd']), 'only\nhello\n/app\n');
  });

  it('rebuilds an unchanged Dockerfile entirely from cache, to the same image', async () => {
    const t0 = Date.now();
    const { id, lines } = await build(multiCtx, { tags: ['multi:1'], labels: { 'built.by': 'test' } });
    const ms = Date.now() - t0;
    assert.equal(id, multiId);
    assert.equal(lines.some((l) => l.startsWith(' ---> Running in')), false, lines.join('\n'));
    const steps = lines.filter((l) => l.startsWith('Step ')).length;
    const hits = lines.filter((l) => l === ' ---> Using cache').length;
    assert.equal(hits, steps - 2 - 0, `every step but the two FROMs is a cache hit:\n${lines.join('\n')}`);
    console.log(`      (cached rebuild took ${ms} ms)`);
  });

  it('keeps the cache when an unrelated file changes, and misses from the COPY whose source changed', async () => {
    await writeFile(join(multiCtx, 'unrelated.txt'), 'changed');
    await utimes(join(multiCtx, 'app/main.sh'), new Date(), new Date(2000, 1, 1));
    const same = await build(multiCtx, { tags: ['multi:1'], labels: { 'built.by': 'test' } });
    assert.equal(same.id, multiId, 'touching files must not change the image');

    await writeFile(join(multiCtx, 'app/lib/util.sh'), 'util v2\n');
    const { id, lines } = await build(multiCtx);
    assert.notEqual(id, multiId);
    const runLines = lines.filter((l) => l.startsWith(' ---> Running in'));
    // The first RUN (before the COPY) is cached; the RUN after it reruns.
    assert.equal(runLines.length, 1, lines.join('\n'));
    assert.equal(await runIn(id, ['cat', '/srv/app/lib/util.sh']), 'util v2\n');
  });

  it('applies build args, .dockerignore, ADD of a local tar, USER and SHELL', async () => {
    const ctx = await context({
      Dockerfile: [
        'FROM busybox',
        'ARG WHO=world',
        'RUN echo "hello $WHO" > /greet',
        'COPY . /ctx/',
        'ADD files.tar.gz /unpacked/',
        'ADD plain.txt /plain.txt',
        'SHELL ["/bin/sh", "-e", "-c"]',
        'USER nobody',
        'RUN id -u > /tmp/uid',
        'HEALTHCHECK --interval=5s CMD true',
        'STOPSIGNAL SIGINT',
        'VOLUME /data',
      ].join('\n'),
      '.dockerignore': '*.log\nsecret/\n!secret/public.txt\n',
      'keep.txt': 'keep',
      'debug.log': 'log',
      'secret/key': 'k',
      'secret/public.txt': 'pub',
      'plain.txt': 'plain',
    });
    await mkdir(join(ctx, 'tarsrc/dir'), { recursive: true });
    await writeFile(join(ctx, 'tarsrc/dir/inside.txt'), 'inside');
    execFileSync('tar', ['-czf', join(ctx, 'files.tar.gz'), '-C', join(ctx, 'tarsrc'), 'dir']);
    const { id } = await build(ctx, { buildArgs: { WHO: 'tsswarm', UNUSED: 'x' } });
    assert.equal(await runIn(id, ['cat', '/greet']), 'hello tsswarm\n');
    assert.equal(await runIn(id, ['cat', '/unpacked/dir/inside.txt']), 'inside');
    assert.equal(await runIn(id, ['cat', '/plain.txt']), 'plain');
    assert.equal(await runIn(id, ['sh', '-c', 'ls /ctx | sort | tr "\\n" " "; ls /ctx/secret']), 'Dockerfile files.tar.gz keep.txt plain.txt secret tarsrc public.txt\n');
    assert.equal(await runIn(id, ['cat', '/tmp/uid']), '65534\n');
    const cfg = await store.config(id);
    assert.equal(cfg.config?.User, 'nobody');
    assert.equal(cfg.config?.StopSignal, 'SIGINT');
    assert.deepEqual(cfg.config?.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 5e9 });
    assert.deepEqual(cfg.config?.Volumes, { '/data': {} });
  });

  it('names the line and instruction of a Dockerfile error', async () => {
    const ctx = await context({ Dockerfile: 'FROM busybox\nRUN true\n\nCOPY onlyone\n' });
    await assert.rejects(build(ctx), (e: unknown) => e instanceof DockerfileError && /^Dockerfile:4: COPY: requires at least two arguments/.test(e.message));
    const bad = await context({ 'build/Dockerfile.dev': 'FROM busybox\nFROBNICATE\n' });
    await assert.rejects(build(bad, { dockerfile: 'build/Dockerfile.dev' }), /build\/Dockerfile\.dev:2: unknown instruction: FROBNICATE/);
  });

  it('names a missing source path, a failing RUN, and a missing base image', async () => {
    const missing = await context({ Dockerfile: 'FROM busybox\nCOPY nope/file.txt /x\n', '.dockerignore': 'ignored.txt', 'ignored.txt': 'i' });
    await assert.rejects(build(missing), /Dockerfile:2: COPY: "nope\/file\.txt" not found in the build context/);
    await writeFile(join(missing, 'Dockerfile'), 'FROM busybox\nCOPY ignored.txt /x\n');
    await assert.rejects(build(missing), /Dockerfile:2: COPY: "ignored\.txt" not found in the build context \(or excluded by \.dockerignore\)/);
    const failing = await context({ Dockerfile: 'FROM busybox\nRUN echo about to fail && exit 3\n' });
    const lines: string[] = [];
    await assert.rejects(
      builder.build({ context: failing, tags: [], buildArgs: {}, labels: {}, output: (l) => lines.push(l) }),
      /Dockerfile:2: RUN: the command '\/bin\/sh -c echo about to fail && exit 3' returned a non-zero code: 3/,
    );
    assert.ok(lines.includes('about to fail'), `the command's output is shown:\n${lines.join('\n')}`);
    const nobase = await context({ Dockerfile: 'FROM no-such-image:1\n' });
    await assert.rejects(build(nobase), /Dockerfile:1: FROM: No such image: no-such-image:1/);
  });

  it('runs ONBUILD triggers of the base, and ENTRYPOINT clears an inherited CMD', async () => {
    const parent = await context({ Dockerfile: 'FROM busybox\nONBUILD RUN echo triggered > /onbuild.txt\nCMD ["sh"]\n' });
    await build(parent, { tags: ['onbuild-parent:1'] });
    const child = await context({ Dockerfile: 'FROM onbuild-parent:1\nENTRYPOINT ["cat"]\n' });
    const { id, lines } = await build(child);
    assert.ok(lines.includes('# Executing 1 build trigger'), lines.join('\n'));
    const cfg = await store.config(id);
    assert.equal(cfg.config?.Cmd, null);
    assert.equal(cfg.config?.OnBuild, null);
    assert.equal(await runIn(id, ['cat', '/onbuild.txt']), 'triggered\n');
  });

  it('builds FROM scratch with COPY only', async () => {
    const ctx = await context({ Dockerfile: 'FROM scratch\nCOPY a.txt /\nCMD ["/nothing"]\n', 'a.txt': 'A' });
    const { id } = await build(ctx, { tags: ['scratchy:latest'] });
    const rec = store.get(id);
    assert.equal(rec.layers.length, 1);
    const cfg = await store.config(id);
    assert.deepEqual(cfg.config?.Cmd, ['/nothing']);
  });

  it('VOLUME creates its directories (root, 0755) so a later RUN can write there', async () => {
    const ctx = await context({ Dockerfile: 'FROM busybox\nVOLUME /data /srv/deep/vol\nRUN echo seeded > /data/seed && touch /srv/deep/vol/x\n' });
    const { id } = await build(ctx);
    const cfg = await store.config(id);
    assert.deepEqual(cfg.config?.Volumes, { '/data': {}, '/srv/deep/vol': {} });
    assert.equal(await runIn(id, ['stat', '-c', '%u:%g %a %F', '/data', '/srv/deep', '/srv/deep/vol']), '0:0 755 directory\n0:0 755 directory\n0:0 755 directory\n');
    // An existing directory is left as it is: no layer for it.
    const again = await build(await context({ Dockerfile: 'FROM busybox\nVOLUME /tmp\n' }));
    assert.equal(store.get(again.id).layers.length, store.get('busybox').layers.length);
    assert.equal(await runIn(again.id, ['stat', '-c', '%a', '/tmp']), '1777\n');
  });

  it('an unchanged rebuild prints "Using cache" for ARG steps, and only the image ID for FROM (as Docker)', async () => {
    const ctx = await context({ Dockerfile: 'FROM busybox\nARG WHO=world\nENV X=1\nRUN echo "hi $WHO" > /who\n' });
    const first = await build(ctx);
    const { id, lines } = await build(ctx);
    assert.equal(id, first.id);
    const after = (step: string): string[] => lines.slice(lines.indexOf(step) + 1, lines.indexOf(step) + 3);
    assert.match(after('Step 1/4 : FROM busybox')[0]!, /^ ---> [0-9a-f]{12}$/);
    assert.deepEqual(after('Step 2/4 : ARG WHO=world')[0], ' ---> Using cache');
    assert.match(after('Step 2/4 : ARG WHO=world')[1]!, /^ ---> [0-9a-f]{12}$/);
    assert.equal(lines.filter((l) => l === ' ---> Using cache').length, 3, lines.join('\n'));
    // Another value misses only where it is used.
    const other = await build(ctx, { buildArgs: { WHO: 'you' } });
    assert.equal(other.lines.filter((l) => l === ' ---> Using cache').length, 2, other.lines.join('\n'));
    assert.equal(await runIn(other.id, ['cat', '/who']), 'hi you\n');
  });
});
