// The restart supervisor's decision for a task that ended while it was meant to run: restart it (and
// when), or leave the slot as it is. Pure.
import type { RestartPolicy } from '../../api/swarm.js';
import type { ModeKind, TaskObject } from './model.js';

export const DEFAULT_RESTART_DELAY_NS = 5e9;

export type RestartDecision = { restart: false; why: string } | { restart: true; startAfter: number; restarts: { Count: number; Since: number } };

/**
 * `nodeLost`: the task ended because its node went down, was drained or removed; it did not fail, so
 * it is replaced at once whatever the policy's delay (a replacement within a heartbeat or two).
 */
export function restartDecision(t: TaskObject, policy: RestartPolicy | null | undefined, mode: ModeKind, now: number, nodeLost: boolean): RestartDecision {
  const prev = t.Restarts ?? { Count: 0, Since: now };
  const windowMs = (policy?.Window ?? 0) / 1e6;
  const restarts = windowMs > 0 && now - prev.Since > windowMs ? { Count: 1, Since: now } : { Count: prev.Count + 1, Since: prev.Since };
  if (nodeLost) return { restart: true, startAfter: now, restarts: t.Restarts ?? { Count: 0, Since: now } };
  const job = mode === 'replicated-job' || mode === 'global-job';
  // Jobs run to completion: "any" would re-run a finished job, so they restart only on failure.
  const condition = policy?.Condition ?? (job ? 'on-failure' : 'any');
  const failed = t.Status.State !== 'complete';
  if (condition === 'none') return { restart: false, why: 'restart condition none' };
  if (condition === 'on-failure' && !failed) return { restart: false, why: 'completed, restart condition on-failure' };
  if (job && !failed) return { restart: false, why: 'job task completed' };
  const max = policy?.MaxAttempts ?? 0;
  if (max > 0 && restarts.Count > max) return { restart: false, why: `restart attempts exhausted (${max})` };
  const delayMs = (policy?.Delay ?? DEFAULT_RESTART_DELAY_NS) / 1e6;
  const ended = Date.parse(t.Status.Timestamp);
  return { restart: true, startAfter: (Number.isFinite(ended) ? ended : now) + delayMs, restarts };
}
