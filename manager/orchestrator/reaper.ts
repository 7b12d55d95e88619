// The task reaper: which tasks to delete from the store. A task of a removed slot or service goes once
// it has stopped (or never reached a node, or its node is gone or down); otherwise each slot (each node
// for global services) keeps its last `limit` finished tasks as history, the oldest going first. Pure.
import type { NodeObject } from '../objects.js';
import { isLive, isTerminal, stateOrder, type TaskObject } from './model.js';

export function reap(tasks: readonly TaskObject[], nodes: readonly NodeObject[], limit: number): string[] {
  const byId = new Map(nodes.map((n) => [n.ID, n]));
  const out: string[] = [];
  const history = new Map<string, TaskObject[]>();
  for (const t of tasks) {
    if (t.DesiredState === 'remove') {
      const n = t.NodeID ? byId.get(t.NodeID) : undefined;
      const unplaced = stateOrder(t.Status.State) < stateOrder('assigned');
      if (isTerminal(t.Status.State) || unplaced || !n || n.Status.State === 'down') out.push(t.ID);
      continue;
    }
    if (isLive(t) || !isTerminal(t.Status.State)) continue;
    const k = `${t.ServiceID}/${t.Slot ?? `n:${t.NodeID}`}`;
    history.set(k, [...(history.get(k) ?? []), t]);
  }
  for (const list of history.values()) {
    if (list.length <= limit) continue;
    list.sort((a, b) => (a.CreatedAt < b.CreatedAt ? -1 : a.CreatedAt > b.CreatedAt ? 1 : a.ID < b.ID ? -1 : 1));
    for (const t of list.slice(0, list.length - limit)) out.push(t.ID);
  }
  return out;
}
