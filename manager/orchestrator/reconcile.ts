// The orchestrators as one pure pass: from the services, tasks and nodes as they are, the task changes
// that move the cluster toward what the services ask — replicas per slot, one task per eligible node
// (global), jobs to their completions, restarts by policy, tasks moved off down or drained nodes, and
// rolling updates and rollbacks by update_config / rollback_config. No I/O and no clock: the caller
// passes `now`, applies the plan in one transaction, and runs the pass again on the next store change
// or at `wakeAt`.
import type { TaskState } from '../../api/swarm.js';
import type { NodeObject } from '../objects.js';
import { isJob, isLive, isTerminal, modeOf, nodeUp, specDigest, stateOrder, updateConfigOf, type ModeKind, type ServiceObject, type TaskObject } from './model.js';
import { restartDecision } from './restart.js';

export interface UpdaterMemory {
  /** When the next batch of a rolling update may start (after the configured delay). */
  nextBatchAt?: number;
}

export interface ReconcileInput {
  now: number;
  services: readonly ServiceObject[];
  tasks: readonly TaskObject[];
  nodes: readonly NodeObject[];
  /** Whether the service's tasks may run on the node (constraints, platforms): global services use it. */
  eligible: (s: ServiceObject, n: NodeObject) => boolean;
  newId: () => string;
  /** Per service, kept by the caller across passes (mutated here). */
  updaters: Map<string, UpdaterMemory>;
}

export interface Plan {
  create: TaskObject[];
  update: TaskObject[];
  services: ServiceObject[];
  /** The earliest time a pass must run again even if nothing changes (restart delays, update delays, monitors). */
  wakeAt?: number;
}

class PlanBuilder {
  readonly created: TaskObject[] = [];
  readonly changed = new Map<string, TaskObject>();
  readonly services = new Map<string, ServiceObject>();
  wakeAt: number | undefined;

  /** The task as this pass has left it. */
  cur(t: TaskObject): TaskObject {
    return this.changed.get(t.ID) ?? t;
  }
  desire(t: TaskObject, d: TaskState, extra: Partial<TaskObject> = {}): void {
    const c = this.cur(t);
    if (c.DesiredState === d && Object.keys(extra).length === 0) return;
    this.changed.set(t.ID, { ...c, ...extra, DesiredState: d });
  }
  wake(at: number): void {
    if (this.wakeAt === undefined || at < this.wakeAt) this.wakeAt = at;
  }
}

export function reconcile(input: ReconcileInput): Plan {
  const p = new PlanBuilder();
  const nodes = new Map(input.nodes.map((n) => [n.ID, n]));
  const services = new Map(input.services.map((s) => [s.ID, s]));
  const byService = new Map<string, TaskObject[]>();
  for (const t of input.tasks) {
    if (t.Attachment) continue; // a standalone container's address: no service to reconcile
    const list = byService.get(t.ServiceID) ?? [];
    list.push(t);
    byService.set(t.ServiceID, list);
  }
  // Tasks of removed services go away: stopped and removed by their agents, then reaped.
  for (const [sid, list] of byService) {
    if (services.has(sid)) continue;
    for (const t of list) if (t.DesiredState !== 'remove') p.desire(t, 'remove');
  }
  for (const s of input.services) reconcileService(p, input, s, byService.get(s.ID) ?? [], nodes);
  for (const id of [...input.updaters.keys()]) if (!services.has(id)) input.updaters.delete(id);
  return { create: p.created, update: [...p.changed.values()], services: [...p.services.values()], ...(p.wakeAt !== undefined ? { wakeAt: p.wakeAt } : {}) };
}

/** Why a task's node can no longer hold it (down, drained, gone), or undefined. */
function nodeLoss(t: TaskObject, nodes: Map<string, NodeObject>): string | undefined {
  if (!t.NodeID) return undefined;
  const n = nodes.get(t.NodeID);
  if (!n) return 'node removed from the swarm';
  if (n.Status.State === 'down') return 'node is down';
  if (n.Spec.Availability === 'drain') return 'node is drained';
  return undefined;
}

