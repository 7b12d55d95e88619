import assert from 'node:assert/strict';
import type { Service, ServiceMode, Task, TaskState, UpdateStatus } from '../../api/swarm.js';
import { bar, ConvergeTracker, ProgressView, renderLine, truncError } from './progress.js';

const FULL = `[${'='.repeat(50)}>]`;

const service = (mode: ServiceMode, over: Partial<Service> = {}): Service => ({
  ID: 'sid',
  Version: { Index: 1 },
  CreatedAt: '',
  UpdatedAt: '',
  Spec: { Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'x' } }, Mode: mode, UpdateConfig: { Monitor: 5e9 } },
  Endpoint: { Spec: { Mode: 'vip' } },
  ...over,
});

let n = 0;
const task = (slot: number | undefined, state: TaskState, desired: TaskState = 'running', over: Partial<Task> = {}): Task => ({
  ID: `t${++n}`,
  Version: { Index: 1 },
  CreatedAt: '',
  UpdatedAt: '',
  Labels: {},
  Spec: { ContainerSpec: { Image: 'x' } },
  ServiceID: 'sid',
  ...(slot !== undefined ? { Slot: slot } : {}),
  NodeID: 'node-a',
  Status: { Timestamp: '', State: state, Message: '' },
  DesiredState: desired,
  ...over,
});

const NODES = new Set(['node-a', 'node-b']);

describe('cli/service/progress: rendering', () => {
  it('draws Docker bars: 50 cells, two percent each', () => {
    assert.equal(bar(9, 9), FULL);
    assert.equal(bar(6, 9), `[${'='.repeat(33)}>${' '.repeat(17)}]`);
    assert.equal(bar(0, 9), `[>${' '.repeat(50)}]`);
    assert.equal(renderLine({ id: '1/3', action: 'running  ', current: 9, total: 9 }), `1/3: running   ${FULL}`);
    assert.equal(renderLine({ id: '1/3', action: 'running  ', current: 9, total: 9 }, false), '1/3: running');
    assert.equal(renderLine({ id: '', action: 'job complete' }), 'job complete');
  });

  it('keeps lines in first-write order, replacing by ID', () => {
    const v = new ProgressView();
    v.write({ id: 'a', action: '1' });
    v.write({ id: 'b', action: '2' });
    v.write({ id: 'a', action: '3' });
    assert.deepEqual(v.lines(), ['a: 3', 'b: 2']);
  });

  it('shortens errors to one line of 75 characters', () => {
    assert.equal(truncError('a\nb'), 'a b');
    const long = truncError('x'.repeat(100));
    assert.equal([...long].length, 75);
    assert.ok(long.endsWith('…'));
  });
});

