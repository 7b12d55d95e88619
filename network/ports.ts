// Host port choice for published ports. Pure: whether a host port is actually free is asked through
// a callback (see ports-host.ts for the socket-based check). The -p/-P syntax lives in api/ports.ts,
// shared with the CLIs; it is re-exported here for the daemon's modules.

import { portsBetween, type PortRequest, type Proto } from '../api/ports.js';

export { PROTOS, PortSpecError, parsePublish, publishAll, formatMapping, type Proto, type PortRequest, type PortMapping } from '../api/ports.js';

/** Default range for "any free port": Docker's. */
export const EPHEMERAL_RANGE: readonly [number, number] = [49153, 65535];

export function mappingKey(m: { proto: Proto; hostIp: string; hostPort: number }): string {
  return `${m.proto}/${m.hostIp}:${m.hostPort}`;
}

/** True when two host bindings would catch the same packets (0.0.0.0 overlaps every address). */
export function bindingsClash(a: { proto: Proto; hostIp: string; hostPort: number }, b: { proto: Proto; hostIp: string; hostPort: number }): boolean {
  return a.proto === b.proto && a.hostPort === b.hostPort && (a.hostIp === b.hostIp || a.hostIp === '0.0.0.0' || b.hostIp === '0.0.0.0');
}

/**
 * Candidate host ports for a request, in the order to try them. For "any port" the walk starts at
 * `cursor` so consecutive containers get different ports even if a probe races.
 */
export function candidatePorts(req: PortRequest, cursor: number, range: readonly [number, number] = EPHEMERAL_RANGE): number[] {
  if (req.hostPortMin !== 0) return portsBetween(req.hostPortMin, req.hostPortMax);
  const [lo, hi] = range;
  const size = hi - lo + 1;
  const start = cursor >= lo && cursor <= hi ? cursor : lo;
  const out: number[] = [];
  for (let i = 0; i < size; i++) out.push(lo + ((start - lo + i) % size));
  return out;
}

/** Docker-style error for a taken host port. */
export function portInUseMessage(m: { proto: Proto; hostIp: string; hostPort: number }, by: string): string {
  return `Bind for ${m.hostIp}:${m.hostPort}/${m.proto} failed: port is already allocated (${by})`;
}
