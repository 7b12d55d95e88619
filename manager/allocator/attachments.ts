// One pass's view of overlay addresses in use, and the allocations a pass makes from it (pure): a
// service's virtual IP on each of its networks (endpoint mode vip), and a task's address on each of
// its networks — the service's networks, plus `ingress` when it publishes ports in ingress mode.
import type { Service, Task } from '../../api/swarm.js';
import { publishesOnMesh } from './allocator.js';
import { AddressPool, hostOf, VXLAN_OPTION } from './networks.js';

/** A stored swarm network's fields this module reads (see controlapi NetworkObject). */
export interface NetworkLike {
  ID: string;
  Spec: { Name: string; Ingress?: boolean; Labels?: Record<string, string>; Driver?: string };
  IPAMOptions?: { Configs?: { Subnet: string; Gateway: string }[] };
  DriverState?: { Name: string; Options: Record<string, string> };
}

export interface NetworkAttachment {
  Network: { ID: string; Spec: NetworkLike['Spec']; DriverState?: NetworkLike['DriverState']; IPAMOptions?: NetworkLike['IPAMOptions'] };
  Addresses: string[];
}

type ServiceLike = Pick<Service, 'ID' | 'Spec' | 'Endpoint'>;
type TaskLike = Pick<Task, 'ID' | 'ServiceID'> & { NetworksAttachments?: NetworkAttachment[] };

export class PassNetworks {
  private readonly byId = new Map<string, NetworkLike>();
  private readonly pools = new Map<string, AddressPool>();
  readonly ingress: NetworkLike | undefined;

  constructor(networks: readonly NetworkLike[], services: readonly ServiceLike[], tasks: readonly TaskLike[], nodes: readonly { IngressAddr?: string }[] = []) {
    for (const n of networks) this.byId.set(n.ID, n);
    this.ingress = networks.find((n) => n.Spec.Ingress);
    const used = new Map<string, Set<string>>();
    const mark = (net: string, addr: string) => {
      if (!used.has(net)) used.set(net, new Set());
      used.get(net)!.add(hostOf(addr));
    };
    for (const s of services) for (const v of s.Endpoint?.VirtualIPs ?? []) mark(v.NetworkID, v.Addr);
    for (const t of tasks) for (const a of t.NetworksAttachments ?? []) for (const addr of a.Addresses) mark(a.Network.ID, addr);
    if (this.ingress) for (const n of nodes) if (n.IngressAddr) mark(this.ingress.ID, n.IngressAddr);
    for (const n of networks) {
      const cfg = n.IPAMOptions?.Configs?.[0];
      if (!cfg) continue;
      this.pools.set(n.ID, new AddressPool({ Name: n.Spec.Name, Subnet: cfg.Subnet, Gateway: cfg.Gateway }, used.get(n.ID) ?? new Set()));
    }
  }

  /** The networks a service's tasks join: its own, then ingress if it publishes ports in ingress mode. */
  networksOf(s: ServiceLike): NetworkLike[] {
    const out: NetworkLike[] = [];
    if (this.ingress && publishesOnMesh(s)) out.push(this.ingress);
    for (const n of s.Spec.TaskTemplate.Networks ?? []) {
      const net = this.byId.get(n.Target);
      if (net && !out.includes(net)) out.push(net);
    }
    return out;
  }

  /** The service's VIPs (mode vip): kept where allocated, added for new networks, dropped for gone ones. Undefined: unchanged. */
  virtualIPs(s: ServiceLike): { NetworkID: string; Addr: string }[] | undefined {
    const want = (s.Spec.EndpointSpec?.Mode ?? 'vip') === 'vip' ? this.networksOf(s) : [];
    const have = s.Endpoint?.VirtualIPs ?? [];
    const out: { NetworkID: string; Addr: string }[] = [];
    for (const n of want) {
      const cur = have.find((v) => v.NetworkID === n.ID);
      if (cur) out.push(cur);
      else {
        const pool = this.pools.get(n.ID);
        if (pool) out.push({ NetworkID: n.ID, Addr: pool.take() });
      }
    }
    const same = out.length === have.length && out.every((v, i) => have[i]?.NetworkID === v.NetworkID && have[i]?.Addr === v.Addr);
    return same ? undefined : out;
  }

  /** The network as tasks carry it, with a fresh address on it (a standalone container's attachment). */
  attachmentOn(networkId: string): NetworkAttachment | undefined {
    const n = this.byId.get(networkId);
    const pool = this.pools.get(networkId);
    if (!n || !pool) return undefined;
    return { Network: { ID: n.ID, Spec: n.Spec, ...(n.DriverState ? { DriverState: n.DriverState } : {}), ...(n.IPAMOptions ? { IPAMOptions: n.IPAMOptions } : {}) }, Addresses: [pool.take()] };
  }

  /** A node's own address on the ingress network (its routing-mesh sandbox), or undefined without one. */
  ingressAddr(): string | undefined {
    return this.ingress ? this.pools.get(this.ingress.ID)?.take() : undefined;
  }

  /** Addresses for a task about to be scheduled, one per network of its service. */
  attachments(s: ServiceLike): NetworkAttachment[] {
    return this.networksOf(s).flatMap((n) => {
      const pool = this.pools.get(n.ID);
      if (!pool) return [];
      return [{ Network: { ID: n.ID, Spec: n.Spec, ...(n.DriverState ? { DriverState: n.DriverState } : {}), ...(n.IPAMOptions ? { IPAMOptions: n.IPAMOptions } : {}) }, Addresses: [pool.take()] }];
    });
  }
}

export const vniOf = (n: Pick<NetworkLike, 'DriverState'>): number => Number(n.DriverState?.Options[VXLAN_OPTION] ?? 0);
