// Scheduler benchmark: 1,000 nodes (zone labels on most, a few down or drained) and 10,000 then
// 100,000 pending tasks of four services (spread over zones with reservations, a constraint, plain,
// and a host-mode port). Each run starts from an empty store and creates the nodes and pending tasks
// in it; then, timed as `ms_*`, what the runner does on a pass: read them back through the adapters,
// schedule, and write the assignments (and the reasons of the tasks left pending) in batches of
// 10,000 — each batch JSON-encoded, parsed with zod and applied by the store's raft state machine, as
// a committed entry is on every manager (raft itself is not included).
// Anchor: SwarmKit's published 1.8 s for 10k tasks on 1k nodes (moby/swarmkit#193), whose figures
// "include the overhead of creating the nodes and tasks": `with_create_ms_*` is ours measured so.
// Last stdout line: one JSON object.
import { parseArgs } from 'node:util';
import type { EndpointSpec, Task, TaskSpec } from '../../api/swarm.js';
import type { NodeObject } from '../../manager/objects.js';
import { awaitsPlacement, fromNodeObject, fromTask, occupiesNode } from '../../manager/scheduler/adapters.js';
import { schedule } from '../../manager/scheduler/schedule.js';
import { StoreStateMachine } from '../../manager/store/replicated.js';
import type { Action, StoredObject } from '../../manager/store/types.js';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '5' }, nodes: { type: 'string', default: '1000' } } });
const RUNS = Number(args.runs);
const NODES = Number(args.nodes);
const ANCHOR_MS_10K_1K = 1800;
const ANCHOR_MS_100K_1K = 22600;
const BATCH = 10_000;
const AT = '2026-01-01T00:00:00.000Z';

interface ServiceDef {
  id: string;
  share: number;
  spec: TaskSpec;
  endpoint?: EndpointSpec;
}

const SERVICES: ServiceDef[] = [
  {
    id: 'svc-web',
    share: 0.4,
    spec: {
      ContainerSpec: { Image: 'nginx' },
      Placement: { Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }] },
      Resources: { Reservations: { NanoCPUs: 1e8, MemoryBytes: 64 * 2 ** 20 } },
    },
  },
  { id: 'svc-api', share: 0.3, spec: { ContainerSpec: { Image: 'api' }, Placement: { Constraints: ['node.labels.zone!=z2'] } } },
  { id: 'svc-worker', share: 0.29, spec: { ContainerSpec: { Image: 'worker' } } },
  // More tasks than nodes at 100k: the rest stay pending with Docker's reason.
  {
    id: 'svc-edge',
    share: 0.01,
    spec: { ContainerSpec: { Image: 'edge' } },
    endpoint: { Mode: 'vip', Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' }] },
  },
];

function nodeObject(i: number): NodeObject {
  const id = `node${String(i).padStart(5, '0')}`;
  return {
    ID: id,
    Version: { Index: 0 },
    CreatedAt: AT,
    UpdatedAt: AT,
    Spec: { Labels: i % 10 === 9 ? {} : { zone: `z${i % 3}` }, Role: i < 3 ? 'manager' : 'worker', Availability: i % 200 === 7 ? 'drain' : 'active' },
    Description: {
      Hostname: `host-${i}`,
      Platform: { Architecture: 'x86_64', OS: 'linux' },
      Resources: { NanoCPUs: 16e9, MemoryBytes: 64 * 2 ** 30 },
      Engine: { EngineVersion: '0.1.0', Labels: { disk: i % 2 ? 'ssd' : 'hdd' } },
    },
    Status: { State: i % 250 === 11 ? 'down' : 'ready', Message: '', Addr: `10.0.${i >> 8}.${i & 255}` },
  };
}

function pendingTask(svc: ServiceDef, slot: number): Task {
  return {
    ID: `${svc.id}.${String(slot).padStart(6, '0')}`,
    Version: { Index: 0 },
    CreatedAt: AT,
    UpdatedAt: AT,
    Labels: {},
    Spec: svc.spec,
    ServiceID: svc.id,
    Slot: slot,
    Status: { Timestamp: AT, State: 'pending', Message: 'pending task scheduling' },
    DesiredState: 'running',
  };
}

class Store {
  readonly sm = new StoreStateMachine();
  private index = 0;

  commit(actions: Action[]): void {
    for (let i = 0; i < actions.length; i += BATCH) {
      const data = Buffer.from(JSON.stringify({ actions: actions.slice(i, i + BATCH), at: AT }));
      const r = this.sm.apply(data, { index: ++this.index });
      if (!r.ok) throw new Error(`store refused a batch: ${r.message}`);
    }
  }
}

interface Run {
  /** read + schedule + write: one scheduling pass of the runner. */
  pass: number;
  /** create + pass: as SwarmKit's benchmark counts. */
  total: number;
  create: number;
  read: number;
  schedule: number;
  write: number;
  assigned: number;
  unassigned: number;
  reasons: string[];
}

