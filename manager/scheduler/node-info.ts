// What the scheduler knows of one node while it places a set of tasks: what is left of its
// resources, how many tasks it runs (in all and per service), and which host ports are taken.
import type { HostPort, SchedNode, SchedTask } from './types.js';

export const portKey = (p: HostPort): string => `${p.protocol}/${p.port}`;

export class NodeInfo {
  cpuLeft: number;
  memLeft: number;
  /** Tasks on the node, of every service. */
  total = 0;
  readonly byService = new Map<string, number>();
  readonly ports = new Set<string>();

  constructor(
    readonly node: SchedNode,
    /** Position in node-ID order: the last tie-breaker, an integer so comparisons stay cheap. */
    readonly rank: number,
  ) {
    this.cpuLeft = node.resources.nanoCPUs;
    this.memLeft = node.resources.memoryBytes;
  }

  tasksOf(serviceId: string): number {
    return this.byService.get(serviceId) ?? 0;
  }

  add(t: Pick<SchedTask, 'serviceId' | 'reservations' | 'hostPorts'>): void {
    this.cpuLeft -= t.reservations.nanoCPUs;
    this.memLeft -= t.reservations.memoryBytes;
    this.total++;
    this.byService.set(t.serviceId, this.tasksOf(t.serviceId) + 1);
    for (const p of t.hostPorts) if (p.port !== 0) this.ports.add(portKey(p));
  }
}
