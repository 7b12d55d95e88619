import assert from 'node:assert/strict';
import type { ContainerRecord } from './record.js';
import { SHUTDOWN_MARK, exitCodeAtLoad, nextAtLoad } from './reconcile.js';

/** The fields nextAtLoad reads, on an otherwise empty record. */
function rec(o: { policy?: string; max?: number; autoRemove?: boolean; status?: ContainerRecord['State']['Status']; exitCode?: number; error?: string; manual?: boolean; restarts?: number }): ContainerRecord {
  return {
    HostConfig: { RestartPolicy: o.policy ? { Name: o.policy, ...(o.max !== undefined ? { MaximumRetryCount: o.max } : {}) } : undefined, AutoRemove: o.autoRemove ?? false },
    State: { Status: o.status ?? 'exited', ExitCode: o.exitCode ?? 0, Error: o.error ?? '' },
    RestartCount: o.restarts ?? 0,
    ManuallyStopped: o.manual ?? false,
  } as unknown as ContainerRecord;
}

describe('agent/containers/reconcile', () => {
  it('records 255 for a running container the runtime lost, else the runtime or recorded code', () => {
    assert.equal(exitCodeAtLoad(true, false, undefined, 0), 255);
    assert.equal(exitCodeAtLoad(true, true, 137, 0), 137);
    assert.equal(exitCodeAtLoad(false, true, undefined, 4), 4);
    assert.equal(exitCodeAtLoad(false, false, undefined, 4), 4);
  });

  it('restarts by policy only what was running or stopped by the daemon itself', () => {
    assert.equal(nextAtLoad(rec({ policy: 'always' }), true), 'start');
    assert.equal(nextAtLoad(rec({ policy: 'always' }), false), 'keep', 'stopped by the user before the daemon went down');
    assert.equal(nextAtLoad(rec({ policy: 'always', error: SHUTDOWN_MARK }), false), 'start');
    assert.equal(nextAtLoad(rec({ policy: 'unless-stopped', manual: true }), true), 'keep');
    assert.equal(nextAtLoad(rec({ policy: 'on-failure', exitCode: 1 }), true), 'start');
    assert.equal(nextAtLoad(rec({ policy: 'on-failure', exitCode: 0 }), true), 'keep');
    assert.equal(nextAtLoad(rec({ policy: 'on-failure', exitCode: 1, max: 2, restarts: 2 }), true), 'keep');
    assert.equal(nextAtLoad(rec({ policy: 'on-failure', error: SHUTDOWN_MARK, exitCode: 143 }), false), 'keep', 'a shutdown stop counts as exit 0');
    assert.equal(nextAtLoad(rec({}), true), 'keep');
  });

  it('removes an exited --rm container that is not restarted', () => {
    assert.equal(nextAtLoad(rec({ autoRemove: true }), true), 'remove');
    assert.equal(nextAtLoad(rec({ autoRemove: true, status: 'running' }), false), 'keep');
    assert.equal(nextAtLoad(rec({ autoRemove: true, policy: 'always' }), true), 'start');
  });
});
