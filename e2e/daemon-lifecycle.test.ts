// One daemon per data root and exec root (pid files, a successor during shutdown) and --live-restore,
// each against real daemons (bundled CLI) on private dirs, sockets, bridge names and nftables table.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { TSSWARM, eventually, ping, runCli } from './helpers/daemon.js';
import { busyboxArchive } from './helpers/busybox.js';


const exited = (p: ChildProcess): Promise<number | null> =>
  p.exitCode !== null ? Promise.resolve(p.exitCode) : new Promise((r) => p.once('exit', (code) => r(code)));

describe('e2e: daemon — one daemon per data root and exec root', function () {
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
