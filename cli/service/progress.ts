// The `--detach=false` converge view of `service create|update|scale|rollback`: from successive reads
// of the service, its tasks and the nodes, the lines Docker's CLI shows (`overall progress: 2 out of 3
// tasks`, `1/3: running   [=====…>]`, `verify: Service converged`) and when to stop. Pure: the command
// polls and passes the clock in; the view is a set of lines keyed by ID, redrawn in place on a TTY.
import type { Service, Task, TaskState } from '../../api/swarm.js';
import { truncId } from './format.js';

/** Task states in the order the bars advance through; those after running only order tasks. */
const RANK: Partial<Record<TaskState, number>> & Record<string, number | undefined> = {
  new: 1,
  allocated: 2,
  pending: 3,
  assigned: 4,
  accepted: 5,
  preparing: 6,
  ready: 7,
  starting: 8,
  running: 9,
  complete: 10,
  shutdown: 11,
  failed: 12,
  rejected: 13,
};
const rank = (s: string): number => RANK[s] ?? 0;
const RUNNING = 9;
const terminal = (s: string): boolean => rank(s) > RUNNING;
/** Bars run to `running` for services, to `complete` for jobs. */
const SERVICE_STEPS = 9;
const JOB_STEPS = 10;
/** The widest state a bar shows ("preparing", "complete"), so the bars line up. */
const STATE_WIDTH = 9;
const MAX_BARS = 20;
const DEFAULT_MONITOR_NS = 5e9;

export interface ProgressLine {
  id: string;
  action: string;
  current?: number;
  total?: number;
}

/** Docker's progress bar with hidden counts: 50 cells, `=` for each 2%, then `>`. */
export function bar(current: number, total: number): string {
  const half = Math.min(50, Math.floor(Math.floor((current / total) * 100) / 2));
  return `[${'='.repeat(half)}>${' '.repeat(50 - half)}]`;
}

export function renderLine(l: ProgressLine, bars = true): string {
  const head = l.id === '' ? '' : `${l.id}: `;
  const tail = bars && l.total !== undefined && l.total > 0 ? ` ${bar(l.current ?? 0, l.total)}` : '';
  return `${head}${l.action}${tail}`.trimEnd();
}

/** The lines of the view, in the order their IDs first appeared; a write to an ID replaces its line. */
export class ProgressView {
  private readonly order: string[] = [];
  private readonly byId = new Map<string, ProgressLine>();

  write(l: ProgressLine): void {
    if (!this.byId.has(l.id) || l.id === '') this.order.push(l.id);
    this.byId.set(l.id, l);
  }

  lines(bars = true): string[] {
    return this.order.map((id) => renderLine(this.byId.get(id)!, bars));
  }
}

const pad = (s: string): string => s.padEnd(STATE_WIDTH);

/** Docker shortens task errors to one line of at most 75 characters. */
export function truncError(msg: string): string {
  const one = msg.replace(/\n/g, ' ');
  return one.length > 75 ? `${one.slice(0, 74)}…` : one;
}

type Updater = (service: Service, tasks: readonly Task[], activeNodes: ReadonlySet<string>, rollback: boolean) => boolean;

/** Of several tasks on one slot (or node), the one with the lowest desired state, then the lowest actual one. */
function pickBy<K>(tasks: readonly Task[], key: (t: Task) => K, activeNodes?: ReadonlySet<string>): Map<K, Task> {
  const out = new Map<K, Task>();
  for (const t of tasks) {
    if (!rank(t.DesiredState) || !rank(t.Status.State)) continue;
    const prev = out.get(key(t));
    if (prev) {
      if (rank(prev.DesiredState) < rank(t.DesiredState)) continue;
      if (rank(prev.DesiredState) === rank(t.DesiredState) && rank(prev.Status.State) <= rank(t.Status.State)) continue;
    }
    if (activeNodes && t.NodeID && !activeNodes.has(t.NodeID)) continue;
    out.set(key(t), t);
  }
  return out;
}

function overall(view: ProgressView, n: number, of: number, rollback: boolean): void {
  view.write({ id: 'overall progress', action: rollback ? `rolling back update: ${n} out of ${of} tasks` : `${n} out of ${of} tasks` });
}

function taskLine(view: ProgressView, id: string, t: Task, steps: number): void {
  if (t.Status.Err) view.write({ id, action: truncError(t.Status.Err) });
  else if (steps === JOB_STEPS || (!terminal(t.DesiredState) && !terminal(t.Status.State)))
    view.write({ id, action: pad(t.Status.State), current: rank(t.Status.State), total: steps });
}

