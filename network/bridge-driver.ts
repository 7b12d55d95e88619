// The bridge driver: one Linux bridge per network, veth pairs into containers, and the network's
// entries in our nftables table (isolation, egress masquerade).

import { ipBatch, run, sysctl } from './exec.js';
import { NetworkError } from './errors.js';
import { macForIp } from './ipam.js';
import { checkIfname, connectEndpoint, createBridge, deleteLink, disconnectEndpoint, listLinks } from './link.js';
import type { NftNetwork, NftTable } from './nft.js';
import type { NetworkAddressing, NetworkDriver, ServiceAddress } from './driver.js';
import type { EndpointRecord, NetworkRecord } from './state.js';

/** Docker's driver options we honour. */
export const OPT_BRIDGE_NAME = 'com.docker.network.bridge.name';
export const OPT_MTU = 'com.docker.network.driver.mtu';
export const OPT_ICC = 'com.docker.network.bridge.enable_icc';

/** Docker's enable_icc: "true" or "false" (strconv.ParseBool's spellings); default true. */
export function iccOf(options: Record<string, string>): boolean {
  const v = options[OPT_ICC];
  if (v === undefined) return true;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new Error(`invalid ${OPT_ICC} "${v}": expected true or false`);
}

export function mtuOf(options: Record<string, string>): number | undefined {
  const v = options[OPT_MTU];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 68 || n > 65535) throw new Error(`invalid ${OPT_MTU} "${v}": expected an integer 68-65535`);
  return n;
}

export function nftNetworkOf(n: NetworkRecord): NftNetwork {
  return { bridge: n.bridge!, subnet: n.subnet!, internal: n.internal, icc: iccOf(n.options) };
}

export interface BridgeDriverOptions {
  /** The table shared with published ports; the manager creates and restores it whole. */
  nft: NftTable;
  /** Prefix of user bridge names; the network id follows. */
  bridgePrefix: string;
  log: (msg: string) => void;
}

export class BridgeDriver implements NetworkDriver {
  readonly name = 'bridge';

  constructor(private readonly o: BridgeDriverOptions) {}

  plan(req: { id: string; name: string; options: Record<string, string> }, others: readonly NetworkRecord[]): Pick<NetworkRecord, 'bridge'> {
    const bridge = req.options[OPT_BRIDGE_NAME] ?? this.o.bridgePrefix + req.id.slice(0, 10);
    try {
      checkIfname(bridge);
      mtuOf(req.options);
      iccOf(req.options);
    } catch (e) {
      throw new NetworkError('invalid', `cannot create network ${req.name}: ${(e as Error).message}`, { cause: e });
    }
    if (others.some((n) => n.bridge === bridge)) throw new NetworkError('conflict', `bridge name ${bridge} is already used by another network`);
    return { bridge };
  }

  async create(net: NetworkRecord, addr: NetworkAddressing): Promise<void> {
    const bridge = net.bridge!;
    const undo: (() => Promise<unknown>)[] = [];
    try {
      await createBridge({ name: bridge, gateway: addr.gateway, prefix: addr.prefix, mac: macForIp(addr.gateway), mtu: mtuOf(net.options) });
      undo.push(() => deleteLink(bridge));
      // 127.0.0.1-sourced packets DNAT'd to a container must be routable out of this bridge.
      await sysctl({ [`net.ipv4.conf.${bridge}.route_localnet`]: '1' });
      await this.o.nft.addNetwork(nftNetworkOf(net));
    } catch (e) {
      for (const u of undo.reverse()) await u().catch((ue: Error) => this.o.log(`rollback of network ${net.name}: ${ue.message}`));
      throw e;
    }
  }

  async delete(net: NetworkRecord, opts: { shared?: 'going' } = {}): Promise<void> {
    if (!net.bridge) return;
    if (opts.shared !== 'going') await this.o.nft.removeNetwork(nftNetworkOf(net));
    await deleteLink(net.bridge);
  }

  async join(net: NetworkRecord, ep: EndpointRecord): Promise<void> {
    await connectEndpoint({
      bridge: net.bridge!,
      hostIf: ep.hostIf,
      netnsPath: ep.netnsPath,
      ifname: ep.ifname,
      ip: ep.ip,
      prefix: ep.prefix,
      mac: ep.mac,
      gateway: ep.defaultRoute ? ep.gateway : undefined,
      mtu: mtuOf(net.options),
    });
    if (iccOf(net.options)) return;
    // Inter-container communication off: an isolated bridge port forwards only to the bridge itself
    // (the gateway, DNS) and to non-isolated ports, never to another isolated one, so containers do
    // not see each other even at layer 2 (and with br_netfilter off, where no nft rule would).
    // The container has not started yet, so nothing crossed before this.
    try {
      await ipBatch(`link set dev ${ep.hostIf} type bridge_slave isolated on\n`);
    } catch (e) {
      await disconnectEndpoint(ep.hostIf).catch(() => undefined);
      throw new NetworkError('internal', `cannot isolate ${ep.hostIf} on bridge ${net.bridge} (network ${net.name} has ${OPT_ICC}=false): ${(e as Error).message}`);
    }
  }

  leave(_net: NetworkRecord, ep: EndpointRecord): Promise<void> {
    return disconnectEndpoint(ep.hostIf);
  }

  async restore(nets: readonly NetworkRecord[], endpoints: readonly EndpointRecord[]): Promise<{ stale: EndpointRecord[] }> {
    const links = new Set(await listLinks());
    // An endpoint whose host veth is gone lost its container while we were not looking.
    const stale = endpoints.filter((ep) => !links.has(ep.hostIf));
    const bridges = nets.filter((n) => n.bridge);
    for (const n of bridges) {
      if (links.has(n.bridge!)) continue;
      await createBridge({ name: n.bridge!, gateway: n.gateway!, prefix: Number(n.subnet!.split('/')[1]), mac: macForIp(n.gateway!), mtu: mtuOf(n.options) });
    }
    if (bridges.length) await sysctl(Object.fromEntries(bridges.map((n) => [`net.ipv4.conf.${n.bridge}.route_localnet`, '1'])));
    return { stale };
  }

  programmeServiceAddresses(net: NetworkRecord, services: readonly ServiceAddress[]): Promise<void> {
    return Promise.reject(
      new NetworkError('invalid', `network ${net.name} (driver bridge) cannot carry service virtual addresses (${services.length} asked); swarm services need an overlay network`),
    );
  }

  /**
   * The default bridge's name when the state is fresh but the bridge exists: an earlier daemon lost
   * its state (data root wiped, or another data root with the same names). The name is ours; take
   * it back if nothing is plugged into it, and refuse rather than cut off someone's containers if
   * something is.
   */
  async reclaimDefaultBridge(bridge: string): Promise<void> {
    if (!(await listLinks()).includes(bridge)) return;
    const ports = (await run('ip', ['-o', 'link', 'show', 'master', bridge])).trim();
    if (ports) {
      throw new NetworkError(
        'conflict',
        `bridge ${bridge} already exists with interfaces attached: another tsswarm daemon (with another --data-root) may be using it; stop that daemon, or remove the bridge with: ip link del ${bridge}`,
      );
    }
    this.o.log(`removing bridge ${bridge} left by an earlier daemon`);
    await deleteLink(bridge);
  }
}
