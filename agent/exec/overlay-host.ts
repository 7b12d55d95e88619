// The worker's view of the node's network service for swarm networks: the gateway bridge tasks use for
// egress and names (Docker's docker_gwbridge), the node's side of each overlay (made on first use with
// the manager's subnet, gateway and VXLAN ID, and this node's underlay address), task containers
// connected at their allocated addresses, and overlays no task uses any more removed.
import { LABELS } from '../../api/swarm-labels.js';
import { errorKind } from '../../lib/errors.js';
import type { NetworkManager } from '../../network/manager.js';
import { OPT_ICC } from '../../network/bridge-driver.js';
import { OPT_LOCAL } from '../../network/overlay/driver.js';
import type { Engine } from '../engine.js';
import type { OverlayHost, TaskAttachment } from './worker.js';

export const GATEWAY_NETWORK = 'docker_gwbridge';
/**
 * The gateway of tasks on `--internal` overlays only: an internal bridge (no masquerade, no forwarding
 * out, no default route in the task), so the task keeps the embedded DNS on its gateway address and
 * nothing else. Docker gives such tasks no gateway bridge at all and answers names on 127.0.0.11.
 */
export const INTERNAL_GATEWAY_NETWORK = 'docker_gwbridge_internal';

/** The swarm network a local network is this node's side of (by its label), or undefined. */
export function swarmNetworkIdOf(nm: NetworkManager, ref: string): string | undefined {
  try {
    return nm.inspectNetwork(ref).labels[LABELS.networkId];
  } catch (e) {
    if (errorKind(e) === 'not-found') return undefined;
    throw e;
  }
}

export function overlayHost(engine: Engine, nodeAddr: () => string): OverlayHost {
  const nm = engine.network;
  const exists = (name: string): boolean => {
    try {
      nm.inspectNetwork(name);
      return true;
    } catch (e) {
      if (errorKind(e) === 'not-found') return false;
      throw e;
    }
  };
  /** Two tasks preparing at once may both make it: the loser's "already exists" is success. */
  const make = async (name: string, create: () => Promise<unknown>): Promise<string> => {
    if (exists(name)) return name;
    try {
      await create();
    } catch (e) {
      if (!(errorKind(e) === 'conflict' && exists(name))) throw e;
    }
    return name;
  };
  return {
    // Inter-container communication off, as Docker's docker_gwbridge: tasks of different overlays
    // (two stacks) share this bridge on a node and must not reach each other through it.
    gateway: (internal) =>
      internal
        ? make(INTERNAL_GATEWAY_NETWORK, () => nm.createNetwork({ name: INTERNAL_GATEWAY_NETWORK, driver: 'bridge', internal: true, options: { [OPT_ICC]: 'false' }, labels: { 'com.tsswarm.swarm.gateway': 'internal' } }))
        : make(GATEWAY_NETWORK, () => nm.createNetwork({ name: GATEWAY_NETWORK, driver: 'bridge', options: { [OPT_ICC]: 'false' }, labels: { 'com.tsswarm.swarm.gateway': 'true' } })),
    ensure: (att: TaskAttachment) => {
      const cfg = att.Network.IPAMOptions?.Configs?.[0];
      const addr = nodeAddr();
      if (!cfg) throw new Error(`swarm network ${att.Network.Spec.Name} has no subnet allocated`);
      if (!addr) throw new Error(`swarm network ${att.Network.Spec.Name}: this node has no swarm address`);
      return make(att.Network.Spec.Name, () =>
        nm.createNetwork({
          name: att.Network.Spec.Name,
          driver: 'overlay',
          internal: att.Network.Spec.Internal === true,
          subnet: cfg.Subnet,
          gateway: cfg.Gateway,
          labels: { [LABELS.networkId]: att.Network.ID },
          options: { ...(att.Network.DriverState?.Options ?? {}), [OPT_LOCAL]: addr },
        }),
      );
    },
    connect: async (containerId, containerName, network, ip, aliases) => {
      const info = await nm.connectContainer({ network, containerId, containerName, aliases, ip });
      await engine.containers.setNetwork(containerId, info.name, { Aliases: aliases, IPv4Address: ip });
    },
    programme: (network, st) => nm.programmeOverlay(network, st),
    ingress: (network, mesh) => nm.programmeIngress(network, mesh),
    prune: async (keep) => {
      for (const n of nm.listNetworks()) {
        if (n.driver !== 'overlay' || n.labels[LABELS.networkId] === undefined || Object.keys(n.containers).length > 0 || keep.has(n.name)) continue;
        await nm.removeNetwork(n.id).catch(() => undefined); // a task joining it meanwhile keeps it
      }
    },
  };
}
