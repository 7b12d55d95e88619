// Issue 12 §7: the daemon killed -9 while `run -d` calls are in flight. After the restart every record
// must agree with what lives: a running record has its live pid, anything else has no process left in
// its cgroup, and `start` of a record left Created runs exactly one copy.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { TSSWARM, eventually, runCli } from './helpers/daemon.js';
import { busyboxArchive } from './helpers/busybox.js';

/** Host pids whose cgroup (any hierarchy) is the container's. */
function pidsInCgroup(id: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cgroup`, 'utf8').includes(`/tsswarm/${id}`)) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe('e2e: daemon killed -9 during run -d, reconciled at start-up', function () {
  let dir = '';
  let work = '';
  let env: NodeJS.ProcessEnv = {};
  let proc: ChildProcess | undefined;
  const cli = (args: string[]) => runCli(args, env);

  const spawnDaemon = async (): Promise<ChildProcess> => {
    const host = env.TSSWARM_HOST!;
    const p = spawn(process.execPath, [TSSWARM, 'daemon', '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--host', host], { stdio: ['ignore', 'ignore', 'pipe'], env });
    let log = '';
    p.stderr?.on('data', (b: Buffer) => (log += b.toString()));
    await eventually('daemon answers', async () => {
      if (p.exitCode !== null) throw new Error(`daemon exited: ${log}`);
      return (await runCli(['version'], env)).code === 0 ? true : undefined;
    });
    return p;
  };
  const killDaemon = async (sig: NodeJS.Signals): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    const done = new Promise((r) => p.once('exit', r));
    p.kill(sig);
    await done;
  };

  before(async function () {
    dir = mkdtempSync('/tmp/tsswarm-faults-kill-');
    work = mkdtempSync('/tmp/tsswarm-faults-kill-work-');
    env = { ...process.env, TSSWARM_HOST: `unix://${join(dir, 's.sock')}`, TSSWARM_NO_AUTOSTART: '1', TSSWARM_NET_PREFIX: `k${randomBytes(2).toString('hex').slice(0, 3)}`, TSSWARM_TEARDOWN: '1' };
    proc = await spawnDaemon();
    assert.equal((await cli(['load', '-i', await busyboxArchive(work)])).code, 0);
  });
  after(async function () {
    if (proc) {
      const ids = (await cli(['ps', '-aq', '--no-trunc'])).stdout.trim().split('\n').filter(Boolean);
      if (ids.length) await cli(['rm', '-f', ...ids]);
    }
    await killDaemon('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  for (const round of [0, 1, 2]) {
    it(`round ${round}: every record matches what is alive, and start runs one copy`, async function () {
      const runs = Array.from({ length: 4 }, (_, i) => cli(['run', '-d', '--name', `r${round}-${i}`, 'busybox', 'sleep', '3600']));
      // Kill at a different moment each round: once the first record exists, then a little later.
      await eventually('a record exists', async () => ((await cli(['ps', '-aq'])).stdout.trim() ? true : undefined), 200, 5);
      for (let i = 0; i < round * 3; i++) await cli(['version']);
      await killDaemon('SIGKILL');
      await Promise.all(runs);
      proc = await spawnDaemon();
      const rows = (await cli(['ps', '-a', '--no-trunc', '--filter', `name=r${round}-`, '--format', '{{.ID}}'])).stdout.trim().split('\n').filter(Boolean);
      assert.ok(rows.length > 0);
      for (const id of rows) {
        const [status, pid] = (await cli(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', id])).stdout.trim().split(' ');
        const live = pidsInCgroup(id);
        if (status === 'running') {
          assert.ok(Number(pid) > 0 && live.includes(Number(pid)), `${id} running with pid ${pid}, cgroup holds ${live.join(',')}`);
        } else {
          assert.deepEqual(live, [], `${id} is ${status} yet its cgroup holds ${live.join(',')}`);
          assert.equal(pid, '0');
          const st = await cli(['start', id]);
          assert.equal(st.code, 0, st.stderr);
          const after = await eventually('one copy', async () => {
            const p = pidsInCgroup(id).filter((x) => readFileSync(`/proc/${x}/cmdline`, 'utf8').startsWith('sleep'));
            return p.length ? p : undefined;
          });
          assert.equal(after.length, 1, `${id}: ${after.length} copies of sleep`);
        }
      }
    });
  }
});
