// Stop without waiting for a signal that cannot arrive: a PID 1 without a handler for the stop signal
// is killed at once (and the kill event says why); one that traps it still gets its grace period.
import assert from 'node:assert/strict';
import { useBusyboxDaemon } from './helpers/busybox.js';

describe('e2e: stop of a PID 1 that cannot receive the stop signal', function () {
  const b = useBusyboxDaemon('/tmp/tsswarm-stopsig-');

  const events = async (name: string, since: number): Promise<Array<{ Action: string; Actor: { Attributes: Record<string, string> } }>> => {
    const r = await b.cli(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', `container=${name}`, '--format', '{{json .}}']);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  };

  it('kills `sleep` at once, says so in the kill event, and records 137', async function () {
    const since = Math.floor(Date.now() / 1000) - 1;
    assert.equal((await b.cli(['run', '-d', '--name', 'blind', 'busybox', 'sleep', '3600'])).code, 0);
    const stop = await b.cli(['stop', '-t', '60', 'blind']);
    assert.equal(stop.code, 0, stop.stderr);
    const ev = await events('blind', since);
    const kill = ev.find((e) => e.Action === 'kill');
    assert.ok(kill, `no kill event in ${JSON.stringify(ev.map((e) => e.Action))}`);
    assert.equal(kill.Actor.Attributes.signal, '9');
    assert.match(kill.Actor.Attributes.reason ?? '', /does not catch signal 15/);
    const code = await b.cli(['inspect', '-f', '{{.State.ExitCode}}', 'blind']);
    assert.equal(code.stdout.trim(), '137');
  });

  it('keeps the grace period for a PID 1 that traps the signal: it exits by its handler', async function () {
    const since = Math.floor(Date.now() / 1000) - 1;
    const run = await b.cli(['run', '-d', '--name', 'trapper', 'busybox', 'sh', '-c', 'trap "exit 3" TERM; while :; do sleep 0.1; done']);
    assert.equal(run.code, 0, run.stderr);
    // The trap is installed by the shell's first line; wait until SigCgt shows it (bounded by count).
    for (let i = 0; i < 100; i++) {
      const top = await b.cli(['exec', 'trapper', 'grep', 'SigCgt', '/proc/1/status']);
      const mask = BigInt(`0x${top.stdout.split(':')[1]?.trim() || '0'}`);
      if (mask & (1n << 14n)) break; // bit 14 = signal 15
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal((await b.cli(['stop', '-t', '60', 'trapper'])).code, 0);
    const code = await b.cli(['inspect', '-f', '{{.State.ExitCode}}', 'trapper']);
    assert.equal(code.stdout.trim(), '3');
    assert.ok(!(await events('trapper', since)).some((e) => e.Action === 'kill' && e.Actor.Attributes.reason));
  });

  it('rm -f and restart take the same short path', async function () {
    assert.equal((await b.cli(['run', '-d', '--name', 'blind2', 'busybox', 'sleep', '3600'])).code, 0);
    const since = Math.floor(Date.now() / 1000) - 1;
    assert.equal((await b.cli(['restart', '-t', '60', 'blind2'])).code, 0);
    assert.ok((await events('blind2', since)).some((e) => e.Action === 'kill' && /does not catch/.test(e.Actor.Attributes.reason ?? '')));
    assert.equal((await b.cli(['rm', '-f', 'blind2'])).code, 0);
  });
});
