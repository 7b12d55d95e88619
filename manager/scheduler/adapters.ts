// From the stored shapes (NodeObject, Docker's Task and EndpointSpec) to the scheduler's plain input,
// and which stored tasks the runner should hand over as placed or as pending.
import type { EndpointSpec, Task, TaskState } from '../../api/swarm.js';
import { TASK_STATES } from '../../api/swarm.js';
import type { NodeObject } from '../objects.js';
import type { HostPort, SchedNode, SchedTask } from './types.js';

export function fromNodeObject(n: NodeObject): SchedNode {
  const d = n.Description;
  return {
    id: n.ID,
    hostname: d?.Hostname ?? '',
    addr: n.Status.Addr ?? '',
    role: n.Spec.Role,
    availability: n.Spec.Availability,
    state: n.Status.State,
    labels: n.Spec.Labels ?? {},
    engineLabels: d?.Engine?.Labels ?? {},
    platform: { os: d?.Platform?.OS ?? '', arch: d?.Platform?.Architecture ?? '' },
    resources: { nanoCPUs: d?.Resources?.NanoCPUs ?? 0, memoryBytes: d?.Resources?.MemoryBytes ?? 0 },
  };
}

/** The host-mode published ports of a service's endpoint: the ones that bind on the task's node. */
export function hostPortsOf(endpoint: EndpointSpec | null | undefined): HostPort[] {
  return (endpoint?.Ports ?? [])
    .filter((p) => p.PublishMode === 'host' && (p.PublishedPort ?? 0) !== 0)
    .map((p) => ({ protocol: p.Protocol, port: p.PublishedPort! }));
}

/**
 * A stored task as the scheduler sees it. Tasks do not carry their service's endpoint, so the runner
 * passes the service's EndpointSpec for its host-mode ports.
 */
export function fromTask(t: Task, endpoint?: EndpointSpec | null): SchedTask {
  const placement = t.Spec.Placement;
  const res = t.Spec.Resources?.Reservations;
  return {
    id: t.ID,
    serviceId: t.ServiceID,
    ...(t.NodeID ? { nodeId: t.NodeID } : {}),
    constraints: placement?.Constraints ?? [],
    spread: (placement?.Preferences ?? []).map((p) => p.Spread.SpreadDescriptor),
    maxReplicas: placement?.MaxReplicas ?? 0,
    platforms: (placement?.Platforms ?? []).map((p) => ({ ...(p.OS ? { os: p.OS } : {}), ...(p.Architecture ? { arch: p.Architecture } : {}) })),
    reservations: { nanoCPUs: res?.NanoCPUs ?? 0, memoryBytes: res?.MemoryBytes ?? 0 },
    hostPorts: hostPortsOf(endpoint),
  };
}

const order = (s: TaskState): number => TASK_STATES.indexOf(s);

/** A task that holds its node now: assigned there and not yet past running. */
export function occupiesNode(t: Pick<Task, 'NodeID' | 'Status'>): boolean {
  return !!t.NodeID && order(t.Status.State) >= order('assigned') && order(t.Status.State) <= order('running');
}

/** A task waiting for the scheduler: pending, and still meant to run. */
export function awaitsPlacement(t: Pick<Task, 'Status' | 'DesiredState'>): boolean {
  return t.Status.State === 'pending' && order(t.DesiredState) <= order('running');
}
