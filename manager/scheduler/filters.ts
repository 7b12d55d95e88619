// The filters a node must pass to take a task, in SwarmKit's order, each with Docker's explanation of
// a failure. A node that fails counts against the first filter it fails; the explanation of an
// unplaceable task lists the filters by how many nodes they turned away.
import { type Constraint, matchesConstraints } from './constraints.js';
import { type NodeInfo, portKey } from './node-info.js';
import type { HostPort, SchedResources, SchedNode } from './types.js';

/** One task's needs, parsed once for all the identical tasks of a batch. */
export interface TaskNeeds {
  serviceId: string;
  constraints: Constraint[];
  platforms: { os?: string; arch?: string }[];
  reservations: SchedResources;
  /** Host-mode ports with a published port (port 0 asks for any free port and never conflicts). */
  hostPorts: HostPort[];
  maxReplicas: number;
}

export interface Filter {
  /** Whether the filter applies to the task at all (a task without constraints skips that filter). */
  applies(t: TaskNeeds): boolean;
  check(n: NodeInfo, t: TaskNeeds): boolean;
  /** Depends on the tasks placed on the node, so it can change as tasks are placed. */
  readonly dynamic: boolean;
  explain(nodes: number): string;
}

const onNodes = (what: string, n: number): string => `${what} on ${n} node${n === 1 ? '' : 's'}`;

// Docker treats x86_64 as amd64 and aarch64 as arm64 when it compares platforms.
const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', aarch64: 'arm64' };
const normArch = (a: string): string => ARCH_ALIASES[a] ?? a;

function platformMatches(node: SchedNode, p: { os?: string; arch?: string }): boolean {
  return (!p.arch || normArch(p.arch) === normArch(node.platform.arch)) && (!p.os || p.os === node.platform.os);
}

export const readyFilter: Filter = {
  applies: () => true,
  check: (n) => n.node.state === 'ready' && n.node.availability === 'active',
  dynamic: false,
  explain: (k) => (k === 1 ? '1 node not available for new tasks' : `${k} nodes not available for new tasks`),
};

export const resourceFilter: Filter = {
  applies: (t) => t.reservations.nanoCPUs > 0 || t.reservations.memoryBytes > 0,
  check: (n, t) => t.reservations.nanoCPUs <= n.cpuLeft && t.reservations.memoryBytes <= n.memLeft,
  dynamic: true,
  explain: (k) => onNodes('insufficient resources', k),
};

export const constraintFilter: Filter = {
  applies: (t) => t.constraints.length > 0,
  check: (n, t) => matchesConstraints(n.node, t.constraints),
  dynamic: false,
  explain: (k) => onNodes('scheduling constraints not satisfied', k),
};

export const platformFilter: Filter = {
  applies: (t) => t.platforms.length > 0,
  check: (n, t) => t.platforms.some((p) => platformMatches(n.node, p)),
  dynamic: false,
  explain: (k) => onNodes('unsupported platform', k),
};

export const hostPortFilter: Filter = {
  applies: (t) => t.hostPorts.length > 0,
  check: (n, t) => t.hostPorts.every((p) => !n.ports.has(portKey(p))),
  dynamic: true,
  explain: (k) => onNodes('host-mode port already in use', k),
};

export const maxReplicasFilter: Filter = {
  applies: (t) => t.maxReplicas > 0,
  check: (n, t) => n.tasksOf(t.serviceId) < t.maxReplicas,
  dynamic: true,
  // Docker's text, which counts no nodes.
  explain: () => 'max replicas per node limit exceed',
};

/** SwarmKit's pipeline order (its plugin filter has no counterpart here: plugins are not modelled). */
export const FILTERS: readonly Filter[] = [readyFilter, resourceFilter, constraintFilter, platformFilter, hostPortFilter, maxReplicasFilter];

/** The filters that apply to a task, split into those fixed for a node and those that change. */
export function filtersFor(t: TaskNeeds): { all: Filter[]; dynamic: Filter[] } {
  const all = FILTERS.filter((f) => f.applies(t));
  return { all, dynamic: all.filter((f) => f.dynamic) };
}

/** Index into `filters` of the first one the node fails, or -1 when it passes them all. */
export function firstFailure(n: NodeInfo, t: TaskNeeds, filters: readonly Filter[]): number {
  for (let i = 0; i < filters.length; i++) if (!filters[i]!.check(n, t)) return i;
  return -1;
}

/**
 * Docker's explanation of why no node took a task: each filter that turned nodes away, most nodes
 * first (ties in pipeline order), joined by "; ".
 */
export function explainFailures(nodes: readonly NodeInfo[], t: TaskNeeds, filters: readonly Filter[]): string {
  const failures = new Array<number>(filters.length).fill(0);
  for (const n of nodes) {
    const i = firstFailure(n, t, filters);
    if (i >= 0) failures[i]!++;
  }
  return filters
    .map((f, i) => ({ f, k: failures[i]!, i }))
    .filter((e) => e.k > 0)
    .sort((a, b) => b.k - a.k || a.i - b.i)
    .map((e) => e.f.explain(e.k))
    .join('; ');
}
