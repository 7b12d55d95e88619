// The allocator (leader only): the resources a task or service needs before it can be scheduled.
// For now that is published ports — ingress ports are cluster-wide, so one taken by one service is
// refused to another, and a port given without a number gets one from 30000–32767 — and moving new
// tasks to pending. Overlay addresses and VIPs join here with the overlay networks. Pure.
import { ConflictError, InvalidArgumentError } from '../../lib/errors.js';
import type { PortConfig } from '../../api/swarm.js';
import type { ServiceObject, TaskObject } from '../orchestrator/model.js';

export const DYNAMIC_PORTS = { first: 30000, last: 32767 } as const;

const portKey = (p: { Protocol?: string; PublishedPort?: number }): string => `${p.Protocol ?? 'tcp'}/${p.PublishedPort}`;

/** Whether a service publishes a port on the routing mesh (ingress mode, Docker's default), as allocated. */
export function publishesOnMesh(s: { Endpoint?: { Ports?: readonly { PublishMode?: string }[] | null } | null }): boolean {
  return (s.Endpoint?.Ports ?? []).some((p) => p.PublishMode !== 'host');
}

/**
 * The service's published ports with ingress ports numbered. `others`: the services already holding
 * ports (the service itself excluded by the caller). Throws naming the port and the service holding it.
 */
export function allocatePorts(spec: { Name?: string; EndpointSpec?: { Ports?: PortConfig[] | null } | null }, others: readonly ServiceObject[]): PortConfig[] {
  const taken = new Map<string, string>();
  for (const s of others) for (const p of s.Endpoint?.Ports ?? []) if (p.PublishMode !== 'host' && p.PublishedPort) taken.set(portKey(p), s.Spec.Name ?? s.ID);
  const out: PortConfig[] = [];
  const mine = new Set<string>();
  for (const [i, p] of (spec.EndpointSpec?.Ports ?? []).entries()) {
    const mode = p.PublishMode ?? 'ingress';
    const port: PortConfig = { ...p, Protocol: p.Protocol ?? 'tcp', PublishMode: mode };
    if (mode === 'host') {
      out.push(port);
      continue;
    }
    if (!p.PublishedPort) {
      let n: number = DYNAMIC_PORTS.first;
      while (n <= DYNAMIC_PORTS.last && (taken.has(portKey({ ...port, PublishedPort: n })) || mine.has(portKey({ ...port, PublishedPort: n })))) n++;
      if (n > DYNAMIC_PORTS.last) throw new ConflictError(`EndpointSpec.Ports[${i}]: no free port left in the dynamic range ${DYNAMIC_PORTS.first}-${DYNAMIC_PORTS.last}`);
      port.PublishedPort = n;
    }
    const k = portKey(port);
    const holder = taken.get(k);
    if (holder) throw new ConflictError(`port '${port.PublishedPort}' is already in use by service '${holder}' as an ingress port`);
    if (mine.has(k)) throw new InvalidArgumentError(`EndpointSpec.Ports[${i}]: port ${port.PublishedPort}/${port.Protocol} is published twice`);
    mine.add(k);
    out.push(port);
  }
  return out;
}

/** New tasks whose resources are in place move to pending, for the scheduler. */
export function allocateTasks(tasks: readonly TaskObject[], now: string): TaskObject[] {
  const out: TaskObject[] = [];
  for (const t of tasks) {
    if (t.Status.State !== 'new' || t.DesiredState === 'remove' || t.DesiredState === 'shutdown') continue;
    out.push({ ...t, Status: { ...t.Status, Timestamp: now, State: 'pending', Message: 'pending task scheduling' } });
  }
  return out;
}