function newTask(input: ReconcileInput, s: ServiceObject, at: { slot?: number; nodeId?: string }, desired: TaskState, extra: Partial<TaskObject> = {}): TaskObject {
  const ts = new Date(input.now).toISOString();
  return {
    ID: input.newId(),
    Version: { Index: 0 },
    CreatedAt: ts,
    UpdatedAt: ts,
    Labels: {},
    Spec: s.Spec.TaskTemplate,
    ServiceID: s.ID,
    ServiceName: s.Spec.Name ?? s.ID,
    ...(at.slot !== undefined ? { Slot: at.slot } : {}),
    ...(at.nodeId !== undefined ? { NodeID: at.nodeId } : {}),
    Status: { Timestamp: ts, State: 'new', Message: 'created' },
    DesiredState: desired,
    SpecDigest: specDigest(s.Spec.TaskTemplate),
    ...(s.JobIteration ? { JobIteration: s.JobIteration } : {}),
    ...extra,
  };
}

function reconcileService(p: PlanBuilder, input: ReconcileInput, s: ServiceObject, tasks: TaskObject[], nodes: Map<string, NodeObject>): void {
  const mode = modeOf(s.Spec);
  const digest = specDigest(s.Spec.TaskTemplate);
  const key = (t: TaskObject): string => (mode === 'global' || mode === 'global-job' ? `n:${t.NodeID}` : `s:${t.Slot}`);
  const slots = new Map<string, TaskObject[]>();
  for (const t of tasks) {
    const k = key(t);
    slots.set(k, [...(slots.get(k) ?? []), t]);
  }

  // 1. Restarts and moves: a live task that ended, or whose node is gone, down or drained.
  for (const [, list] of slots) {
    for (const t of list) {
      const c = p.cur(t);
      if (!isLive(c)) continue;
      const lost = nodeLoss(c, nodes);
      const global = mode === 'global' || mode === 'global-job';
      if (lost && !isTerminal(c.Status.State)) {
        // A global task belongs to its node: drained or removed, it stops; down, it waits for the node.
        if (global) {
          if (lost !== 'node is down') p.desire(t, 'shutdown');
          continue;
        }
        p.desire(t, 'shutdown');
        const d = restartDecision(c, s.Spec.TaskTemplate.RestartPolicy, mode, input.now, true);
        if (d.restart) p.created.push(newTask(input, s, { slot: c.Slot }, 'running', { Restarts: d.restarts }));
        continue;
      }
      if (!isTerminal(c.Status.State) || c.DesiredState !== 'running') continue;
      const d = restartDecision(c, s.Spec.TaskTemplate.RestartPolicy, mode, input.now, !!lost);
      if (!d.restart) continue;
      if (global && (lost || !nodes.get(c.NodeID ?? ''))) {
        p.desire(t, 'shutdown');
        continue;
      }
      p.desire(t, 'shutdown');
      const delayed = d.startAfter > input.now;
      p.created.push(newTask(input, s, global ? { nodeId: c.NodeID! } : { slot: c.Slot }, delayed ? 'ready' : 'running', { Restarts: d.restarts, ...(delayed ? { StartAfter: d.startAfter } : {}) }));
      if (delayed) p.wake(d.startAfter);
    }
  }

  // 2. Scale: slots (replicated), nodes (global), completions (jobs).
  const liveNow = (): TaskObject[] => [...tasks.map((t) => p.cur(t)), ...p.created.filter((t) => t.ServiceID === s.ID)].filter(isLive);
  if (mode === 'replicated') scaleReplicated(p, input, s, liveNow());
  else if (mode === 'global' || mode === 'global-job') scaleGlobal(p, input, s, tasks, liveNow(), nodes, mode);
  else scaleJob(p, input, s, tasks, liveNow());

  // 3. Start delayed or stop-first replacements once their slot is free.
  promote(p, input, s, tasks, nodes, key);

  // 4. Rolling update / rollback of out-of-date tasks.
  if (!isJob(mode)) rollingUpdate(p, input, s, tasks, nodes, digest, key);

  // 5. Rebalance onto nodes that joined or came back, when nothing else is moving.
  if (mode === 'replicated') rebalance(p, input, s, tasks, nodes);
}

/** Opting out of rebalancing: a service label (Docker's API has no field for it). */
export const REBALANCE_LABEL = 'com.tsswarm.rebalance';

/**
 * Beyond Docker (moby#24103): a replicated service whose tasks crowd some nodes while other eligible
 * nodes have fewer moves one task at a time, start-first (the replacement runs before the old task
 * stops, so the service never drops below its running count), paced by its update delay. The
 * scheduler puts the replacement on the least loaded node.
 */
