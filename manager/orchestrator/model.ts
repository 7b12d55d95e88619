// The stored service and task objects (Docker's shapes from api/swarm.ts plus the few internal fields
// the leader's loops keep), and the small pure facts about them that every loop shares.
import { createHash } from 'node:crypto';
import type { Service, ServiceSpec, Task, TaskSpec, TaskState, UpdateConfig } from '../../api/swarm.js';
import type { NodeObject } from '../objects.js';
import type { StoredObject } from '../store/types.js';

export interface ServiceObject extends Service, Omit<StoredObject, 'Spec' | 'Version' | 'CreatedAt' | 'UpdatedAt' | 'ID'> {
  /** Internal: the job iteration tasks belong to (bumped by `service update --force` of a job). */
  JobIteration?: { Index: number };
}

export interface TaskObject extends Task, Omit<StoredObject, 'Spec' | 'Version' | 'CreatedAt' | 'UpdatedAt' | 'ID' | 'ServiceID' | 'NodeID' | 'DesiredState'> {
  /** Internal: a restarted task is not started before this time (ms since the epoch): the restart delay. */
  StartAfter?: number;
  /** Internal: restarts of this slot in the current window, and when that window began (ms). */
  Restarts?: { Count: number; Since: number };
  /** Internal: a digest of the spec it runs, to tell tasks an update has not reached yet. */
  SpecDigest: string;
  /** Internal: the task's service name (for container names). */
  ServiceName: string;
  /** Internal: a rebalancing replacement, and the crowded node whose task of the slot it replaces. */
  Rebalance?: string;
  /**
   * A standalone container's place on an attachable overlay (`run --network NAME`), kept in the tasks
   * table so its address is allocated, programmed and resolved like a task's; no service owns it.
   */
  Attachment?: { ContainerID: string };
}

const ORDER: Record<TaskState, number> = {
  new: 0,
  pending: 1,
  assigned: 2,
  accepted: 3,
  preparing: 4,
  ready: 5,
  starting: 6,
  running: 7,
  complete: 8,
  shutdown: 9,
  failed: 10,
  rejected: 11,
  remove: 12,
  orphaned: 13,
};

export const stateOrder = (s: TaskState): number => ORDER[s] ?? 0;
/** The task's container has ended (or never will run). */
export const isTerminal = (s: TaskState): boolean => stateOrder(s) >= ORDER.complete;
/** The task is meant to run (now or after its restart delay). */
export const isLive = (t: TaskObject): boolean => t.DesiredState === 'running' || t.DesiredState === 'ready';

export type ModeKind = 'replicated' | 'global' | 'replicated-job' | 'global-job';

export function modeOf(spec: ServiceSpec): ModeKind {
  const m = spec.Mode;
  if (m?.Global) return 'global';
  if (m?.ReplicatedJob) return 'replicated-job';
  if (m?.GlobalJob) return 'global-job';
  return 'replicated';
}

export const isJob = (k: ModeKind): boolean => k === 'replicated-job' || k === 'global-job';

/** A stable digest of a task spec (key order does not matter), so a changed spec marks tasks out of date. */
export function specDigest(spec: TaskSpec): string {
  return createHash('sha256').update(stableJson(spec)).digest('hex').slice(0, 16);
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined && x !== null);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Docker's defaults for update and rollback configs. */
export function updateConfigOf(c: UpdateConfig | null | undefined): Required<Pick<UpdateConfig, 'Parallelism' | 'Delay' | 'FailureAction' | 'Monitor' | 'MaxFailureRatio' | 'Order'>> {
  return {
    Parallelism: c?.Parallelism ?? 1,
    Delay: c?.Delay ?? 0,
    FailureAction: c?.FailureAction ?? 'pause',
    Monitor: c?.Monitor ?? 5e9,
    MaxFailureRatio: c?.MaxFailureRatio ?? 0,
    Order: c?.Order ?? 'stop-first',
  };
}

/** A node that can run tasks: known, not down. Availability is judged by the caller. */
export const nodeUp = (n: NodeObject | undefined): n is NodeObject => !!n && n.Status.State !== 'down';

/** The task's view on the Engine API: internal fields stay on the manager. */
export function taskView(t: TaskObject): Task {
  const { StartAfter: _s, Restarts: _r, SpecDigest: _d, ServiceName: _n, Rebalance: _b, Attachment: _a, ...view } = t;
  return view;
}
