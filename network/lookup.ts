// Queries over the network records: name/id resolution (Docker's order) and the views callers get.
// Pure: reads the state it is given, changes nothing.

import { NetworkError } from './errors.js';
import type { EndpointRecord, ManagerState, NetworkRecord } from './state.js';
import type { Endpoint, NetworkInfo } from './types.js';

export function endpointsOf(state: ManagerState, networkId: string): EndpointRecord[] {
  return Object.values(state.endpoints).filter((e) => e.networkId === networkId);
}

export function endpointsOfContainer(state: ManagerState, containerId: string): EndpointRecord[] {
  // Insertion order = connect order, which decides eth numbering and the default route.
  return Object.values(state.endpoints).filter((e) => e.containerId === containerId);
}

export function findByName(state: ManagerState, name: string): NetworkRecord | undefined {
  return Object.values(state.networks).find((n) => n.name === name);
}

/** By exact id, exact name, or unique id prefix. */
export function resolveNetwork(state: ManagerState, ref: string): NetworkRecord {
  const byId = state.networks[ref] ?? findByName(state, ref);
  if (byId) return byId;
  const byPrefix = ref.length >= 1 ? Object.values(state.networks).filter((n) => n.id.startsWith(ref)) : [];
  if (byPrefix.length === 1) return byPrefix[0]!;
  if (byPrefix.length > 1) throw new NetworkError('invalid', `network ${ref} is ambiguous (${byPrefix.length} matches)`);
  throw new NetworkError('not-found', `network ${ref} not found`);
}

export function networkInfo(state: ManagerState, n: NetworkRecord): NetworkInfo {
  const containers: NetworkInfo['containers'] = {};
  for (const e of endpointsOf(state, n.id)) containers[e.containerId] = { name: e.containerName, endpointId: e.id, ip: e.ip, prefix: e.prefix, mac: e.mac, aliases: [...e.aliases] };
  return { ...n, labels: { ...n.labels }, options: { ...n.options }, containers };
}

export function endpointView(e: EndpointRecord, net: NetworkRecord): Endpoint {
  return { endpointId: e.id, networkId: net.id, networkName: net.name, ip: e.ip, prefix: e.prefix, gateway: e.gateway, mac: e.mac, ifname: e.ifname };
}
