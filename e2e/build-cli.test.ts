// `tsswarm build` against a real daemon: the CLI tars the context (honouring .dockerignore) and streams
// it to POST /build, the daemon runs the Dockerfile builder (RUN in our runtime, multi-stage), and the
// image runs with `tsswarm run`. Also: the cache on an unchanged rebuild, and errors that name the
// Dockerfile line or the missing path.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { tarBuffer, writeDockerArchive, type TarEntry } from '../image/testing/archives.js';
import { busyboxConfig, busyboxLayerEntries } from '../image/testing/busybox-image.js';

const MULTI = [
  '# A stage that makes a file with RUN, and a final stage that takes it with COPY --from.',
  'FROM busybox:latest AS gen',
  'RUN echo built-by-run > /out.txt && echo $((6 * 7)) >> /out.txt',
  '',
  'FROM busybox:latest',
  'ARG GREETING=hi',
  'COPY --from=gen /out.txt /file',
  'COPY app/ /app/',
  'RUN echo "$GREETING" >> /file && test ! -e /app/ignored.txt',
  'LABEL stage=final',
  '',
].join('\n');

describe('tsswarm build (e2e)', function () {
  this.timeout(180_000);
  let d: TestDaemon;
  let tmp: string;

  const ok = async (args: string[]): Promise<{ stdout: string; stderr: string }> => {
    const r = await d.cli(args);
    assert.equal(r.code, 0, `tsswarm ${args.join(' ')} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
    return r;
  };
  const context = (name: string, files: Record<string, string>): string => {
    const dir = join(tmp, name);
    for (const [f, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, f)), { recursive: true });
      writeFileSync(join(dir, f), text);
    }
    return dir;
  };

  before(async function () {
    if (process.getuid?.() !== 0) this.skip();
    d = await startDaemon();
    const archive = join(d.dir, 'busybox.tar');
    await writeDockerArchive(archive, [{ layers: [await tarBuffer(busyboxLayerEntries())], config: busyboxConfig(), tags: ['busybox:latest'] }]);
    await ok(['load', '-q', '-i', archive]);
    tmp = mkdtempSync('/tmp/tsswarm-build-cli-');
  });

  after(async () => {
    if (d) {
      // Every build's context dir and scratch space is gone, and no overlay view is left mounted.
      // The context of the last build is removed as its response ends: give that a bounded moment.
      const contexts = () => readdirSync(join(d!.dir, 'data', 'image', 'tmp')).filter((n) => n.startsWith('build-'));
      for (let i = 0; i < 100 && contexts().length; i++) await new Promise((r) => setTimeout(r, 50));
      const leftovers = contexts();
      const buildTmp = join(d.dir, 'data', 'build', 'tmp');
      const scratch = existsSync(buildTmp) ? readdirSync(buildTmp) : [];
      const mounts = readFileSync('/proc/self/mountinfo', 'utf8').includes(d.dir);
      await d.stop();
      assert.deepEqual(leftovers, [], 'a build left its context behind');
      assert.deepEqual(scratch, [], 'a build left scratch space behind');
      assert.equal(mounts, false, 'a build left a mount behind');
    }
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  let multi: string;

  it('builds a multi-stage Dockerfile with RUN, and the image runs', async () => {
    multi = context('multi', {
      Dockerfile: MULTI,
      '.dockerignore': 'app/ignored.txt\n',
      'app/main.sh': 'echo main\n',
      'app/ignored.txt': 'must not be sent\n',
    });
    const r = await ok(['build', '-t', 'cli-multi:1', '--build-arg', 'GREETING=hello', '--label', 'built.by=e2e', multi]);
    assert.match(r.stdout, /^Step 1\/8 : FROM busybox:latest AS gen$/m, r.stdout);
    assert.match(r.stdout, /^ ---> Running in /m);
    assert.match(r.stdout, /^Successfully tagged cli-multi:1$/m);

    const run = await ok(['run', '--rm', 'cli-multi:1', 'cat', '/file']);
    assert.equal(run.stdout, 'built-by-run\n42\nhello\n');
    const labels = await ok(['image', 'inspect', '--format', '{{json .Config.Labels}}', 'cli-multi:1']);
    assert.deepEqual(JSON.parse(labels.stdout), { stage: 'final', 'built.by': 'e2e' });
  });

  it('an unchanged rebuild takes every step from the cache and yields the same image', async () => {
    const before = (await ok(['image', 'inspect', '--format', '{{.Id}}', 'cli-multi:1'])).stdout.trim();
    const r = await ok(['build', '-t', 'cli-multi:1', '--build-arg', 'GREETING=hello', '--label', 'built.by=e2e', multi]);
    const lines = r.stdout.split('\n');
    const steps = lines.flatMap((l, i) => (/^Step \d+\/\d+ : /.test(l) ? [i] : []));
    assert.equal(steps.length, 8, r.stdout);
    for (const i of steps) {
      // FROM names its base image (Docker's classic builder prints only its ID); every other step,
      // ARG included, as in Docker's classic builder, must come from the cache.
      if (/^Step \d+\/\d+ : FROM /.test(lines[i]!)) {
        assert.match(lines[i + 1]!, /^ ---> [0-9a-f]{12}$/, r.stdout);
        continue;
      }
      assert.equal(lines[i + 1], ' ---> Using cache', `${lines[i]} was not taken from the cache:\n${r.stdout}`);
    }
    assert.doesNotMatch(r.stdout, /Running in/);
    const after = (await ok(['image', 'inspect', '--format', '{{.Id}}', 'cli-multi:1'])).stdout.trim();
    assert.equal(after, before);
  });

  it('image build: -q prints only the ID; -f may name a Dockerfile outside the context; --target stops at a stage', async () => {
    const ctx = context('target', { 'data.txt': 'payload\n' });
    const file = join(tmp, 'elsewhere', 'Build.dockerfile');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, 'FROM busybox:latest AS first\nCOPY data.txt /data.txt\nRUN echo first > /which\n\nFROM first\nRUN echo second > /which\n');
    const r = await ok(['image', 'build', '-q', '--target', 'first', '-f', file, '-t', 'cli-target', ctx]);
    assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const run = await ok(['run', '--rm', 'cli-target', 'cat', '/data.txt', '/which']);
    assert.equal(run.stdout, 'payload\nfirst\n');
  });

  it('a Dockerfile error exits non-zero and names the line', async () => {
    const bad = context('bad', { Dockerfile: 'FROM busybox:latest\nRUN true\nFROBNICATE x\n' });
    const r = await d.cli(['build', '-t', 'cli-bad', bad]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Dockerfile:3: unknown instruction: FROBNICATE/);

    const failing = context('failing', { Dockerfile: 'FROM busybox:latest\nRUN echo before\nRUN echo about to fail && exit 3\n' });
    const f = await d.cli(['build', failing]);
    assert.notEqual(f.code, 0);
    assert.match(f.stdout, /about to fail/);
    assert.match(f.stderr, /Dockerfile:3: RUN: .*returned a non-zero code: 3/);
  });

  it('a missing context or Dockerfile is named in the error', async () => {
    const missing = join(tmp, 'no-such-dir');
    const r = await d.cli(['build', missing]);
    assert.notEqual(r.code, 0);
    assert.ok(r.stderr.includes(missing), r.stderr);

    const empty = context('empty', { 'readme.txt': 'no Dockerfile here\n' });
    const e = await d.cli(['build', empty]);
    assert.notEqual(e.code, 0);
    assert.ok(e.stderr.includes(join(empty, 'Dockerfile')), e.stderr);

    const named = await d.cli(['build', '-f', join(empty, 'Other.dockerfile'), empty]);
    assert.notEqual(named.code, 0);
    assert.ok(named.stderr.includes(join(empty, 'Other.dockerfile')), named.stderr);
  });

  it('the daemon refuses a context that escapes its directory, and a Dockerfile linked out of it', async () => {
    const post = async (entries: TarEntry[], query = ''): Promise<{ status: number; body: string }> => {
      const tar = await tarBuffer(entries);
      return new Promise((resolve, reject) => {
        const req = request({ socketPath: d.host.slice('unix://'.length), path: `/v1.41/build${query}`, method: 'POST', headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.once('error', reject);
        req.end(tar);
      });
    };
    const dockerfile = { h: { name: 'Dockerfile', type: 'file' as const, mode: 0o644 }, data: Buffer.from('FROM busybox:latest\n') };
    const escape = await post([dockerfile, { h: { name: '../escaped.txt', type: 'file', mode: 0o644 }, data: Buffer.from('x') }]);
    assert.equal(escape.status, 400, escape.body);
    const linked = await post([{ h: { name: 'Dockerfile', type: 'symlink', linkname: '/etc/passwd' } }]);
    assert.equal(linked.status, 400, linked.body);
    assert.match(linked.body, /outside the build context/);
    const absolute = await post([dockerfile], '?dockerfile=%2Fetc%2Fpasswd');
    assert.equal(absolute.status, 400, absolute.body);
    assert.doesNotMatch(absolute.body + linked.body, /root:/);
  });

  it('tscompose build builds service images on the daemon: RUN, multi-stage, args, target, labels, image name', async () => {
    const dir = context('compose', {
      'compose.yaml': [
        'name: cb',
        'services:',
        '  app:',
        '    build:',
        '      context: ./app',
        '      dockerfile: app.Dockerfile',
        '      target: final',
        '      args: {WHO: compose}',
        '      labels: {from.compose: "yes"}',
        '  named:',
        '    image: cb-custom:2',
        '    build: {context: ./app, dockerfile: app.Dockerfile, target: base}',
        '  broken:',
        '    build: {context: ./broken}',
        '    profiles: [broken]',
        '',
      ].join('\n'),
      'app/app.Dockerfile': 'FROM busybox:latest AS base\nARG WHO=nobody\nRUN echo "base for $WHO" > /msg\n\nFROM base AS final\nRUN echo final >> /msg\n',
      'broken/Dockerfile': 'FROM busybox:latest\nRUN echo compose-broken-output && false\n',
    });
    const compose = async (args: string[]): Promise<{ stdout: string; stderr: string; code: number }> => {
      try {
        const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(ROOT, 'dist/tscompose.js'), ...args], { cwd: dir, env: d.env });
        return { stdout, stderr, code: 0 };
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string; code?: number };
        return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : 1 };
      }
    };
    const r = await compose(['build']);
    assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
    assert.equal((await ok(['run', '--rm', 'cb-app', 'cat', '/msg'])).stdout, 'base for compose\nfinal\n');
    assert.equal((await ok(['run', '--rm', 'cb-custom:2', 'cat', '/msg'])).stdout, 'base for nobody\n');
    const labels = await ok(['image', 'inspect', '--format', '{{json .Config.Labels}}', 'cb-app']);
    assert.deepEqual(JSON.parse(labels.stdout), { 'from.compose': 'yes' });

    const f = await compose(['--profile', 'broken', 'build', 'broken']);
    assert.notEqual(f.code, 0);
    assert.match(f.stderr, /service broken: build: Dockerfile:2: RUN: .*returned a non-zero code: 1/);
    assert.match(f.stderr, /compose-broken-output/);
  });
});
