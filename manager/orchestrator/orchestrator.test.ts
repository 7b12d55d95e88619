// The orchestration loop against an in-memory store: services created through the control API,
// agents simulated by moving task states as a real agent reports them, time from a test clock.
import assert from 'node:assert/strict';
import type { ServiceSpec } from '../../api/swarm.js';
import { WorkloadControl } from '../controlapi/workload.js';
import type { NodeObject } from '../objects.js';
import { localStore } from '../store/local.js';
import type { ReplicatedStore } from '../store/replicated.js';
import { OrchestratorLoop } from './loop.js';
import { isTerminal, type ServiceObject, type TaskObject } from './model.js';

const plainBox = { seal: (_a: string, p: Buffer) => p.toString('base64'), open: (_a: string, s: string) => Buffer.from(s, 'base64') };

function node(id: string, extra: Partial<NodeObject['Spec']> = {}): Record<string, unknown> & { ID: string } {
  return {
    ID: id,
    Spec: { Labels: {}, Role: 'worker', Availability: 'active', ...extra },
    Description: { Hostname: `host-${id}`, Platform: { Architecture: 'x86_64', OS: 'linux' }, Resources: { NanoCPUs: 2e9, MemoryBytes: 4e9 }, Engine: { EngineVersion: 't', Labels: {} } },
    Status: { State: 'ready', Message: '', Addr: '10.0.0.1' },
  };
}

class Bed {
  readonly store: ReplicatedStore;
  readonly control: WorkloadControl;
  readonly loop: OrchestratorLoop;
  clock = Date.parse('2026-12-04T00:00:00Z');
  /** Images whose tasks fail at start (as an agent reports a container that exits 1). */
  failing = new Set<string>();

  constructor() {
    this.store = localStore(() => new Date(this.clock));
    this.control = new WorkloadControl(this.store, plainBox, () => this.clock);
    this.loop = new OrchestratorLoop({ store: this.store, clusterId: 'c1', log: () => undefined, now: () => this.clock });
  }

  async nodes(...ids: string[]): Promise<void> {
    await this.store.update((tx) => {
      for (const id of ids) tx.create('nodes', node(id));
    });
  }

  async setNode(id: string, f: (n: NodeObject) => NodeObject): Promise<void> {
    const n = this.store.view.get('nodes', id) as unknown as NodeObject;
    await this.store.update((tx) => tx.update('nodes', f(n)));
  }

  tasks(service?: string): TaskObject[] {
    const all = this.store.view.list('tasks') as unknown as TaskObject[];
    return service ? all.filter((t) => t.ServiceID === this.service(service).ID) : all;
  }

  service(name: string): ServiceObject {
    return this.store.view.byName('services', name) as unknown as ServiceObject;
  }

  running(name: string): TaskObject[] {
    return this.tasks(name).filter((t) => t.Status.State === 'running' && t.DesiredState === 'running');
  }

  /** One round of what the agents would report for the tasks assigned to ready nodes. */
  async agents(): Promise<number> {
    const ts = new Date(this.clock).toISOString();
    const changes: TaskObject[] = [];
    for (const t of this.tasks()) {
      const n = t.NodeID ? (this.store.view.get('nodes', t.NodeID) as unknown as NodeObject | undefined) : undefined;
      if (!n || n.Status.State !== 'ready') continue;
      const st = t.Status.State;
      if ((t.DesiredState === 'shutdown' || t.DesiredState === 'remove') && !isTerminal(st)) changes.push({ ...t, Status: { Timestamp: ts, State: 'shutdown', Message: 'shutdown' } });
      else if (t.DesiredState === 'ready' && st === 'assigned') changes.push({ ...t, Status: { Timestamp: ts, State: 'ready', Message: 'prepared' } });
      else if (t.DesiredState === 'running' && (st === 'assigned' || st === 'ready')) {
        const fail = this.failing.has(t.Spec.ContainerSpec.Image);
        changes.push({ ...t, Status: fail ? { Timestamp: ts, State: 'failed', Message: 'started', Err: 'task: non-zero exit (1)' } : { Timestamp: ts, State: 'running', Message: 'started' } });
      }
    }
    if (changes.length) await this.store.update((tx) => changes.forEach((c) => tx.update('tasks', c)));
    return changes.length;
  }

  /** Loop passes and agent rounds until nothing moves (bounded). */
  async settle(rounds = 40): Promise<void> {
    for (let i = 0; i < rounds; i++) {
      const r = await this.loop.pass();
      const a = await this.agents();
      if (r.created + r.updated + r.deleted + r.services === 0 && a === 0) return;
    }
    throw new Error('the cluster did not settle');
  }

