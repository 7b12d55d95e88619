// Issue 12 §7: the container's monitor killed -9. The container keeps running and writing (its
// output pipes are still held, by the monitor's keeper), its output still reaches the log, ps says Up
// while it lives, and its end is still recorded (255: the status died with the monitor, its parent).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { eventually } from './helpers/daemon.js';
import { useBusyboxDaemon } from './helpers/busybox.js';

describe('e2e: monitor killed -9 under a running container', function () {
  const b = useBusyboxDaemon('/tmp/tsswarm-faults-mon-');

  it('the container survives its next writes, they reach the log, and the daemon records the end', async function () {
    // Writes a numbered line whenever /tmp/go appears; exits 7 when /tmp/stop appears.
    const script = 'i=0; while [ ! -e /tmp/stop ]; do if [ -e /tmp/go ]; then i=$((i+1)); echo line-$i; echo err-$i >&2; rm /tmp/go; fi; sleep 0.05; done; exit 7';
    const r = await b.cli(['run', '-d', '--name', 'orphan', 'busybox', 'sh', '-c', script]);
    assert.equal(r.code, 0, r.stderr);
    const pid = Number((await b.cli(['inspect', '-f', '{{.State.Pid}}', 'orphan'])).stdout.trim());
    const monitor = Number(execFileSync('ps', ['-o', 'ppid=', '-p', String(pid)]).toString().trim());
    assert.match(execFileSync('ps', ['-o', 'comm=', '-p', String(monitor)]).toString(), /tsbox-monitor/);
    assert.equal((await b.cli(['exec', 'orphan', 'touch', '/tmp/go'])).code, 0);
    await eventually('line-1 in the log', async () => ((await b.cli(['logs', 'orphan'])).stdout.includes('line-1') ? true : undefined));

    process.kill(monitor, 'SIGKILL');
    await eventually('monitor gone', async () => (existsSync(`/proc/${monitor}`) ? undefined : true));
    // The next writes: before the fix the container died of SIGPIPE here.
    for (const n of [2, 3]) {
      assert.equal((await b.cli(['exec', 'orphan', 'touch', '/tmp/go'])).code, 0);
      await eventually(`line-${n} in the log`, async () => {
        const logs = await b.cli(['logs', 'orphan']);
        return logs.stdout.includes(`line-${n}`) && logs.stderr.includes(`err-${n}`) ? true : undefined;
      });
    }
    assert.ok(existsSync(`/proc/${pid}`), 'the container died after its monitor');
    assert.match((await b.cli(['ps', '--filter', 'name=orphan'])).stdout, /Up /);

    assert.equal((await b.cli(['exec', 'orphan', 'touch', '/tmp/stop'])).code, 0);
    const st = await eventually('exit recorded', async () => {
      const s = (await b.cli(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'orphan'])).stdout.trim();
      return s.startsWith('exited') ? s : undefined;
    });
    assert.equal(st, 'exited 255');
    assert.match((await b.cli(['inspect', '-f', '{{.State.Error}}', 'orphan'])).stdout, /outlived its monitor: its exit status is lost/);
    const ev = await b.cli(['events', '--since', '0', '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'container=orphan', '--format', '{{.Action}}']);
    assert.match(ev.stdout, /^monitor-lost$/m, 'the daemon did not say it noticed the monitor die');
    assert.equal((await b.cli(['rm', 'orphan'])).code, 0);
  });
});
