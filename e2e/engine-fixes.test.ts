// Regression tests for the engine defects found by the QA audit (one `describe` block per area), each
// against a real daemon (bundled CLI) on private dirs, socket, bridge names and nftables table.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { TSSWARM, eventually, ping, runCli } from './helpers/daemon.js';
import { busyboxArchive, useBusyboxDaemon } from './helpers/busybox.js';

const exited = (p: ChildProcess): Promise<number | null> =>
  p.exitCode !== null ? Promise.resolve(p.exitCode) : new Promise((r) => p.once('exit', (code) => r(code)));

describe('e2e: engine fixes — one daemon per data root and exec root', function () {
  let dir: string;
  let work: string;
  let archive: string;
  const prefix = `f${randomBytes(2).toString('hex').slice(0, 3)}`;
  const procs: ChildProcess[] = [];
  const baseEnv = (): NodeJS.ProcessEnv => ({ ...process.env, TSSWARM_NO_AUTOSTART: '1', TSSWARM_NET_PREFIX: prefix, TSSWARM_TEARDOWN: '1' });

  /** Spawns a daemon; resolves once it answers on its socket or has exited (then with its stderr). */
  const spawnDaemon = async (data: string, exec: string, sock: string, env = baseEnv()): Promise<{ p: ChildProcess; log: () => string; up: boolean }> => {
    const p = spawn(process.execPath, [TSSWARM, 'daemon', '--data-root', data, '--exec-root', exec, '--host', `unix://${sock}`], { stdio: ['ignore', 'ignore', 'pipe'], env });
    procs.push(p);
    let log = '';
    p.stderr?.on('data', (b: Buffer) => (log += b.toString()));
    const up = await eventually('daemon answers or exits', async () => {
      if (p.exitCode !== null) return false;
      return (await ping(sock)) ? true : undefined;
    });
    if (!up) await exited(p);
    return { p, log: () => log, up };
  };
  const stop = async (p: ChildProcess): Promise<void> => {
    if (p.exitCode !== null) return;
    const done = exited(p);
    p.kill('SIGTERM');
    await done;
  };

  before(async function () {
    dir = mkdtempSync('/tmp/tsswarm-fixes-lock-');
    work = mkdtempSync('/tmp/tsswarm-fixes-work-');
    archive = await busyboxArchive(work);
  });
  after(async function () {
    for (const p of procs) await stop(p);
    rmSync(dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('refuses a second daemon on the same data root or exec root; a stale pid file is replaced', async function () {
    const a = await spawnDaemon(join(dir, 'data'), join(dir, 'exec'), join(dir, 'a.sock'));
    assert.ok(a.up, a.log());
    const pidFile = join(dir, 'data', 'tsswarm.pid');
    assert.equal(readFileSync(pidFile, 'utf8').split('\n')[0], String(a.p.pid));

    const b = await spawnDaemon(join(dir, 'data'), join(dir, 'exec-b'), join(dir, 'b.sock'));
    assert.equal(b.up, false);
    assert.equal(b.p.exitCode, 1);
    assert.match(b.log(), new RegExp(`tsswarm: pid file found, ensure tsswarm daemon is not running or delete ${pidFile}`));
    const c = await spawnDaemon(join(dir, 'data-c'), join(dir, 'exec'), join(dir, 'c.sock'));
    assert.equal(c.up, false);
    assert.match(c.log(), /pid file found, ensure tsswarm daemon is not running or delete .*\/exec\/tsswarm\.pid/);
    // The refused daemons touched nothing of the first one's.
    assert.ok(await ping(join(dir, 'a.sock')));
    assert.equal(readFileSync(pidFile, 'utf8').split('\n')[0], String(a.p.pid));
    await stop(a.p);
    assert.ok(!existsSync(pidFile));

    // A pid file left by a dead process (and one naming a live process that is no daemon) is stale.
    writeFileSync(pidFile, '999999999\n');
    writeFileSync(join(dir, 'exec', 'tsswarm.pid'), `${process.pid}\n`);
    const d = await spawnDaemon(join(dir, 'data'), join(dir, 'exec'), join(dir, 'a.sock'));
    assert.ok(d.up, d.log());
    assert.equal(readFileSync(pidFile, 'utf8').split('\n')[0], String(d.p.pid));
    await stop(d.p);
  });

  it('a daemon started while the old one shuts down is refused, and a successor socket survives the old one', async function () {
    // Without teardown the old daemon stops its container on SIGTERM; this PID 1 catches SIGTERM and
    // carries on, so it gets its whole grace period: the shutdown lasts until the container is killed,
    // leaving a window to start others in. (A PID 1 without a handler would be killed at once.)
    const env = { ...baseEnv(), TSSWARM_TEARDOWN: '0' };
    const sock = join(dir, 'r.sock');
    const a = await spawnDaemon(join(dir, 'rdata'), join(dir, 'rexec'), sock, env);
    assert.ok(a.up, a.log());
    const cli = (args: string[]): ReturnType<typeof runCli> => runCli(args, { ...env, TSSWARM_HOST: `unix://${sock}` });
    assert.equal((await cli(['load', '-i', archive])).code, 0);
    const r = await cli(['run', '-d', '--stop-timeout', '60', '--name', 'slow', 'busybox', 'sh', '-c', 'trap "echo ignored" TERM; echo ready; while :; do sleep 1; done']);
    assert.equal(r.code, 0, r.stderr);
    const pid = Number((await cli(['inspect', '-f', '{{.State.Pid}}', 'slow'])).stdout.trim());
    await eventually('the trap is installed', async () => ((await cli(['logs', 'slow'])).stdout.includes('ready') ? true : undefined));
    a.p.kill('SIGTERM');
    // The old daemon stops accepting before it stops the container; then the same roots are refused…
    await eventually('old daemon stops listening', async () => ((await ping(sock)) ? undefined : true));
    const same = await spawnDaemon(join(dir, 'rdata'), join(dir, 'rexec'), sock, env);
    assert.equal(same.up, false);
    assert.match(same.log(), /pid file found/);
    // …while a daemon on other roots may take the socket path, and keeps it when the old one exits.
    const other = await spawnDaemon(join(dir, 'odata'), join(dir, 'oexec'), sock, { ...baseEnv(), TSSWARM_NET_PREFIX: `g${prefix.slice(1)}` });
    assert.ok(other.up, other.log());
    assert.equal(a.p.exitCode, null, 'the old daemon is still shutting down');
    process.kill(pid, 'SIGKILL');
    await exited(a.p);
    assert.ok(await ping(sock), 'the successor still answers on its socket');
    assert.ok(existsSync(sock));
    await stop(other.p);
    // Clean up the old daemon's networking through a tearing-down daemon on its roots.
    const c = await spawnDaemon(join(dir, 'rdata'), join(dir, 'rexec'), sock);
    assert.ok(c.up, c.log());
    await runCli(['rm', '-f', 'slow'], { ...baseEnv(), TSSWARM_HOST: `unix://${sock}` });
    await stop(c.p);
  });

  it('with --live-restore, SIGTERM leaves containers running and the next daemon re-attaches', async function () {
    const sock = join(dir, 'l.sock');
    const env = { ...baseEnv(), TSSWARM_HOST: `unix://${sock}` };
    const spawnLR = async (): Promise<ChildProcess> => {
      const p = spawn(process.execPath, [TSSWARM, 'daemon', '--live-restore', '--data-root', join(dir, 'ldata'), '--exec-root', join(dir, 'lexec'), '--host', `unix://${sock}`], { stdio: ['ignore', 'ignore', 'ignore'], env: { ...env, TSSWARM_TEARDOWN: '0' } });
      procs.push(p);
      await eventually('daemon answers', async () => ((await ping(sock)) ? true : undefined));
      return p;
    };
    const a = await spawnLR();
    assert.equal((await runCli(['load', '-i', archive], env)).code, 0);
    assert.equal((await runCli(['run', '-d', '--name', 'lr', 'busybox', 'sleep', '1000'], env)).code, 0);
    const pid = Number((await runCli(['inspect', '-f', '{{.State.Pid}}', 'lr'], env)).stdout.trim());
    await stop(a);
    process.kill(pid, 0);
    // The successor tears down at stop (test env), unlike the live-restore one.
    const b = await spawnDaemon(join(dir, 'ldata'), join(dir, 'lexec'), sock);
    assert.ok(b.up, b.log());
    assert.match((await runCli(['ps'], env)).stdout, /Up .*\blr\n/);
    assert.equal((await runCli(['rm', '-f', 'lr'], env)).code, 0);
    assert.ok(!existsSync(`/proc/${pid}`) || !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('sleep'));
  });
});

describe('e2e: engine fixes — containers', function () {
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

describe('e2e: engine fixes — host network and binds', function () {
  const engine = useBusyboxDaemon('/tmp/tsswarm-fixes-e2e-');
  const cli = (args: string[]): ReturnType<typeof runCli> => engine.cli(args);

  it('--network host: the host name and the host /etc/hosts (read-only)', async function () {
    const r = await cli(['run', '--rm', '--network', 'host', 'busybox', 'sh', '-c', 'hostname; cat /etc/hosts; (echo x >> /etc/hosts) 2>/dev/null && echo writable; true']);
    assert.equal(r.code, 0, r.stderr);
    const [name, ...rest] = r.stdout.split('\n');
    assert.equal(name, hostname());
    assert.equal(rest.join('\n').replace(/\n+$/, ''), readFileSync('/etc/hosts', 'utf8').replace(/\n+$/, ''));
    assert.doesNotMatch(r.stdout, /writable/);
  });

  it('-v creates a missing host directory; --mount type=bind refuses it', async function () {
    const src = join(engine.work, 'nonexist', 'dir');
    const r = await cli(['run', '--rm', '-v', `${src}:/x`, 'busybox', 'sh', '-c', 'echo hi > /x/f']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(statSync(src).isDirectory());
    assert.equal(readFileSync(join(src, 'f'), 'utf8'), 'hi\n');
    const m = await cli(['run', '--rm', '--mount', `type=bind,source=${join(engine.work, 'nope')},target=/x`, 'busybox', 'true']);
    assert.equal(m.code, 125);
    assert.match(m.stderr, new RegExp(`invalid mount config for type "bind": bind source path does not exist: ${join(engine.work, 'nope')}`));
  });
});
