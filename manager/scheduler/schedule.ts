// Places pending tasks on nodes: SwarmKit's filters, then spread over placement preferences, then the
// node with the fewest tasks of the service, then the fewest tasks overall, then the lowest node ID.
// Pure and deterministic: no I/O, no clock, no randomness; the same input gives the same output.
//
// Identical tasks (same service, same placement, reservations and host ports) are placed as one
// batch: the filters that cannot change are evaluated once per node, the rest (resources, host ports,
// max replicas) only on the node about to take a task, and candidates sit in heaps. Placing k tasks of
// a batch on n nodes costs O(n + k·log n) per preference level.
import { DomainError } from '../../lib/errors.js';
import { nodeValue, parseConstraints, parsePreferences, type SpreadPreference } from './constraints.js';
import { explainFailures, type Filter, filtersFor, firstFailure, type TaskNeeds } from './filters.js';
import { MinHeap } from './heap.js';
import { NodeInfo } from './node-info.js';
import type { Assignment, SchedInput, SchedResult, SchedTask, Unassigned } from './types.js';

const NO_SUITABLE_NODE = 'no suitable node';

/** The needs of a task, or why it cannot be scheduled at all (a constraint the control API should have refused). */
function needsOf(t: SchedTask): { needs: TaskNeeds; spread: SpreadPreference[] } | { error: string } {
  try {
    return {
      needs: {
        serviceId: t.serviceId,
        constraints: parseConstraints(t.constraints, 'Placement.Constraints'),
        platforms: t.platforms,
        reservations: t.reservations,
        hostPorts: t.hostPorts.filter((p) => p.port !== 0),
        maxReplicas: t.maxReplicas,
      },
      spread: parsePreferences(
        t.spread.map((d) => `spread=${d}`),
        'Placement.Preferences',
      ),
    };
  } catch (e) {
    // Placing the task while ignoring a constraint could put it where the user forbade: keep it pending.
    if (e instanceof DomainError) return { error: `${NO_SUITABLE_NODE} (${e.message})` };
    throw e;
  }
}

/** Tasks that are interchangeable for placement share a key. */
function batchKey(t: SchedTask): string {
  return `${t.serviceId}\u0000${JSON.stringify([t.constraints, t.spread, t.maxReplicas, t.platforms, t.reservations, t.hostPorts])}`;
}

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A group of nodes sharing the values of the spread descriptors down to its depth. */
interface Branch {
  value: string;
  /** Tasks of the batch's service on the branch's nodes. */
  count: number;
  /** Inner branches: sub-branches by the next descriptor's value. */
  children?: MinHeap<Branch>;
  /** Leaves: the candidate nodes. */
  nodes?: MinHeap<NodeInfo>;
}

const branchLess = (a: Branch, b: Branch): boolean => a.count < b.count || (a.count === b.count && a.value < b.value);

class Batch {
  private readonly dynamic: Filter[];
  private readonly nodeLess: (a: NodeInfo, b: NodeInfo) => boolean;
  private root: Branch | undefined;

  constructor(
    private readonly needs: TaskNeeds,
    private readonly spread: SpreadPreference[],
    private readonly filters: Filter[],
    dynamic: Filter[],
  ) {
    this.dynamic = dynamic;
    const s = needs.serviceId;
    this.nodeLess = (a, b) => {
      const sa = a.tasksOf(s);
      const sb = b.tasksOf(s);
      if (sa !== sb) return sa < sb;
      if (a.total !== b.total) return a.total < b.total;
      return a.rank < b.rank;
    };
  }

  /** Builds the spread tree over the nodes that pass every filter now. */
  start(nodes: readonly NodeInfo[]): void {
    const eligible = nodes.filter((n) => firstFailure(n, this.needs, this.filters) < 0);
    this.root = this.build('', eligible, 0);
  }

  private build(value: string, nodes: NodeInfo[], depth: number): Branch {
    let count = 0;
    for (const n of nodes) count += n.tasksOf(this.needs.serviceId);
    const pref = this.spread[depth];
    if (!pref) return { value, count, nodes: new MinHeap(this.nodeLess, nodes) };
    const groups = new Map<string, NodeInfo[]>();
    for (const n of nodes) {
      // Nodes without the label read as "": they form a group of their own, as in SwarmKit.
      const v = nodeValue(n.node, pref.key);
      const g = groups.get(v);
      if (g) g.push(n);
      else groups.set(v, [n]);
    }
    const children = [...groups].map(([v, ns]) => this.build(v, ns, depth + 1));
    return { value, count, children: new MinHeap(branchLess, children) };
  }

