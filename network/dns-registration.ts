// What the embedded DNS server knows about an endpoint, and which networks a client may see names of.

import { endpointsOf, endpointsOfContainer } from './lookup.js';
import type { EndpointRecord, ManagerState } from './state.js';

/** Names an endpoint answers to: container name, aliases, short container id. */
export function dnsEntry(ep: EndpointRecord): { id: string; ip: string; names: string[] } {
  return { id: ep.id, ip: ep.ip, names: [ep.containerName, ...ep.aliases, ep.containerId.slice(0, 12)] };
}

/**
 * Networks whose names a query to `networkId`'s gateway from `clientIp` may resolve: that network,
 * then every other DNS-enabled network of the same container (Docker resolves across them).
 */
export function dnsScope(state: ManagerState, networkId: string, clientIp: string): string[] {
  const ep = endpointsOf(state, networkId).find((e) => e.ip === clientIp);
  if (!ep) return [networkId];
  const others = endpointsOfContainer(state, ep.containerId)
    .map((e) => e.networkId)
    .filter((id) => id !== networkId && state.networks[id]?.dns);
  return [networkId, ...others];
}