function run(taskCount: number): Run {
  const t0 = performance.now();
  const store = new Store();
  const nodes = Array.from({ length: NODES }, (_, i) => nodeObject(i));
  store.commit(nodes.map((n) => ({ op: 'create', table: 'nodes', object: n as unknown as StoredObject })));
  store.commit(
    SERVICES.map((s) => ({
      op: 'create',
      table: 'services',
      object: { ID: s.id, Version: { Index: 0 }, CreatedAt: AT, UpdatedAt: AT, Spec: { Name: s.id, TaskTemplate: s.spec, EndpointSpec: s.endpoint } },
    })),
  );
  const creates: Action[] = [];
  for (const s of SERVICES) {
    const n = Math.round(taskCount * s.share);
    for (let slot = 1; slot <= n; slot++) creates.push({ op: 'create', table: 'tasks', object: pendingTask(s, slot) as unknown as StoredObject });
  }
  store.commit(creates);
  const t1 = performance.now();

  // What the runner does on a scheduling pass.
  const state = store.sm.state;
  const endpoints = new Map(state.list('services').map((s) => [s.ID, (s.Spec as { EndpointSpec?: EndpointSpec }).EndpointSpec]));
  const allTasks = state.list('tasks') as unknown as Task[];
  const input = {
    nodes: (state.list('nodes') as unknown as NodeObject[]).map(fromNodeObject),
    placed: allTasks.filter(occupiesNode).map((t) => fromTask(t, endpoints.get(t.ServiceID))),
    pending: allTasks.filter(awaitsPlacement).map((t) => fromTask(t, endpoints.get(t.ServiceID))),
  };
  const t2 = performance.now();
  const result = schedule(input);
  const t3 = performance.now();
  const updates: Action[] = [];
  for (const a of result.assigned) {
    const t = state.get('tasks', a.taskId)!;
    updates.push({
      op: 'update',
      table: 'tasks',
      object: { ...t, NodeID: a.nodeId, Status: { Timestamp: AT, State: 'assigned', Message: 'scheduler assigned task to node' } },
    });
  }
  for (const u of result.unassigned) {
    const t = state.get('tasks', u.taskId)!;
    updates.push({ op: 'update', table: 'tasks', object: { ...t, Status: { ...(t.Status as object), Err: u.reason } } });
  }
  store.commit(updates);
  const t4 = performance.now();

  const onNodes = state.list('tasks', (t) => t.NodeID !== undefined).length;
  if (onNodes !== result.assigned.length) throw new Error(`store has ${onNodes} tasks on nodes, the scheduler assigned ${result.assigned.length}`);
  return {
    pass: t4 - t1,
    total: t4 - t0,
    create: t1 - t0,
    read: t2 - t1,
    schedule: t3 - t2,
    write: t4 - t3,
    assigned: result.assigned.length,
    unassigned: result.unassigned.length,
    reasons: [...new Set(result.unassigned.map((u) => u.reason))],
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

function measure(taskCount: number, runs: number): Run {
  run(Math.min(taskCount, 10_000)); // warm-up: JIT and allocator
  const rs = Array.from({ length: runs }, () => run(taskCount));
  const m = (k: 'pass' | 'total' | 'create' | 'read' | 'schedule' | 'write') => median(rs.map((r) => r[k]));
  const r: Run = { ...rs[0]!, pass: m('pass'), total: m('total'), create: m('create'), read: m('read'), schedule: m('schedule'), write: m('write') };
  process.stdout.write(
    `${String(taskCount).padStart(6)} tasks on ${NODES} nodes (median of ${runs}): pass ${r.pass.toFixed(0)} ms = read ${r.read.toFixed(0)} + schedule ${r.schedule.toFixed(0)} + write ${r.write.toFixed(0)}; with creating nodes and tasks ${r.total.toFixed(0)} ms; assigned ${r.assigned}, pending ${r.unassigned}${r.reasons.length ? ` (${r.reasons.join(' | ')})` : ''}\n`,
  );
  return r;
}

const round = (x: number, d = 1) => Number(x.toFixed(d));
const r10k = measure(10_000, RUNS);
const r100k = measure(100_000, Math.max(1, Math.ceil(RUNS / 2)));
process.stdout.write(
  `${JSON.stringify({
    bench: 'scheduler',
    nodes: NODES,
    ms_10k_1k: round(r10k.pass),
    schedule_ms_10k_1k: round(r10k.schedule),
    with_create_ms_10k_1k: round(r10k.total),
    ms_100k_1k: round(r100k.pass),
    schedule_ms_100k_1k: round(r100k.schedule),
    with_create_ms_100k_1k: round(r100k.total),
    anchor_ms_10k_1k: ANCHOR_MS_10K_1K,
    anchor_ms_100k_1k: ANCHOR_MS_100K_1K,
    anchor: 'SwarmKit scheduler benchmark, moby/swarmkit#193 (creation of nodes and tasks included)',
    ratio: round(r10k.pass / ANCHOR_MS_10K_1K, 3),
    ratio_with_create: round(r10k.total / ANCHOR_MS_10K_1K, 3),
  })}\n`,
);