  async create(spec: Partial<ServiceSpec> & { Name: string }, image = 'busybox'): Promise<string> {
    const r = await this.control.createService({ TaskTemplate: { ContainerSpec: { Image: image } }, ...spec });
    return r.ID;
  }

  async update(name: string, f: (s: ServiceSpec) => ServiceSpec): Promise<void> {
    const s = this.service(name);
    await this.control.updateService(s.ID, s.Version.Index, f(structuredClone(s.Spec)), false);
  }
}

const replicas = (n: number): ServiceSpec['Mode'] => ({ Replicated: { Replicas: n } });

describe('manager/orchestrator (loop over an in-memory store)', () => {
  it('runs N replicas in slots 1..N spread over the nodes, and scales up and down', async () => {
    const b = new Bed();
    await b.nodes('n1', 'n2', 'n3');
    await b.create({ Name: 'web', Mode: replicas(3) });
    await b.settle();
    const run = b.running('web');
    assert.deepEqual(run.map((t) => t.Slot).sort(), [1, 2, 3]);
    assert.equal(new Set(run.map((t) => t.NodeID)).size, 3);
    await b.update('web', (s) => ({ ...s, Mode: replicas(5) }));
    await b.settle();
    assert.equal(b.running('web').length, 5);
    await b.update('web', (s) => ({ ...s, Mode: replicas(2) }));
    await b.settle();
    assert.deepEqual(b.running('web').map((t) => t.Slot).sort(), [1, 2]);
    // Removed slots' tasks are reaped once stopped.
    assert.equal(b.tasks('web').length, 2);
  });

  it('moves the tasks of a down node and of a drained node, without the restart delay', async () => {
    const b = new Bed();
    await b.nodes('n1', 'n2', 'n3');
    await b.create({ Name: 'web', Mode: replicas(3) });
    await b.settle();
    await b.setNode('n2', (n) => ({ ...n, Status: { ...n.Status, State: 'down' } }));
    await b.settle();
    let run = b.running('web');
    assert.equal(run.length, 3);
    assert.ok(run.every((t) => t.NodeID !== 'n2'));
    const old = b.tasks('web').find((t) => t.NodeID === 'n2')!;
    assert.equal(old.DesiredState, 'shutdown');
    await b.setNode('n3', (n) => ({ ...n, Spec: { ...n.Spec, Availability: 'drain' } }));
    await b.settle();
    run = b.running('web');
    assert.equal(run.length, 3);
    assert.ok(run.every((t) => t.NodeID === 'n1'));
  });

  it('keeps a task pending with the scheduler reason when no node fits', async () => {
    const b = new Bed();
    await b.nodes('n1');
    await b.create({ Name: 'db', TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Placement: { Constraints: ['node.labels.disk==ssd'] } } });
    await b.settle();
    const [t] = b.tasks('db');
    assert.equal(t!.Status.State, 'pending');
    assert.match(t!.Status.Err ?? '', /^no suitable node \(scheduling constraints not satisfied on 1 node\)/);
  });

  it('runs one task per eligible node for a global service, following nodes as they come and drain', async () => {
    const b = new Bed();
    await b.nodes('n1', 'n2');
    await b.create({ Name: 'agent', Mode: { Global: {} } });
    await b.settle();
    assert.deepEqual(b.running('agent').map((t) => t.NodeID).sort(), ['n1', 'n2']);
    await b.nodes('n3');
    await b.settle();
    assert.deepEqual(b.running('agent').map((t) => t.NodeID).sort(), ['n1', 'n2', 'n3']);
    await b.setNode('n1', (n) => ({ ...n, Spec: { ...n.Spec, Availability: 'drain' } }));
    await b.settle();
    assert.deepEqual(b.running('agent').map((t) => t.NodeID).sort(), ['n2', 'n3']);
  });

  it('restarts by policy: after the delay for "any", never for "none", at most MaxAttempts', async () => {
    const b = new Bed();
    await b.nodes('n1');
    b.failing.add('crash');
    await b.create({ Name: 'a', TaskTemplate: { ContainerSpec: { Image: 'crash' }, RestartPolicy: { Condition: 'any', Delay: 10e9, MaxAttempts: 2 } } }, 'crash');
    await b.create({ Name: 'n', TaskTemplate: { ContainerSpec: { Image: 'crash' }, RestartPolicy: { Condition: 'none' } } }, 'crash');
    await b.settle();
    assert.equal(b.tasks('n').length, 1, 'condition none: no second task');
    const waiting = b.tasks('a').filter((t) => t.DesiredState === 'ready');
    assert.equal(waiting.length, 1, 'the restart waits for its delay');
    b.clock += 10_001;
    await b.settle();
    b.clock += 10_001;
    await b.settle();
    b.clock += 10_001;
    await b.settle();
    const all = b.tasks('a');
    assert.equal(all.length, 3, 'the first run and two restarts');
    assert.ok(all.every((t) => t.Status.State === 'failed'));
  });

  it('rolls an update slot by slot (stop-first, parallelism 1), then completes', async () => {
    const b = new Bed();
    await b.nodes('n1', 'n2');
    await b.create({ Name: 'web', Mode: replicas(3), UpdateConfig: { Parallelism: 1, Monitor: 0, Order: 'stop-first' } });
    await b.settle();
    await b.update('web', (s) => ({ ...s, TaskTemplate: { ...s.TaskTemplate, ContainerSpec: { ...s.TaskTemplate.ContainerSpec, Image: 'busybox:2' } } }));
    // One pass at a time: never more than one slot out of service.
    for (let i = 0; i < 40; i++) {
      const r = await b.loop.pass();
      const running = b.running('web').length;
      assert.ok(running >= 2, `at most one slot down during the update (saw ${running} running)`);
      const a = await b.agents();
      if (r.created + r.updated + r.deleted + r.services === 0 && a === 0) break;
    }
    const run = b.running('web');
    assert.equal(run.length, 3);
    assert.ok(run.every((t) => t.Spec.ContainerSpec.Image === 'busybox:2'));
    assert.equal(b.service('web').UpdateStatus?.State, 'completed');
  });

  it('start-first keeps the old task until its replacement runs', async () => {
    const b = new Bed();
    await b.nodes('n1');
    await b.create({ Name: 'web', UpdateConfig: { Order: 'start-first', Monitor: 0 } });
    await b.settle();
    await b.update('web', (s) => ({ ...s, TaskTemplate: { ...s.TaskTemplate, ContainerSpec: { ...s.TaskTemplate.ContainerSpec, Image: 'busybox:2' } } }));
    await b.loop.pass();
    await b.loop.pass();
    const live = b.tasks('web').filter((t) => t.DesiredState === 'running');
    assert.equal(live.length, 2, 'old and new both meant to run');
    await b.settle();
    assert.deepEqual(b.running('web').map((t) => t.Spec.ContainerSpec.Image), ['busybox:2']);
  });

  it('a failed update with failure action rollback returns to the previous spec', async () => {
    const b = new Bed();
    await b.nodes('n1', 'n2');
    b.failing.add('broken');
    await b.create({ Name: 'web', Mode: replicas(2), UpdateConfig: { FailureAction: 'rollback', Monitor: 0 }, RollbackConfig: { Monitor: 0 }, TaskTemplate: { ContainerSpec: { Image: 'busybox' }, RestartPolicy: { Condition: 'none' } } });
    await b.settle();
    await b.update('web', (s) => ({ ...s, TaskTemplate: { ...s.TaskTemplate, ContainerSpec: { ...s.TaskTemplate.ContainerSpec, Image: 'broken' } } }));
    await b.settle();
    const s = b.service('web');
    assert.equal(s.UpdateStatus?.State, 'rollback_completed');
    assert.equal(s.Spec.TaskTemplate.ContainerSpec.Image, 'busybox');
    assert.equal(b.running('web').length, 2);
    assert.ok(b.running('web').every((t) => t.Spec.ContainerSpec.Image === 'busybox'));
  });

  it('a failed update with the default action pauses and leaves the rest of the old spec running', async () => {
    const b = new Bed();
    await b.nodes('n1', 'n2');
    b.failing.add('broken');
    await b.create({ Name: 'web', Mode: replicas(3), UpdateConfig: { Monitor: 0 }, TaskTemplate: { ContainerSpec: { Image: 'busybox' }, RestartPolicy: { Condition: 'none' } } });
    await b.settle();
    await b.update('web', (s) => ({ ...s, TaskTemplate: { ...s.TaskTemplate, ContainerSpec: { ...s.TaskTemplate.ContainerSpec, Image: 'broken' } } }));
    await b.settle();
    const s = b.service('web');
    assert.equal(s.UpdateStatus?.State, 'paused');
    assert.match(s.UpdateStatus!.Message, /update paused due to failure or early termination of task/);
    assert.equal(b.running('web').filter((t) => t.Spec.ContainerSpec.Image === 'busybox').length, 2);
  });

  it('runs a replicated job to its completions, MaxConcurrent at a time', async () => {
    const b = new Bed();
    await b.nodes('n1', 'n2');
    await b.create({ Name: 'job', Mode: { ReplicatedJob: { TotalCompletions: 5, MaxConcurrent: 2 } } });
    for (let i = 0; i < 20; i++) {
      await b.loop.pass();
      await b.agents();
      const live = b.tasks('job').filter((t) => t.DesiredState === 'running' && !isTerminal(t.Status.State));
      assert.ok(live.length <= 2, 'never more than MaxConcurrent at once');
      // The job's tasks finish as soon as they run.
      const done = b.tasks('job').filter((t) => t.Status.State === 'running');
      if (done.length) await b.store.update((tx) => done.forEach((t) => tx.update('tasks', { ...t, Status: { ...t.Status, State: 'complete', Message: 'finished' } })));
    }
    const v = await b.control.getService('job', true);
    assert.equal(v.ServiceStatus?.CompletedTasks, 5);
    assert.equal(b.tasks('job').filter((t) => t.Status.State === 'complete').length, 5);
  });

  it('keeps at most the history limit of finished tasks per slot', async () => {
    const b = new Bed();
    await b.nodes('n1');
    b.failing.add('crash');
    await b.create({ Name: 'c', TaskTemplate: { ContainerSpec: { Image: 'crash' }, RestartPolicy: { Condition: 'any', Delay: 0 } } }, 'crash');
    for (let i = 0; i < 30; i++) {
      await b.loop.pass();
      await b.agents();
    }
    assert.ok(b.tasks('c').length <= 6, `history limit 5 plus the live task (saw ${b.tasks('c').length})`);
  });

  it('removing a service removes its tasks once stopped', async () => {
    const b = new Bed();
    await b.nodes('n1', 'n2');
    await b.create({ Name: 'web', Mode: replicas(2) });
    await b.settle();
    await b.control.removeService('web');
    await b.settle();
    assert.equal(b.tasks().length, 0);
  });

  it('rebalances onto a node that comes back, start-first, unless the service opts out', async () => {
    const b = new Bed();
    await b.nodes('n1', 'n2', 'n3');
    await b.create({ Name: 'web', Mode: replicas(6) });
    await b.create({ Name: 'pinned', Mode: replicas(6), Labels: { 'com.tsswarm.rebalance': 'false' } });
    await b.settle();
    await b.setNode('n3', (n) => ({ ...n, Status: { ...n.Status, State: 'down' } }));
    await b.settle();
    await b.setNode('n3', (n) => ({ ...n, Status: { ...n.Status, State: 'ready' } }));
    for (let i = 0; i < 80; i++) {
      const r = await b.loop.pass();
      assert.ok(b.running('web').length >= 6, 'never below the running count while rebalancing');
      const a = await b.agents();
      if (r.created + r.updated + r.deleted + r.services === 0 && a === 0) break;
    }
    const per = (name: string) => ['n1', 'n2', 'n3'].map((n) => b.running(name).filter((t) => t.NodeID === n).length);
    assert.deepEqual(per('web'), [2, 2, 2]);
    assert.deepEqual(per('pinned'), [3, 3, 0]);
  });

  it('gives a service on an overlay a VIP and each task an address on it', async () => {
    const b = new Bed();
    await b.nodes('n1', 'n2');
    const { Id } = await b.control.createNetwork({ Name: 'front', Driver: 'overlay' });
    await b.create({ Name: 'web', Mode: replicas(2), TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Networks: [{ Target: 'front' }] } });
    await b.settle();
    const vip = b.service('web').Endpoint.VirtualIPs;
    assert.deepEqual(vip, [{ NetworkID: Id, Addr: '10.0.0.2/24' }]);
    const addrs = b.running('web').map((t) => (t as { NetworksAttachments?: { Network: { ID: string }; Addresses: string[] }[] }).NetworksAttachments!.map((a) => [a.Network.ID, a.Addresses[0]]));
    assert.deepEqual(addrs.flat().map((x) => x[1]).sort(), ['10.0.0.3/24', '10.0.0.4/24']);
    await assert.rejects(b.control.removeNetwork('front'), /in use by service web/);
  });

  it('refuses bad specs naming the key, and a second service of a name', async () => {
    const b = new Bed();
    await assert.rejects(b.control.createService({ Name: 'x', TaskTemplate: { ContainerSpec: {} } }), /TaskTemplate\.ContainerSpec\.Image/);
    await assert.rejects(b.control.createService({ Name: 'x', TaskTemplate: { ContainerSpec: { Image: 'a' }, Placement: { Constraints: ['node.colour=red'] } } }), /node\.colour=red/);
    await b.create({ Name: 'web' });
    await assert.rejects(b.create({ Name: 'web' }), /already in use/);
    await assert.rejects(b.control.createService({ Name: 'p', TaskTemplate: { ContainerSpec: { Image: 'a' }, Mode: {} }, Mode: { Replicated: {}, Global: {} } }), /exactly one of/);
  });
});
