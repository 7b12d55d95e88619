// Builders for the scheduler's tests and benchmark: a node or task with defaults, overridden per case.
import type { SchedNode, SchedTask } from './types.js';

export const GiB = 2 ** 30;
export const CPU = 1e9;

export function node(id: string, o: Partial<SchedNode> = {}): SchedNode {
  return {
    id,
    hostname: `host-${id}`,
    addr: '',
    role: 'worker',
    availability: 'active',
    state: 'ready',
    labels: {},
    engineLabels: {},
    platform: { os: 'linux', arch: 'amd64' },
    resources: { nanoCPUs: 4 * CPU, memoryBytes: 8 * GiB },
    ...o,
  };
}

export function task(id: string, serviceId: string, o: Partial<SchedTask> = {}): SchedTask {
  return {
    id,
    serviceId,
    constraints: [],
    spread: [],
    maxReplicas: 0,
    platforms: [],
    reservations: { nanoCPUs: 0, memoryBytes: 0 },
    hostPorts: [],
    ...o,
  };
}

/** `n` tasks of a service, IDs `${prefix}-00001`… so that ID order is creation order. */
export function tasks(n: number, prefix: string, serviceId: string, o: Partial<SchedTask> = {}): SchedTask[] {
  return Array.from({ length: n }, (_, i) => task(`${prefix}-${String(i + 1).padStart(6, '0')}`, serviceId, o));
}