function rebalance(p: PlanBuilder, input: ReconcileInput, s: ServiceObject, tasks: TaskObject[], nodes: Map<string, NodeObject>): void {
  if (s.Spec.Labels?.[REBALANCE_LABEL] === 'false') return;
  if (s.UpdateStatus?.State === 'updating' || s.UpdateStatus?.State === 'rollback_started' || s.UpdateStatus?.State === 'paused' || s.UpdateStatus?.State === 'rollback_paused') return;
  const all = [...tasks.map((t) => p.cur(t)), ...p.created.filter((t) => t.ServiceID === s.ID)];
  const live = all.filter(isLive);
  // Anything in motion (new, pending, starting, a slot with two tasks) waits for the next pass.
  if (live.some((t) => t.Status.State !== 'running')) return;
  const slots = new Set(live.map((t) => t.Slot));
  if (slots.size !== live.length) return;
  const max = s.Spec.TaskTemplate.Placement?.MaxReplicas ?? 0;
  const eligible = [...nodes.values()].filter((n) => n.Status.State === 'ready' && n.Spec.Availability === 'active' && input.eligible(s, n));
  if (eligible.length < 2) return;
  const count = new Map(eligible.map((n) => [n.ID, 0]));
  for (const t of live) if (t.NodeID && count.has(t.NodeID)) count.set(t.NodeID, count.get(t.NodeID)! + 1);
  const sorted = [...count.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const [most, hi] = sorted[0]!;
  const lo = sorted[sorted.length - 1]![1];
  if (hi - lo <= 1 || (max > 0 && lo >= max)) return;
  const cfg = updateConfigOf(s.Spec.UpdateConfig);
  const mem = input.updaters.get(s.ID) ?? {};
  input.updaters.set(s.ID, mem);
  if (cfg.Delay > 0) {
    if (mem.nextBatchAt === undefined) mem.nextBatchAt = input.now + cfg.Delay / 1e6;
    if (mem.nextBatchAt > input.now) {
      p.wake(mem.nextBatchAt);
      return;
    }
  }
  mem.nextBatchAt = undefined;
  const victim = live.filter((t) => t.NodeID === most).sort((a, b) => (b.Slot ?? 0) - (a.Slot ?? 0))[0]!;
  // start-first: the rolling-update step stops the old task once this one runs (same slot, same spec).
  p.created.push(newTask(input, s, { slot: victim.Slot! }, 'running', { Rebalance: most }));
}

function scaleReplicated(p: PlanBuilder, input: ReconcileInput, s: ServiceObject, live: TaskObject[]): void {
  const want = s.Spec.Mode?.Replicated?.Replicas ?? 1;
  const bySlot = new Map<number, TaskObject[]>();
  for (const t of live) bySlot.set(t.Slot ?? 0, [...(bySlot.get(t.Slot ?? 0) ?? []), t]);
  const used = [...bySlot.keys()].sort((a, b) => a - b);
  if (used.length < want) {
    let next = 1;
    for (let i = used.length; i < want; i++) {
      while (bySlot.has(next)) next++;
      p.created.push(newTask(input, s, { slot: next }, 'running'));
      bySlot.set(next, []);
    }
  } else if (used.length > want) {
    // Scale down: slots whose tasks are not running go first, then the highest slot numbers.
    const rank = (slot: number): number => (bySlot.get(slot)!.some((t) => t.Status.State === 'running') ? 1 : 0);
    const victims = [...used].sort((a, b) => rank(a) - rank(b) || b - a).slice(0, used.length - want);
    for (const slot of victims) for (const t of bySlot.get(slot)!) p.desire(t, 'remove');
  }
}

function scaleGlobal(p: PlanBuilder, input: ReconcileInput, s: ServiceObject, all: TaskObject[], live: TaskObject[], nodes: Map<string, NodeObject>, mode: ModeKind): void {
  const iteration = s.JobIteration?.Index;
  for (const n of nodes.values()) {
    const here = live.filter((t) => t.NodeID === n.ID);
    const ok = n.Status.State !== 'down' && n.Spec.Availability === 'active' && input.eligible(s, n);
    if (!ok) {
      // Paused nodes keep what they run; ineligible or drained ones stop it.
      if (n.Spec.Availability !== 'pause' && n.Status.State !== 'down') for (const t of here) p.desire(t, 'shutdown');
      continue;
    }
    if (here.length > 0) continue;
    if (mode === 'global-job' && all.some((t) => t.NodeID === n.ID && t.JobIteration?.Index === iteration && t.Status.State === 'complete')) continue;
    if (mode === 'global-job' && all.some((t) => t.NodeID === n.ID && t.JobIteration?.Index === iteration && isLive(p.cur(t)))) continue;
    // A global task whose last run was not restarted (policy none, attempts spent) leaves the node alone.
    if (mode === 'global' && all.some((t) => t.NodeID === n.ID && p.cur(t).DesiredState === 'running')) continue;
    p.created.push(newTask(input, s, { nodeId: n.ID }, 'running'));
  }
}

function scaleJob(p: PlanBuilder, input: ReconcileInput, s: ServiceObject, all: TaskObject[], live: TaskObject[]): void {
  const job = s.Spec.Mode?.ReplicatedJob ?? {};
  const total = job.TotalCompletions ?? 1;
  const concurrent = job.MaxConcurrent ?? total;
  const iteration = s.JobIteration?.Index;
  const mine = all.filter((t) => t.JobIteration?.Index === iteration);
  const done = mine.filter((t) => t.Status.State === 'complete').length;
  const running = live.filter((t) => !isTerminal(t.Status.State) || t.DesiredState === 'ready').length;
  let slot = Math.max(0, ...all.map((t) => t.Slot ?? 0));
  const room = Math.min(concurrent - running, total - done - running);
  for (let i = 0; i < room; i++) p.created.push(newTask(input, s, { slot: ++slot }, 'running'));
}

/** A task desired `ready` starts once its delay is over and no other task of its slot still runs. */
function promote(p: PlanBuilder, input: ReconcileInput, s: ServiceObject, tasks: TaskObject[], nodes: Map<string, NodeObject>, key: (t: TaskObject) => string): void {
  const all = [...tasks.map((t) => p.cur(t)), ...p.created.filter((t) => t.ServiceID === s.ID)];
  for (const t of all) {
    if (t.DesiredState !== 'ready') continue;
    if (t.StartAfter !== undefined && t.StartAfter > input.now) {
      p.wake(t.StartAfter);
      continue;
    }
    const blocking = all.some((o) => o.ID !== t.ID && key(o) === key(t) && !isTerminal(o.Status.State) && stateOrder(o.Status.State) >= stateOrder('assigned') && nodeUp(nodes.get(o.NodeID ?? '')) && o.DesiredState !== 'ready');
    if (blocking) continue;
    const created = p.created.find((c) => c.ID === t.ID);
    if (created) created.DesiredState = 'running';
    else p.desire(t, 'running');
  }
}

function rollingUpdate(p: PlanBuilder, input: ReconcileInput, s: ServiceObject, tasks: TaskObject[], nodes: Map<string, NodeObject>, digest: string, key: (t: TaskObject) => string): void {
  const status = s.UpdateStatus;
  const rollingBack = status?.State === 'rollback_started' || status?.State === 'rollback_paused';
  const paused = status?.State === 'paused' || status?.State === 'rollback_paused';
  const cfg = updateConfigOf(rollingBack ? s.Spec.RollbackConfig : s.Spec.UpdateConfig);
  const all = [...tasks.map((t) => p.cur(t)), ...p.created.filter((t) => t.ServiceID === s.ID)];
  const live = all.filter(isLive);
  const groups = new Map<string, TaskObject[]>();
  for (const t of live) groups.set(key(t), [...(groups.get(key(t)) ?? []), t]);
  const dirty = [...groups.entries()].filter(([, g]) => g.every((t) => t.SpecDigest !== digest)).map(([k]) => k).sort(slotOrder);
  const started = status?.StartedAt ? Date.parse(status.StartedAt) : 0;
  const updating = status?.State === 'updating' || status?.State === 'rollback_started';
  const monitorMs = cfg.Monitor / 1e6;
  // New-spec tasks of this update not yet proven: not running, or running for less than the monitor period.
  const inFlight = all.filter((t) => {
    if (t.SpecDigest !== digest || !isLive(t) || Date.parse(t.CreatedAt) < started) return false;
    if (t.Status.State !== 'running') return !isTerminal(t.Status.State);
    const since = Date.parse(t.Status.Timestamp);
    if (input.now - since < monitorMs) {
      p.wake(since + monitorMs);
      return true;
    }
    return false;
  });
  // start-first: the old task of a slot stops once its replacement runs (an update's, or a rebalance's).
  for (const [, g] of groups) {
    const fresh = g.find((t) => t.SpecDigest === digest && t.Status.State === 'running');
    if (fresh) for (const t of g) if (t.SpecDigest !== digest && t.DesiredState === 'running') p.desire(t, 'shutdown');
    const moved = g.find((t) => t.Rebalance && t.SpecDigest === digest && t.Status.State === 'running');
    if (moved) for (const t of g) if (t !== moved && t.NodeID === moved.Rebalance && t.DesiredState === 'running') p.desire(t, 'shutdown');
  }
  if (dirty.length === 0 && inFlight.length === 0) {
    if (updating) {
      p.services.set(s.ID, {
        ...s,
        UpdateStatus: { ...status!, State: rollingBack ? 'rollback_completed' : 'completed', CompletedAt: new Date(input.now).toISOString(), Message: rollingBack ? 'rollback completed' : 'update completed' },
      });
    }
    return;
  }
  if (dirty.length === 0 || paused) return;
  if (!updating) {
    p.services.set(s.ID, { ...s, UpdateStatus: { State: 'updating', StartedAt: new Date(input.now).toISOString(), Message: 'update in progress' } });
    return; // the next pass starts the first batch, knowing when the update began
  }
  // Failures: tasks of this update that ended badly, against the slots being updated.
  const failed = all.filter((t) => t.SpecDigest === digest && Date.parse(t.CreatedAt) >= started && (t.Status.State === 'failed' || t.Status.State === 'rejected'));
  const total = Math.max(1, groups.size);
  if (failed.length > 0 && failed.length / total > cfg.MaxFailureRatio && cfg.FailureAction !== 'continue') {
    const culprit = failed[0]!.ID;
    if (cfg.FailureAction === 'rollback' && !rollingBack && s.PreviousSpec) {
      p.services.set(s.ID, {
        ...s,
        Spec: s.PreviousSpec,
        PreviousSpec: s.Spec,
        UpdateStatus: { State: 'rollback_started', StartedAt: new Date(input.now).toISOString(), Message: `update rolled back due to failure or early termination of task ${culprit}` },
      });
    } else {
      p.services.set(s.ID, {
        ...s,
        UpdateStatus: { ...status!, State: rollingBack ? 'rollback_paused' : 'paused', Message: `${rollingBack ? 'rollback' : 'update'} paused due to failure or early termination of task ${culprit}` },
      });
    }
    return;
  }
  const mem = input.updaters.get(s.ID) ?? {};
  input.updaters.set(s.ID, mem);
  const room = cfg.Parallelism === 0 ? dirty.length : cfg.Parallelism - inFlight.length;
  if (room <= 0) {
    mem.nextBatchAt = undefined;
    return;
  }
  if (inFlight.length === 0 && cfg.Delay > 0) {
    if (mem.nextBatchAt === undefined) mem.nextBatchAt = input.now + cfg.Delay / 1e6;
    if (mem.nextBatchAt > input.now) {
      p.wake(mem.nextBatchAt);
      return;
    }
  }
  mem.nextBatchAt = undefined;
  for (const k of dirty.slice(0, room)) {
    const olds = groups.get(k)!;
    const o = olds[0]!;
    const at = modeOf(s.Spec) === 'global' ? { nodeId: o.NodeID! } : { slot: o.Slot! };
    if (cfg.Order === 'start-first') {
      p.created.push(newTask(input, s, at, 'running'));
    } else {
      for (const t of olds) p.desire(t, 'shutdown');
      p.created.push(newTask(input, s, at, 'ready'));
    }
  }
  // A stop-first replacement whose slot is already free starts in this same pass.
  promote(p, input, s, tasks, nodes, key);
}

function slotOrder(a: string, b: string): number {
  const na = Number(a.slice(2));
  const nb = Number(b.slice(2));
  return Number.isFinite(na) && Number.isFinite(nb) ? na - nb : a < b ? -1 : a > b ? 1 : 0;
}