function replicated(view: ProgressView): Updater {
  let initialized = false;
  let done = false;
  const slotMap = new Map<number, number>();
  return (service, tasks, activeNodes, rollback) => {
    const replicas = service.Spec.Mode?.Replicated?.Replicas ?? 1;
    if (!initialized) {
      overall(view, 0, replicas, rollback);
      if (replicas <= MAX_BARS) for (let i = 1; i <= replicas; i++) view.write({ id: `${i}/${replicas}`, action: ' ' });
      initialized = true;
    }
    const bySlot = pickBy(tasks, (t) => t.Slot ?? 0, activeNodes);
    if (done && [...bySlot.values()].some((t) => t.Status.State !== 'running')) done = false;
    let running = 0;
    for (const [slot, t] of [...bySlot.entries()].sort(([a], [b]) => a - b)) {
      let mapped = slotMap.get(slot);
      if (mapped === undefined) {
        mapped = slotMap.size + 1;
        slotMap.set(slot, mapped);
      }
      if (!terminal(t.DesiredState) && t.Status.State === 'running') running++;
      if (!done && replicas <= MAX_BARS && mapped <= replicas) taskLine(view, `${mapped}/${replicas}`, t, SERVICE_STEPS);
    }
    if (!done) {
      overall(view, running, replicas, rollback);
      if (running === replicas) done = true;
    }
    return running === replicas;
  };
}

