import assert from 'node:assert/strict';
import { decideRestart, initialRestartState, restartOnDaemonStart, type ExitEvent, type RestartState } from './restart-policy.js';

const exit = (exitCode: number, over: Partial<ExitEvent> = {}): ExitEvent => ({ exitCode, ranForMs: 1000, stoppedByUser: false, ...over });

describe('agent/containers/restart-policy', () => {
  it('no / default never restarts', () => {
    assert.equal(decideRestart(undefined, initialRestartState(), exit(1)).restart, false);
    assert.equal(decideRestart({ Name: '' }, initialRestartState(), exit(1)).restart, false);
    assert.equal(decideRestart({ Name: 'no' }, initialRestartState(), exit(1)).restart, false);
  });

  it('always restarts on any exit, not after a user stop or daemon shutdown', () => {
    const p = { Name: 'always' as const };
    assert.equal(decideRestart(p, initialRestartState(), exit(0)).restart, true);
    assert.equal(decideRestart(p, initialRestartState(), exit(137, { stoppedByUser: true })).restart, false);
    assert.equal(decideRestart(p, initialRestartState(), exit(0, { daemonShutdown: true })).restart, false);
  });

  it('unless-stopped honours an earlier manual stop', () => {
    const p = { Name: 'unless-stopped' as const };
    assert.equal(decideRestart(p, initialRestartState(), exit(0)).restart, true);
    assert.equal(decideRestart(p, initialRestartState(), exit(0, { hasBeenManuallyStopped: true })).restart, false);
  });

  it('on-failure restarts non-zero exits up to N times', () => {
    const p = { Name: 'on-failure' as const, MaximumRetryCount: 2 };
    let s: RestartState = initialRestartState();
    assert.equal(decideRestart(p, s, exit(0)).restart, false);
    const d1 = decideRestart(p, s, exit(1));
    assert.deepEqual([d1.restart, d1.next.restartCount], [true, 1]);
    s = d1.next;
    const d2 = decideRestart(p, s, exit(1));
    assert.equal(d2.restart, true);
    const d3 = decideRestart(p, d2.next, exit(1));
    assert.equal(d3.restart, false);
    assert.equal(d3.next.restartCount, 2);
    assert.equal(decideRestart({ Name: 'on-failure' }, { restartCount: 500, delayMs: 0 }, exit(2)).restart, true);
  });

  it('back-off: 100ms doubling, capped at 1 minute, reset after a 10 s run', () => {
    const p = { Name: 'always' as const };
    let s = initialRestartState();
    const delays: number[] = [];
    for (let i = 0; i < 12; i++) {
      const d = decideRestart(p, s, exit(1));
      delays.push(d.delayMs);
      s = d.next;
    }
    assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000]);
    const reset = decideRestart(p, s, exit(1, { ranForMs: 10_000 }));
    assert.equal(reset.delayMs, 100);
    assert.equal(reset.next.restartCount, 13);
  });

  it('daemon start', () => {
    const c = { exitCode: 0, restartCount: 0, hasBeenManuallyStopped: false };
    assert.equal(restartOnDaemonStart({ Name: 'always' }, { ...c, hasBeenManuallyStopped: true }), true);
    assert.equal(restartOnDaemonStart({ Name: 'unless-stopped' }, c), true);
    assert.equal(restartOnDaemonStart({ Name: 'unless-stopped' }, { ...c, hasBeenManuallyStopped: true }), false);
    assert.equal(restartOnDaemonStart({ Name: 'on-failure', MaximumRetryCount: 1 }, { ...c, exitCode: 1 }), true);
    assert.equal(restartOnDaemonStart({ Name: 'on-failure', MaximumRetryCount: 1 }, { ...c, exitCode: 1, restartCount: 1 }), false);
    assert.equal(restartOnDaemonStart({ Name: 'no' }, c), false);
  });
});
