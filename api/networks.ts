// The Docker Engine API view of a network (GET /networks/{id}, GET /networks).

import type { NetworkInfo } from '../network/types.js';
import { LABELS } from './swarm-labels.js';

export function toDockerNetwork(n: NetworkInfo): Record<string, unknown> {
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    // A swarm network's side on this node (made for its tasks) is swarm-scoped, as Docker shows it.
    Scope: n.labels[LABELS.networkId] ? 'swarm' : 'local',
    Driver: n.driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: n.subnet ? [{ Subnet: n.subnet, Gateway: n.gateway }] : [] },
    Internal: n.internal,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: Object.fromEntries(
      Object.entries(n.containers).map(([id, c]) => [id, { Name: c.name, EndpointID: c.endpointId, MacAddress: c.mac, IPv4Address: `${c.ip}/${c.prefix}`, IPv6Address: '' }]),
    ),
    Options: n.options,
    Labels: n.labels,
  };
}
