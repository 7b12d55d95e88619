// --init: the init's command line as the container sees it, and its exit status, signal forwarding and reaping. One daemon (bundled CLI) on private dirs, socket and network names.
import assert from 'node:assert/strict';
import { useBusyboxDaemon } from './helpers/busybox.js';

describe('e2e: engine — --init', function () {
  this.timeout(120_000);
  const engine = useBusyboxDaemon('/tmp/tsswarm-fixes3-');
  const cli = (args: string[]): Promise<{ stdout: string; stderr: string; code: number }> => engine.cli(args);

  it('--init: PID 1 reads "/sbin/tsswarm-init -- CMD…" in ps and /proc/1/cmdline, with no host path', async function () {
    const r = await cli(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'tr "\\0" " " </proc/1/cmdline; echo; cat /proc/1/comm; ps -o pid,args']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], '/sbin/tsswarm-init -- sh -c tr "\\0" " " </proc/1/cmdline; echo; cat /proc/1/comm; ps -o pid,args ');
    assert.equal(lines[1], 'tsswarm-init');
    const pid1 = lines.find((l) => /^\s*1\s/.test(l));
    assert.match(pid1 ?? '', /^\s*1\s+\/sbin\/tsswarm-init -- sh -c /);
    assert.doesNotMatch(r.stdout, /tsbox|dist\//, 'the host path of the helper does not show');
  });

  it('--init: the exit status, signal forwarding and reaping are unchanged', async function () {
    const ok = await cli(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'exit 7']);
    assert.equal(ok.code, 7);
    const killed = await cli(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'kill -TERM $$; sleep 5']);
    assert.equal(killed.code, 143, 'a signal death becomes 128+n');
    const z = await cli(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'sh -c "sleep 0 & exec sleep 0.3"; grep -l "^State:.*Z" /proc/[0-9]*/status | wc -l']);
    assert.equal(z.code, 0, z.stderr);
    assert.equal(z.stdout.trim(), '0', 'the orphaned zombie was reaped by the init');
  });
});