  /** Places one task; undefined when no node can take it (nor any further task of the batch). */
  placeOne(t: SchedTask): NodeInfo | undefined {
    return this.root ? this.descend(this.root, t) : undefined;
  }

  private descend(b: Branch, t: SchedTask): NodeInfo | undefined {
    if (b.nodes) {
      for (let n = b.nodes.peek(); n; n = b.nodes.peek()) {
        if (this.dynamic.every((f) => f.check(n!, this.needs))) {
          n.add(t);
          b.nodes.topIncreased();
          b.count++;
          return n;
        }
        // Placing tasks only takes resources, ports and replica room: the node stays unfit for the batch.
        b.nodes.pop();
      }
      return undefined;
    }
    const children = b.children!;
    for (let c = children.peek(); c; c = children.peek()) {
      const n = this.descend(c, t);
      if (n) {
        children.topIncreased();
        b.count++;
        return n;
      }
      children.pop();
    }
    return undefined;
  }
}

/** Places `input.pending` on `input.nodes`, given the tasks already on them (`input.placed`). */
export function schedule(input: SchedInput): SchedResult {
  const nodes = [...input.nodes].sort((a, b) => compareStrings(a.id, b.id)).map((n, i) => new NodeInfo(n, i));
  const byId = new Map(nodes.map((n) => [n.node.id, n]));
  for (const t of input.placed) {
    // A task on a node that is gone holds nothing anywhere.
    if (t.nodeId !== undefined) byId.get(t.nodeId)?.add(t);
  }

  const assigned: Assignment[] = [];
  const unassigned: Unassigned[] = [];
  const byTaskId = (a: SchedTask, b: SchedTask) => compareStrings(a.id, b.id);

  // Tasks whose node is chosen already (global services) first: they have nowhere else to go.
  for (const t of input.pending.filter((p) => p.nodeId !== undefined).sort(byTaskId)) {
    const r = needsOf(t);
    if ('error' in r) {
      unassigned.push({ taskId: t.id, reason: r.error });
      continue;
    }
    const n = byId.get(t.nodeId!);
    if (!n) {
      unassigned.push({ taskId: t.id, reason: `${NO_SUITABLE_NODE} (node ${t.nodeId} is not in the cluster)` });
      continue;
    }
    const { all } = filtersFor(r.needs);
    const i = firstFailure(n, r.needs, all);
    if (i < 0) {
      n.add(t);
      assigned.push({ taskId: t.id, nodeId: n.node.id });
    } else {
      // Docker's text for a task bound to one node: the explanation alone.
      unassigned.push({ taskId: t.id, reason: all[i]!.explain(1) });
    }
  }

  const batches = new Map<string, SchedTask[]>();
  for (const t of input.pending) {
    if (t.nodeId !== undefined) continue;
    const k = batchKey(t);
    const b = batches.get(k);
    if (b) b.push(t);
    else batches.set(k, [t]);
  }
  for (const k of [...batches.keys()].sort(compareStrings)) {
    const tasks = batches.get(k)!.sort(byTaskId);
    const r = needsOf(tasks[0]!);
    if ('error' in r) {
      for (const t of tasks) unassigned.push({ taskId: t.id, reason: r.error });
      continue;
    }
    const { all, dynamic } = filtersFor(r.needs);
    const batch = new Batch(r.needs, r.spread, all, dynamic);
    batch.start(nodes);
    let i = 0;
    for (; i < tasks.length; i++) {
      const n = batch.placeOne(tasks[i]!);
      if (!n) break;
      assigned.push({ taskId: tasks[i]!.id, nodeId: n.node.id });
    }
    if (i < tasks.length) {
      const why = explainFailures(nodes, r.needs, all);
      const reason = why ? `${NO_SUITABLE_NODE} (${why})` : NO_SUITABLE_NODE;
      for (; i < tasks.length; i++) unassigned.push({ taskId: tasks[i]!.id, reason });
    }
  }
  return { assigned, unassigned };
}
