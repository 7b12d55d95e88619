// Regression tests for CLI defects found by the QA audit: broken pipes, image filters, registry
// summaries, error texts, JSON formats and `cp` of whiteout-like names. One daemon for the file.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry, type TestRegistry } from '../image/testing/registry.js';
import { ROOT, TSSWARM, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { loadBusyboxImage } from './helpers/busybox.js';

const TSCOMPOSE = join(ROOT, 'dist/tscompose.js');

/**
 * Runs a CLI with stdout on a pipe whose reader goes away after the first chunk (`… | head -c1`), and
 * returns how the CLI ended.
 */
async function cutAfterFirstChunk(script: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<{ code: number | null; signal: string | null; first: string; stderr: string }> {
  const p = spawn(process.execPath, ['--', script, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let first = '';
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  p.stdout.once('data', (d: Buffer) => {
    first = d.toString();
    p.stdout.destroy();
  });
  const [code, signal] = (await once(p, 'exit')) as [number | null, string | null];
  return { code, signal, first, stderr };
}

describe('e2e: CLI fixes', function () {
  let work: string;
  let d: TestDaemon;
  const cli = (args: string[], input?: string): Promise<{ stdout: string; stderr: string; code: number }> => d.cli(args, input === undefined ? undefined : { input });

  before(async function () {
    if (process.getuid?.() !== 0) this.skip();
    work = mkdtempSync('/tmp/tsswarm-cli-fixes-');
    d = await startDaemon();
    await loadBusyboxImage(d, work);
  });

  after(async function () {
    if (d) {
      const ids = (await cli(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
      if (ids.length) await cli(['rm', '-f', ...ids]);
      await d.stop();
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  describe('a reader that goes away (… | head -1)', function () {
    const quiet = (r: { code: number | null; first: string; stderr: string }): void => {
      assert.ok(r.first.length > 0, 'some output arrived first');
      assert.doesNotMatch(r.stderr, /EPIPE|Unhandled|at /, r.stderr);
      assert.equal(r.stderr, '');
      // The status a shell reports for Docker's CLI, which SIGPIPE ends.
      assert.equal(r.code, 141);
    };

    it('run, logs and exec end quietly', async function () {
      quiet(await cutAfterFirstChunk(TSSWARM, ['run', '--rm', 'busybox', 'seq', '1', '300000'], d.env));
      const c = await cli(['run', '-d', '--name', 'pipes', 'busybox', 'sh', '-c', 'seq 1 300000; sleep 600']);
      assert.equal(c.code, 0, c.stderr);
      // Wait (a bounded number of polls) until seq's whole output is in the log.
      for (let i = 0; i < 300; i++) {
        const tail = await cli(['logs', '--tail', '1', 'pipes']);
        if (tail.stdout === '300000\n') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      quiet(await cutAfterFirstChunk(TSSWARM, ['logs', 'pipes'], d.env));
      quiet(await cutAfterFirstChunk(TSSWARM, ['exec', 'pipes', 'seq', '1', '300000'], d.env));
      assert.equal((await cli(['rm', '-f', 'pipes'])).code, 0);
    });

    it('tscompose logs ends quietly', async function () {
      const dir = join(work, 'proj');
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
      writeFileSync(join(dir, 'compose.yaml'), 'services:\n  s:\n    image: busybox:latest\n    command: ["sh", "-c", "seq 1 300000; sleep 600"]\n');
      const compose = (args: string[]): Promise<{ code: number | null; first: string; stderr: string }> => cutAfterFirstChunk(TSCOMPOSE, args, d.env, dir);
      const up = spawn(process.execPath, ['--', TSCOMPOSE, 'up', '-d'], { env: d.env, cwd: dir, stdio: 'ignore' });
      assert.deepEqual(await once(up, 'exit'), [0, null]);
      for (let i = 0; i < 300; i++) {
        const tail = await cli(['logs', '--tail', '1', 'proj-s-1']);
        if (tail.stdout === '300000\n') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      try {
        quiet(await compose(['logs']));
        // ps --format json: the whole command, quoted as docker compose prints it; Docker's time format.
        const { execFileSync } = await import('node:child_process');
        const ps = JSON.parse(execFileSync(process.execPath, ['--', TSCOMPOSE, 'ps', '--format', 'json'], { env: d.env, cwd: dir, encoding: 'utf8' }).trim()) as Record<string, unknown>;
        // Not shortened. (The single quotes Docker's daemon puts around an argument with spaces come from
        // the daemon's container list, agent/containers/view.ts.)
        assert.match(String(ps.Command), /^"sh -c '?seq 1 300000; sleep 600'?"$/);
        assert.match(String(ps.CreatedAt), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \S+$/);
      } finally {
        const down = spawn(process.execPath, ['--', TSCOMPOSE, 'down', '-t', '0'], { env: d.env, cwd: dir, stdio: 'ignore' });
        await once(down, 'exit');
      }
    });
  });

  it('images / image ls REPO[:TAG] lists only the matching names (wildcards too)', async function () {
    assert.equal((await cli(['tag', 'busybox', 'fix/one:1'])).code, 0);
    assert.equal((await cli(['tag', 'busybox', 'fix/two:2'])).code, 0);
    const names = async (args: string[]): Promise<string[]> => (await cli([...args, '--format', '{{.Repository}}:{{.Tag}}'])).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(await names(['images', 'busybox']), ['busybox:latest']);
    assert.deepEqual(await names(['image', 'ls', 'fix/one:1']), ['fix/one:1']);
    assert.deepEqual(await names(['image', 'ls', 'fix/*']), ['fix/one:1', 'fix/two:2']);
    assert.deepEqual(await names(['images', 'fix/one:2']), []);
    const json = JSON.parse((await cli(['images', '--format', 'json', 'fix/one'])).stdout) as { CreatedAt: string };
    assert.match(json.CreatedAt, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \S+$/);
    assert.equal((await cli(['rmi', 'fix/one:1', 'fix/two:2'])).code, 0);
  });

  describe('registry round trip', function () {
    let reg: TestRegistry;
    before(async function () {
      reg = await startRegistry();
    });
    after(async function () {
      await reg?.stop();
    });

    it('push and pull print one summary, naming the tag', async function () {
      const name = `${reg.host}/test/myimg:1`;
      assert.equal((await cli(['tag', 'busybox', name])).code, 0);
      const push = await cli(['push', name]);
      assert.equal(push.code, 0, push.stderr);
      const digestLines = push.stdout.split('\n').filter((l) => /digest: /.test(l));
      assert.equal(digestLines.length, 1, push.stdout);
      assert.match(digestLines[0]!, /^1: digest: sha256:[0-9a-f]{64} size: \d+$/);

      assert.equal((await cli(['rmi', name])).code, 0);
      const pull = await cli(['pull', name]);
      assert.equal(pull.code, 0, pull.stderr);
      assert.equal(pull.stdout.split('\n').filter((l) => l.startsWith('Digest: ')).length, 1, pull.stdout);
      assert.deepEqual(
        pull.stdout.split('\n').filter((l) => l.startsWith('Status: ')),
        [`Status: Downloaded newer image for ${name}`],
      );
      const again = await cli(['pull', name]);
      assert.deepEqual(
        again.stdout.split('\n').filter((l) => l.startsWith('Status: ')),
        [`Status: Image is up to date for ${name}`],
      );
      // No tag: Docker's CLI says which one it uses, and the registry has no "latest".
      const none = await cli(['pull', `${reg.host}/test/myimg`]);
      assert.equal(none.code, 1);
      assert.equal(none.stdout, 'Using default tag: latest\n');
      assert.match(none.stderr, /^Error response from daemon: manifest unknown: /);
    });
  });

  it('error messages: the real cause, Docker\'s texts, one prefix per origin', async function () {
    const refused = await cli(['pull', '127.0.0.1:1/x:1']);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, 'Error response from daemon: cannot reach registry 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1\n');

    const push = await cli(['push', 'nosuch/img:3']);
    assert.equal(push.code, 1);
    assert.equal(push.stdout, 'The push refers to repository [docker.io/nosuch/img]\n');
    assert.equal(push.stderr, 'An image does not exist locally with the tag: nosuch/img\n');

    const load = await cli(['load', '-i', '/etc/passwd']);
    assert.equal(load.code, 1);
    assert.equal(load.stderr, 'Error response from daemon: invalid image archive: not a tar archive (bad header checksum at byte 0)\n');
    const notImage = join(work, 'plain.tar');
    const { execFileSync } = await import('node:child_process');
    execFileSync('tar', ['-cf', notImage, '-C', '/etc', 'hostname']);
    const plain = await cli(['load', '-i', notImage]);
    assert.match(plain.stderr, /^Error response from daemon: invalid image archive: no manifest\.json/);
    assert.doesNotMatch(plain.stderr + load.stderr, /load-|archive\.tar/);

    // From the daemon: Docker's prefix. The CLI's own: the program's name.
    assert.match((await cli(['tag', 'nope', 'x'])).stderr, /^Error response from daemon: No such image: nope/);
    const flag = await cli(['images', '-f', 'bad']);
    assert.equal(flag.code, 125);
    assert.match(flag.stderr, /^tsswarm: invalid argument "bad"/);
  });

  it('cp and build copy a file named .wh.x as a file, not as a whiteout', async function () {
    const src = join(work, 'wh');
    mkdirSync(src);
    writeFileSync(join(src, '.wh.x'), 'plain\n');
    writeFileSync(join(src, 'x'), 'kept\n');
    writeFileSync(join(src, 'Dockerfile'), 'FROM busybox\nCOPY .wh.x /from-context\nCOPY x /x\n');
    const c = await cli(['run', '-d', '--name', 'whcp', 'busybox', 'sleep', '600']);
    assert.equal(c.code, 0, c.stderr);
    assert.equal((await cli(['exec', 'whcp', 'sh', '-c', 'echo there > /tmp/x'])).code, 0);
    const cp = await cli(['cp', join(src, '.wh.x'), 'whcp:/tmp/']);
    assert.equal(cp.code, 0, cp.stderr);
    assert.equal((await cli(['exec', 'whcp', 'cat', '/tmp/.wh.x', '/tmp/x'])).stdout, 'plain\nthere\n');
    assert.equal((await cli(['rm', '-f', 'whcp'])).code, 0);

    const b = await cli(['build', '-q', '-t', 'whctx:1', src]);
    assert.equal(b.code, 0, b.stderr);
    assert.equal((await cli(['run', '--rm', 'whctx:1', 'cat', '/from-context', '/x'])).stdout, 'plain\nkept\n');
    assert.equal((await cli(['rmi', 'whctx:1'])).code, 0);
  });
});
