// Container commands against a real daemon (bundled CLI): start -a, exec -d and on a paused container,
// unset -e/--env-file keys, exit codes 126/127, --cpus bounds.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, runCli } from './helpers/daemon.js';
import { useBusyboxDaemon } from './helpers/busybox.js';

describe('e2e: engine — container commands', function () {
  const engine = useBusyboxDaemon('/tmp/tsswarm-fixes-e2e-');
  const cli = (args: string[]): ReturnType<typeof runCli> => engine.cli(args);
  const psAll = async (): Promise<string[]> => (await cli(['ps', '-a', '-q', '--no-trunc'])).stdout.split('\n').filter(Boolean);

  it('start -a prints all output and returns the exit code, every time', async function () {
    assert.equal((await cli(['create', '--name', 'sa', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 4'])).code, 0);
    for (let i = 0; i < 10; i++) {
      const r = await cli(['start', '-a', 'sa']);
      assert.equal(r.code, 4, `try ${i}: ${r.stderr}`);
      assert.equal(r.stdout, 'out\n', `try ${i}`);
      assert.equal(r.stderr, 'err\n', `try ${i}`);
    }
    await cli(['rm', '-f', 'sa']);
  });

  it('exec -d runs the command in the background', async function () {
    assert.equal((await cli(['run', '-d', '--name', 'c2', 'busybox', 'sleep', '1000'])).code, 0);
    const r = await cli(['exec', '-d', 'c2', 'sh', '-c', 'echo hi > /tmp/dd; sleep 1; echo done > /tmp/dd2']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const out = await eventually('the detached exec has run', async () => {
      const c = await cli(['exec', 'c2', 'cat', '/tmp/dd', '/tmp/dd2']);
      return c.code === 0 ? c.stdout : undefined;
    });
    assert.equal(out, 'hi\ndone\n');
  });

  it('exec on a paused container says to unpause it', async function () {
    assert.equal((await cli(['pause', 'c2'])).code, 0);
    const r = await cli(['exec', 'c2', 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Error response from daemon: Container [0-9a-f]{64} is paused, unpause the container before exec/);
    assert.equal((await cli(['unpause', 'c2'])).code, 0);
    assert.equal((await cli(['exec', 'c2', 'true'])).code, 0);
  });

  it('-e KEY and --env-file KEY unset on the client are left out', async function () {
    const envFile = join(engine.work, 'e.env');
    writeFileSync(envFile, 'FROMFILE\nA=1\n');
    const env = { ...engine.d.env };
    delete env.BAZ;
    delete env.FROMFILE;
    const r = await runCli(['run', '--rm', '-e', 'BAZ', '-e', 'Q=1', '--env-file', envFile, 'busybox', 'env'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Q=1$/m);
    assert.match(r.stdout, /^A=1$/m);
    assert.doesNotMatch(r.stdout, /BAZ|FROMFILE/);
    const set = await runCli(['run', '--rm', '-e', 'BAZ', 'busybox', 'env'], { ...env, BAZ: 'qux' });
    assert.match(set.stdout, /^BAZ=qux$/m);
  });

  it('a command that cannot be found exits 127, one that cannot be run 126', async function () {
    const before = await psAll();
    const nf = await cli(['run', '--rm', 'busybox', 'nosuchcmd']);
    assert.equal(nf.code, 127, nf.stderr);
    assert.match(nf.stderr, /exec: "nosuchcmd": executable file not found in \$PATH/);
    const pd = await cli(['run', '--rm', 'busybox', '/etc/passwd']);
    assert.equal(pd.code, 126, pd.stderr);
    assert.match(pd.stderr, /permission denied/);
    assert.deepEqual(await psAll(), before);
    assert.equal((await cli(['create', '--name', 'nf', 'busybox', 'nosuchcmd'])).code, 0);
    assert.notEqual((await cli(['start', 'nf'])).code, 0);
    assert.equal((await cli(['inspect', '-f', '{{.State.ExitCode}}', 'nf'])).stdout.trim(), '127');
    await cli(['rm', '-f', 'nf']);
  });

  it('--cpus above the host CPU count is refused and creates nothing', async function () {
    const before = await psAll();
    const n = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
    const r = await cli(['run', '--rm', '--cpus', '999', 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, new RegExp(`range of CPUs is from 0\\.01 to ${n}\\.00, as there are only ${n} CPUs available`));
    assert.equal((await cli(['create', '--cpus', '999', 'busybox', 'true'])).code, 125);
    assert.deepEqual(await psAll(), before);
  });
});
