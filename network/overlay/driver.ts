// The overlay driver (issue 11): a swarm network's data path on one node. In the network's own
// namespace (sandbox.ts): a bridge with no address (pure layer 2: nothing routes into the overlay, so
// overlays stay apart) plus a VXLAN device on it (the network's VNI, UDP 4789 from the node's
// namespace, no learning, ARP answered from the neighbour table), and a veth per task endpoint from
// there into the task — the bridge driver's endpoint path, with no default route (the task's egress
// is the gateway bridge). Peers on other nodes are programmed by the agent (programmePeers).
import { join } from 'node:path';
import { NetworkError } from '../errors.js';
import { ipBatch, run } from '../exec.js';
import { checkIfname, connectEndpoint, deleteLink, disconnectEndpoint, listLinks } from '../link.js';
import type { NetworkAddressing, NetworkDriver, ServiceAddress } from '../driver.js';
import type { EndpointRecord, NetworkRecord } from '../state.js';
import { peerScript, planPeers, programmedPeers, type Peer } from './peers.js';
import { ensureSandbox, isMounted, removeSandbox } from './sandbox.js';

export const OPT_VNI = 'com.docker.network.driver.overlay.vxlanid_list';
/** The node's underlay address the VXLAN device sends from (set by the agent when it makes the network). */
export const OPT_LOCAL = 'com.tsswarm.overlay.local';
export const OPT_MTU = 'com.docker.network.driver.mtu';
export const VXLAN_PORT = 4789;
/** 1500 less the VXLAN encapsulation (50 bytes). */
export const DEFAULT_MTU = 1450;

export interface OverlayDriverOptions {
  /** Prefix of the driver's link names (the network service's prefix). */
  prefix: string;
  /** The node's netns for every call (tests; undefined in the daemon: its own). */
  netns?: string;
  /** Directory of the overlays' namespace files (one per VNI), e.g. <data-root>/network/overlay. */
  sandboxDir: string;
}

export class OverlayDriver implements NetworkDriver {
  readonly name = 'overlay';
  /** Peers programmed per network (by bridge name). */
  private readonly peers = new Map<string, Peer[]>();

  constructor(private readonly o: OverlayDriverOptions) {}

  private names(vni: number): { bridge: string; vxlan: string } {
    return { bridge: `${this.o.prefix}ov${vni}`, vxlan: `${this.o.prefix}vx${vni}` };
  }

  plan(req: { id: string; name: string; options: Record<string, string> }): Pick<NetworkRecord, 'bridge'> {
    const vni = Number(req.options[OPT_VNI]);
    if (!Number.isInteger(vni) || vni < 1 || vni > 16777215) throw new NetworkError('invalid', `overlay network ${req.name}: option ${OPT_VNI} must be a VXLAN ID 1-16777215 (got "${req.options[OPT_VNI] ?? ''}")`);
    if (!req.options[OPT_LOCAL]) throw new NetworkError('invalid', `overlay network ${req.name}: option ${OPT_LOCAL} (this node's underlay address) is required`);
    mtuOf(req.options);
    const { bridge, vxlan } = this.names(vni);
    checkIfname(bridge);
    checkIfname(vxlan);
    return { bridge };
  }

  /** The network's own namespace (a path), where its bridge, VXLAN device and endpoint ends are. */
  namespaceOf(net: Pick<NetworkRecord, 'options'>): string {
    return join(this.o.sandboxDir, `vni${Number(net.options[OPT_VNI])}`);
  }

  async create(net: NetworkRecord, _addr: NetworkAddressing): Promise<void> {
    const vni = Number(net.options[OPT_VNI]);
    const { bridge, vxlan } = this.names(vni);
    const mtu = mtuOf(net.options);
    const ns = this.namespaceOf(net);
    const what = `cannot create overlay ${net.name} (VXLAN ${vni} on ${bridge} in ${ns})`;
    try {
      await ensureSandbox(ns);
    } catch (e) {
      throw new NetworkError('internal', `${what}: ${(e as Error).message}`);
    }
    try {
      // Made in the node's namespace (its socket stays there), then moved into the network's.
      await ipBatch(`link add name ${vxlan} mtu ${mtu} type vxlan id ${vni} dstport ${VXLAN_PORT} local ${net.options[OPT_LOCAL]} nolearning proxy\nlink set dev ${vxlan} netns ${ns}\n`, this.o.netns);
      const script = [`link add name ${bridge} mtu ${mtu} type bridge`, `link set dev ${vxlan} master ${bridge}`, `link set dev ${vxlan} up`, `link set dev ${bridge} up`];
      await ipBatch(`${script.join('\n')}\n`, ns);
    } catch (e) {
      // The namespace takes whatever was made inside it; a VXLAN device not yet moved is the node's.
      await deleteLink(vxlan, this.o.netns).catch(() => undefined);
      await removeSandbox(ns).catch(() => undefined);
      throw new NetworkError('internal', `${what}: ${(e as Error).message}`);
    }
    this.peers.set(bridge, []);
  }