function global(view: ProgressView): Updater {
  let initialized = false;
  let done = false;
  return (_service, tasks, activeNodes, rollback) => {
    const byNode = pickBy(tasks, (t) => t.NodeID ?? '');
    const count = byNode.size;
    if (!initialized) {
      // No tasks yet: the orchestrator has not made them, or no node fits the constraints.
      if (count === 0) {
        view.write({ id: 'overall progress', action: 'waiting for new tasks' });
        return false;
      }
      overall(view, 0, count, rollback);
      initialized = true;
    }
    if (done && [...byNode.values()].some((t) => t.Status.State !== 'running')) done = false;
    let running = 0;
    for (const [node, t] of [...byNode.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      if (!activeNodes.has(node)) continue;
      if (!terminal(t.DesiredState) && t.Status.State === 'running') running++;
      if (!done && count <= MAX_BARS) taskLine(view, truncId(node), t, SERVICE_STEPS);
    }
    if (!done) {
      overall(view, running, count, rollback);
      if (running === count) done = true;
    }
    return running === count;
  };
}

function replicatedJob(view: ProgressView, service: Service): Updater {
  const total = service.Spec.Mode?.ReplicatedJob?.TotalCompletions ?? 1;
  const concurrent = service.Spec.Mode?.ReplicatedJob?.MaxConcurrent ?? total;
  const iteration = service.JobStatus?.JobIteration.Index;
  const digits = String(total).length;
  const activeDigits = String(concurrent).length;
  const write = (active: number, completed: number): void => {
    view.write({ id: 'job progress', action: `${String(completed).padStart(digits)} out of ${total} complete`, current: completed, total });
    const desired = Math.min(total - completed, concurrent);
    view.write({ id: 'active tasks', action: `${String(active).padStart(activeDigits)} out of ${String(desired).padStart(activeDigits)} tasks` });
  };
  let initialized = false;
  return (_service, tasks) => {
    if (!initialized) {
      write(0, 0);
      if (total <= MAX_BARS) for (let i = 1; i <= total; i++) view.write({ id: `${i}/${total}`, action: ' ' });
      initialized = true;
    }
    const bySlot = new Map<number, Task>();
    for (const t of tasks) {
      if (iteration !== undefined && t.JobIteration?.Index !== iteration) continue;
      if (!rank(t.DesiredState) || !rank(t.Status.State)) continue;
      const prev = bySlot.get(t.Slot ?? 0);
      if (!prev || rank(prev.Status.State) > rank(t.Status.State)) bySlot.set(t.Slot ?? 0, t);
    }
    let active = 0;
    let complete = 0;
    for (const [slot, t] of [...bySlot.entries()].sort(([a], [b]) => a - b)) {
      if (total <= MAX_BARS) taskLine(view, `${slot + 1}/${total}`, t, JOB_STEPS);
      if (rank(t.Status.State) < rank('complete')) active++;
      if (t.Status.State === 'complete') complete++;
    }
    write(active, complete);
    return complete === total;
  };
}

function globalJob(view: ProgressView, service: Service): Updater {
  let nodes: Set<string> | undefined;
  const iteration = service.JobStatus?.JobIteration.Index;
  const write = (complete: number): void => {
    const total = nodes?.size ?? 0;
    view.write({ id: 'job progress', action: `${String(complete).padStart(String(total).length)} out of ${total} complete`, current: complete, total });
  };
  return (_service, tasks, activeNodes) => {
    const mine = tasks.filter((t) => iteration === undefined || t.JobIteration?.Index === iteration);
    if (!nodes) {
      if (mine.length === 0 && activeNodes.size !== 0) {
        view.write({ id: 'job progress', action: 'waiting for tasks' });
        return false;
      }
      // A global job's tasks are made at once: the nodes they are on are the whole job.
      nodes = new Set(mine.map((t) => t.NodeID ?? ''));
      write(0);
    }
    const byNode = new Map<string, Task>();
    for (const t of mine) {
      const n = t.NodeID ?? '';
      if (!nodes.has(n)) continue;
      const prev = byNode.get(n);
      if (!prev || rank(prev.Status.State) > rank(t.Status.State)) byNode.set(n, t);
    }
    let complete = 0;
    for (const [n, t] of [...byNode.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      if (nodes.size <= MAX_BARS) taskLine(view, n, t, JOB_STEPS);
      if (t.Status.State === 'complete') complete++;
    }
    write(complete);
    return complete === nodes.size;
  };
}

export type StepResult = { state: 'waiting' } | { state: 'converged' } | { state: 'failed'; message: string };

/**
 * Follows one service to convergence. Call step() with each fresh read; it writes the view and says
 * whether to keep polling, stop (converged, or the update completed), or fail (paused, rolled back).
 */
export class ConvergeTracker {
  readonly view = new ProgressView();

  /**
   * `expectRollback`: the command asked for the rollback (`service rollback`, `update --rollback`).
   * Otherwise a rollback means the update failed and was undone, which ends in failure.
   */
  constructor(private readonly expectRollback = false) {}

  private updater: Updater | undefined;
  private converged = false;
  private convergedAt: number | undefined;
  private rollback = false;
  private trailer: ProgressLine | undefined;
  /** Why the daemon started rolling back (its first rollback message), for the failure. */
  private rollbackReason: string | undefined;

  step(service: Service, tasks: readonly Task[], activeNodes: ReadonlySet<string>, nowMs: number): StepResult {
    const monitorMs = (service.Spec.UpdateConfig?.Monitor || DEFAULT_MONITOR_NS) / 1e6;
    this.updater ??= this.updaterFor(service);
    const us = service.UpdateStatus;
    switch (us?.State) {
      case 'updating':
        this.rollback = false;
        break;
      case 'completed':
        if (!this.converged) return { state: 'converged' };
        break;
      case 'paused':
        return { state: 'failed', message: `service update paused: ${us.Message}` };
      case 'rollback_started':
        if (!this.rollback && us.Message) this.view.write({ id: 'rollback', action: us.Message });
        this.rollbackReason ??= us.Message || undefined;
        this.rollback = true;
        break;
      case 'rollback_paused':
        return { state: 'failed', message: `service rollback paused: ${us.Message}` };
      case 'rollback_completed':
        if (!this.converged) this.trailer = { id: 'rollback', action: us.Message };
        this.rollback = true;
        break;
      default:
        break;
    }
    if (this.converged && this.convergedAt !== undefined && nowMs - this.convergedAt >= monitorMs) {
      this.view.write({ id: 'verify', action: 'Service converged' });
      if (this.trailer) this.view.write(this.trailer);
      if (this.rollback && !this.expectRollback) return { state: 'failed', message: `service rolled back: ${this.rollbackReason ?? us?.Message ?? ''}` };
      return { state: 'converged' };
    }
    this.converged = this.updater(service, tasks, activeNodes, this.rollback);
    if (this.converged) {
      // Jobs stay done once done: nothing to verify.
      if (service.JobStatus !== undefined || service.Spec.Mode?.ReplicatedJob || service.Spec.Mode?.GlobalJob) {
        this.view.write({ id: '', action: 'job complete' });
        return { state: 'converged' };
      }
      this.convergedAt ??= nowMs;
      const waitMs = monitorMs - (nowMs - this.convergedAt);
      if (waitMs >= 0) this.view.write({ id: 'verify', action: `Waiting ${Math.floor(waitMs / 1000) + 1} seconds to verify that tasks are stable...` });
    } else {
      if (this.convergedAt !== undefined) this.view.write({ id: 'verify', action: 'Detected task failure' });
      this.convergedAt = undefined;
    }
    return { state: 'waiting' };
  }

  private updaterFor(service: Service): Updater {
    const m = service.Spec.Mode;
    if (m?.Global) return global(this.view);
    if (m?.ReplicatedJob) return replicatedJob(this.view, service);
    if (m?.GlobalJob) return globalJob(this.view, service);
    return replicated(this.view);
  }
}