describe('cli/service/progress: replicated services', () => {
  it('advances the slots, waits the monitor period, then converges', () => {
    const t = new ConvergeTracker();
    const svc = service({ Replicated: { Replicas: 3 } });
    assert.deepEqual(t.step(svc, [], NODES, 0), { state: 'waiting' });
    assert.deepEqual(t.view.lines(), ['overall progress: 0 out of 3 tasks', '1/3:', '2/3:', '3/3:']);

    const s1 = task(1, 'running');
    const s2 = task(2, 'preparing');
    const s3 = task(3, 'pending');
    assert.deepEqual(t.step(svc, [s1, s2, s3], NODES, 200), { state: 'waiting' });
    assert.deepEqual(t.view.lines(), [
      'overall progress: 1 out of 3 tasks',
      `1/3: running   ${FULL}`,
      `2/3: preparing [${'='.repeat(33)}>${' '.repeat(17)}]`,
      `3/3: pending   [${'='.repeat(16)}>${' '.repeat(34)}]`,
    ]);

    const all = [s1, { ...s2, Status: { ...s2.Status, State: 'running' as const } }, { ...s3, Status: { ...s3.Status, State: 'running' as const } }];
    assert.deepEqual(t.step(svc, all, NODES, 400), { state: 'waiting' });
    assert.deepEqual(t.view.lines().slice(0, 1), ['overall progress: 3 out of 3 tasks']);
    assert.equal(t.view.lines().at(-1), 'verify: Waiting 6 seconds to verify that tasks are stable...');
    assert.deepEqual(t.step(svc, all, NODES, 3400), { state: 'waiting' });
    assert.equal(t.view.lines().at(-1), 'verify: Waiting 3 seconds to verify that tasks are stable...');
    assert.deepEqual(t.step(svc, all, NODES, 5400), { state: 'converged' });
    assert.equal(t.view.lines().at(-1), 'verify: Service converged');
  });

  it('restarts the wait when a task fails during it, and shows the error on its slot', () => {
    const t = new ConvergeTracker();
    const svc = service({ Replicated: { Replicas: 1 } });
    const ok = task(1, 'running');
    t.step(svc, [ok], NODES, 0);
    const failed = task(1, 'failed', 'shutdown', { Status: { Timestamp: '', State: 'failed', Message: '', Err: 'task: non-zero exit (1)' } });
    const replacement = task(1, 'starting', 'running');
    assert.deepEqual(t.step(svc, [{ ...ok, DesiredState: 'shutdown', Status: { ...ok.Status, State: 'shutdown' } }, failed, replacement], NODES, 1000), {
      state: 'waiting',
    });
    assert.equal(t.view.lines().at(-1), 'verify: Detected task failure');
    assert.match(t.view.lines()[1]!, /^1\/1: starting {2}\[/);
    // The wait starts again from the new convergence, not the first one.
    const running = { ...replacement, Status: { ...replacement.Status, State: 'running' as const } };
    t.step(svc, [running], NODES, 2000);
    assert.deepEqual(t.step(svc, [running], NODES, 6000), { state: 'waiting' });
    assert.deepEqual(t.step(svc, [running], NODES, 7000), { state: 'converged' });
  });

  it('shows a task error on its slot line', () => {
    const t = new ConvergeTracker();
    t.step(
      service({ Replicated: { Replicas: 1 } }),
      [task(1, 'rejected', 'running', { Status: { Timestamp: '', State: 'rejected', Message: '', Err: 'no suitable node (1 node not available)' } })],
      NODES,
      0,
    );
    assert.equal(t.view.lines()[1], '1/1: no suitable node (1 node not available)');
  });

  it('ignores tasks on down nodes and prefers the lowest desired state of a slot', () => {
    const t = new ConvergeTracker();
    const svc = service({ Replicated: { Replicas: 2 } });
    t.step(svc, [task(1, 'running', 'running', { NodeID: 'gone' }), task(2, 'running', 'shutdown'), task(2, 'assigned', 'running')], NODES, 0);
    assert.equal(t.view.lines()[0], 'overall progress: 0 out of 2 tasks');
    assert.match(t.view.lines()[1]!, /^1\/2: assigned {2}\[/);
  });

  it('fails with the daemon message when the update pauses or the rollback pauses', () => {
    const paused: UpdateStatus = { State: 'paused', Message: 'update paused due to failure or early termination of task t1' };
    assert.deepEqual(new ConvergeTracker().step(service({ Replicated: { Replicas: 1 } }, { UpdateStatus: paused }), [], NODES, 0), {
      state: 'failed',
      message: 'service update paused: update paused due to failure or early termination of task t1',
    });
    assert.deepEqual(
      new ConvergeTracker().step(service({ Replicated: { Replicas: 1 } }, { UpdateStatus: { State: 'rollback_paused', Message: 'm' } }), [], NODES, 0),
      { state: 'failed', message: 'service rollback paused: m' },
    );
  });

  it('shows a rollback as it happens and its message once converged', () => {
    const t = new ConvergeTracker(true);
    const started = service({ Replicated: { Replicas: 1 } }, { UpdateStatus: { State: 'rollback_started', Message: 'manually requested rollback' } });
    t.step(started, [task(1, 'starting')], NODES, 0);
    // The rollback line comes first: it is written before the bars are laid out.
    assert.deepEqual(t.view.lines().slice(0, 2), ['rollback: manually requested rollback', 'overall progress: rolling back update: 0 out of 1 tasks']);
    const done = service({ Replicated: { Replicas: 1 } }, { UpdateStatus: { State: 'rollback_completed', Message: 'rollback completed' } });
    t.step(done, [task(1, 'running')], NODES, 100);
    assert.deepEqual(t.step(done, [task(1, 'running')], NODES, 5200), { state: 'converged' });
    // As on Docker's terminal, a line written again under its ID changes in place.
    assert.equal(t.view.lines()[0], 'rollback: rollback completed');
    assert.equal(t.view.lines().at(-1), 'verify: Service converged');
  });

  it('fails once an update it followed has been rolled back by the daemon', () => {
    const t = new ConvergeTracker();
    const svc = (u: UpdateStatus): Service => service({ Replicated: { Replicas: 1 } }, { UpdateStatus: u });
    t.step(svc({ State: 'updating', Message: 'update in progress' }), [task(1, 'starting')], NODES, 0);
    t.step(svc({ State: 'rollback_started', Message: 'update rolled back due to failure or early termination of task t9' }), [task(1, 'starting')], NODES, 100);
    const done = svc({ State: 'rollback_completed', Message: 'rollback completed' });
    assert.deepEqual(t.step(done, [task(1, 'running')], NODES, 200), { state: 'waiting' });
    assert.deepEqual(t.step(done, [task(1, 'running')], NODES, 5300), {
      state: 'failed',
      message: 'service rolled back: update rolled back due to failure or early termination of task t9',
    });
  });

  it('ends at once when the update had already completed before it converged here', () => {
    assert.deepEqual(
      new ConvergeTracker().step(service({ Replicated: { Replicas: 1 } }, { UpdateStatus: { State: 'completed', Message: 'update completed' } }), [], NODES, 0),
      { state: 'converged' },
    );
  });

  it('draws no per-slot bars above 20 replicas', () => {
    const t = new ConvergeTracker();
    t.step(service({ Replicated: { Replicas: 21 } }), [task(1, 'running')], NODES, 0);
    assert.deepEqual(t.view.lines(), ['overall progress: 1 out of 21 tasks']);
  });
});

describe('cli/service/progress: global services and jobs', () => {
  it('waits for tasks, then shows one line per node', () => {
    const t = new ConvergeTracker();
    const svc = service({ Global: {} });
    t.step(svc, [], NODES, 0);
    assert.deepEqual(t.view.lines(), ['overall progress: waiting for new tasks']);
    t.step(svc, [task(undefined, 'running', 'running', { NodeID: 'node-a' }), task(undefined, 'ready', 'running', { NodeID: 'node-b' })], NODES, 100);
    assert.deepEqual(t.view.lines(), [
      'overall progress: 1 out of 2 tasks',
      `node-a: running   ${FULL}`,
      `node-b: ready     [${'='.repeat(38)}>${' '.repeat(12)}]`,
    ]);
  });

  it('a replicated job counts completions and ends without a verify wait', () => {
    const t = new ConvergeTracker();
    const svc = service({ ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 3 } }, { JobStatus: { JobIteration: { Index: 7 } } });
    const it7 = { JobIteration: { Index: 7 } };
    assert.deepEqual(
      t.step(
        svc,
        [task(0, 'complete', 'complete', it7), task(1, 'running', 'complete', it7), task(2, 'running', 'complete', { JobIteration: { Index: 6 } })],
        NODES,
        0,
      ),
      { state: 'waiting' },
    );
    assert.deepEqual(t.view.lines(), [
      `job progress: 1 out of 3 complete [${'='.repeat(16)}>${' '.repeat(34)}]`,
      'active tasks: 1 out of 2 tasks',
      `1/3: complete  ${FULL}`,
      `2/3: running   [${'='.repeat(45)}>${' '.repeat(5)}]`,
      '3/3:',
    ]);
    assert.deepEqual(
      t.step(svc, [task(0, 'complete', 'complete', it7), task(1, 'complete', 'complete', it7), task(2, 'complete', 'complete', it7)], NODES, 100),
      { state: 'converged' },
    );
    assert.equal(t.view.lines().at(-1), 'job complete');
  });

  it('a global job counts the nodes it started on', () => {
    const t = new ConvergeTracker();
    const svc = service({ GlobalJob: {} }, { JobStatus: { JobIteration: { Index: 1 } } });
    const it1 = { JobIteration: { Index: 1 } };
    t.step(
      svc,
      [task(undefined, 'running', 'complete', { ...it1, NodeID: 'node-a' }), task(undefined, 'complete', 'complete', { ...it1, NodeID: 'node-b' })],
      NODES,
      0,
    );
    assert.equal(t.view.lines()[0], `job progress: 1 out of 2 complete [${'='.repeat(25)}>${' '.repeat(25)}]`);
    assert.deepEqual(
      t.step(
        svc,
        [task(undefined, 'complete', 'complete', { ...it1, NodeID: 'node-a' }), task(undefined, 'complete', 'complete', { ...it1, NodeID: 'node-b' })],
        NODES,
        100,
      ),
      { state: 'converged' },
    );
  });
});