  async delete(net: NetworkRecord): Promise<void> {
    const { bridge } = this.names(Number(net.options[OPT_VNI]));
    await removeSandbox(this.namespaceOf(net));
    this.peers.delete(bridge);
  }

  join(net: NetworkRecord, ep: EndpointRecord): Promise<void> {
    // No gateway: the overlay is never the container's default route.
    return connectEndpoint({ bridge: net.bridge!, hostIf: ep.hostIf, netnsPath: ep.netnsPath, ifname: ep.ifname, ip: ep.ip, prefix: ep.prefix, mac: ep.mac, mtu: mtuOf(net.options) }, this.namespaceOf(net));
  }

  async leave(net: NetworkRecord, ep: EndpointRecord): Promise<void> {
    const ns = this.namespaceOf(net);
    // Without its namespace the endpoint's node-side end is gone already.
    if (isMounted(ns)) await disconnectEndpoint(ep.hostIf, ns);
  }

  async restore(nets: readonly NetworkRecord[], endpoints: readonly EndpointRecord[]): Promise<{ stale: EndpointRecord[] }> {
    const links = new Set<string>();
    for (const n of nets) {
      const ns = this.namespaceOf(n);
      const here = isMounted(ns) ? await listLinks(ns).catch(() => [] as string[]) : [];
      if (!here.includes(n.bridge!)) {
        await removeSandbox(ns).catch(() => undefined);
        await this.create(n, { subnet: n.subnet!, gateway: n.gateway!, prefix: Number(n.subnet!.split('/')[1]) });
      } else {
        const { vxlan } = this.names(Number(n.options[OPT_VNI]));
        const fdb = await run('bridge', ['-j', 'fdb', 'show', 'dev', vxlan], { netns: ns }).catch(() => '[]');
        const neigh = await run('ip', ['-j', 'neigh', 'show', 'dev', vxlan], { netns: ns }).catch(() => '[]');
        this.peers.set(n.bridge!, programmedPeers(fdb, neigh));
      }
      for (const l of here) links.add(l);
    }
    // Peers are programmed again from the next assignment (the agent re-sends them on reconnect).
    return { stale: endpoints.filter((e) => !links.has(e.hostIf)) };
  }

  /** Programmes the endpoints on other nodes (FDB + neighbour entries), changing only what differs. */
  async programmePeers(net: NetworkRecord, wanted: readonly Peer[]): Promise<void> {
    const { bridge, vxlan } = this.names(Number(net.options[OPT_VNI]));
    const current = this.peers.get(bridge) ?? [];
    const plan = planPeers(current, wanted);
    const script = peerScript(vxlan, plan);
    if (!script) return;
    try {
      const ns = this.namespaceOf(net);
      await run('bridge', ['-batch', '-'], { input: script.split('\n').filter((l) => l.startsWith('fdb')).join('\n') + '\n', netns: ns });
      await ipBatch(script.split('\n').filter((l) => l.startsWith('neigh')).join('\n') + '\n', ns);
    } catch (e) {
      throw new NetworkError('internal', `cannot programme the peers of overlay ${net.name} on ${vxlan}: ${(e as Error).message}`);
    }
    this.peers.set(bridge, [...wanted]);
  }

  async programmeServiceAddresses(net: NetworkRecord, _services: readonly ServiceAddress[]): Promise<void> {
    // Not the driver's: the network service programmes an overlay's VIPs in each endpoint's namespace
    // (NetworkManager.programmeOverlay), where a container on several overlays has them all in one table.
    throw new NetworkError('invalid', `overlay network ${net.name}: service VIPs are programmed by the network service in each endpoint's namespace, not by the driver`);
  }
}

function mtuOf(options: Record<string, string>): number {
  const v = options[OPT_MTU];
  if (v === undefined) return DEFAULT_MTU;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 576 || n > 9000) throw new NetworkError('invalid', `invalid ${OPT_MTU} "${v}": expected an integer 576-9000`);
  return n;
}
