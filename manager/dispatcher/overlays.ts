// What each node must programme for the overlay networks it is on: remote peers (VXLAN FDB and
// neighbour entries), DNS records, VIP backends and, on the ingress network, the routing mesh. Pure.
//
// Most of it is the same for every node of a network, so it is computed once per network per batch
// of changes (OverlayPictures lives for one dispatcher sync pass) from one walk over the task table;
// a node's own view then only drops its own endpoints from the peers and picks its local backends.
// A pass over N nodes thus costs O(tasks + N × endpoints of their networks), not O(N × tasks).
import { macForIp } from '../../network/ipam.js';
import type { OverlayState } from '../protocol.js';
import type { NodeObject } from '../objects.js';
import { publishesOnMesh } from '../allocator/allocator.js';
import type { NetworkLike } from '../allocator/attachments.js';
import type { MemoryStore } from '../store/memory.js';
import { isLive, isTerminal, type ServiceObject, type TaskObject } from '../orchestrator/model.js';

type Attached = TaskObject & { NetworksAttachments?: { Network: { ID: string }; Addresses: string[] }[] };

interface Endpoint {
  ip: string;
  nodeId: string;
  /** The node's underlay address, or undefined when the node is down or has none (not a peer then). */
  nodeAddr: string | undefined;
}

/** The part of a network's state every node shares. */
interface Shared {
  name: string;
  endpoints: Endpoint[];
  records: OverlayState['records'];
  vips: OverlayState['vips'];
  /** Running task addresses per service, with their node (for the mesh's node-local backends). */
  backends: Map<string, { ip: string; nodeId: string }[]>;
}

const byString = <T>(key: (x: T) => string) => (a: T, b: T): number => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

export class OverlayPictures {
  private readonly nodes: Map<string, NodeObject>;
  private readonly services: ServiceObject[];
  private readonly ingressNet: (NetworkLike & { ID: string }) | undefined;
  private readonly published: ServiceObject[];
  private attachedByNet: Map<string, { t: Attached; ip: string }[]> | undefined;
  private readonly shared = new Map<string, Shared>();

  constructor(private readonly view: MemoryStore) {
    this.nodes = new Map(view.list('nodes').map((n) => [n.ID, n as unknown as NodeObject]));
    this.services = view.list('services') as unknown as ServiceObject[];
    this.ingressNet = view.list('networks', (n) => (n as { Spec?: { Ingress?: boolean } }).Spec?.Ingress === true)[0] as (NetworkLike & { ID: string }) | undefined;
    this.published = this.services.filter(publishesOnMesh);
  }

  /** Per overlay network of the node's live tasks (and the ingress network on a mesh node): its state. */
  forNode(nodeId: string, mine: readonly TaskObject[]): Map<string, OverlayState> {
    const wanted = new Set<string>();
    for (const t of mine as Attached[]) if (isLive(t)) for (const a of t.NetworksAttachments ?? []) wanted.add(a.Network.ID);
    // The routing mesh: every node with an ingress address is on the ingress network, tasks or not.
    const me = this.nodes.get(nodeId);
    if (this.ingressNet && me?.IngressAddr && this.published.length) wanted.add(this.ingressNet.ID);
    const out = new Map<string, OverlayState>();
    for (const netId of wanted) out.set(netId, this.stateFor(netId, nodeId, me));
    return out;
  }

  private stateFor(netId: string, nodeId: string, me: NodeObject | undefined): OverlayState {
    const sh = this.sharedOf(netId);
    const st: OverlayState = { name: sh.name, peers: [], records: sh.records, vips: sh.vips };
    for (const e of sh.endpoints) if (e.nodeId !== nodeId && e.nodeAddr) st.peers.push({ ip: e.ip, mac: macForIp(e.ip), nodeAddr: e.nodeAddr });
    const ingressNet = this.ingressNet;
    if (ingressNet && netId === ingressNet.ID && me?.IngressAddr) {
      // Other nodes' mesh endpoints are peers too: a task answers the node that forwarded to it.
      for (const n of this.nodes.values()) {
        if (n.ID === nodeId || !n.IngressAddr || n.Status.State === 'down' || !n.Status.Addr) continue;
        const ip = n.IngressAddr.split('/')[0]!;
        st.peers.push({ ip, mac: macForIp(ip), nodeAddr: n.Status.Addr });
      }
      st.network = { ID: ingressNet.ID, Spec: ingressNet.Spec, ...(ingressNet.DriverState ? { DriverState: ingressNet.DriverState } : {}), ...(ingressNet.IPAMOptions ? { IPAMOptions: ingressNet.IPAMOptions } : {}) };
      st.ingress = {
        nodeAddr: me.IngressAddr,
        ports: this.published.flatMap((s) =>
          (s.Endpoint?.Ports ?? [])
            .filter((p) => p.PublishMode !== 'host' && p.PublishedPort)
            .map((p) => {
              // The client's address kept (beyond Docker, moby#25526): this node's own tasks only, unmasqueraded.
              const local = keepsSource(s, p.PublishedPort!);
              const eps = (sh.backends.get(s.ID) ?? []).filter((e) => !local || e.nodeId === nodeId);
              return { protocol: p.Protocol ?? 'tcp', port: p.PublishedPort!, targetPort: p.TargetPort, backends: eps.map((e) => e.ip).sort(), ...(local ? { local: true } : {}) };
            }),
        ),
      };
      st.ingress.ports.sort((a, b) => a.port - b.port || (a.protocol < b.protocol ? -1 : 1));
    }
    st.peers.sort(byString((p) => p.ip));
    return st;
  }

  /** Live task endpoints per network, from one walk over the task table (made on first need). */
  private attached(netId: string): { t: Attached; ip: string }[] {
    if (!this.attachedByNet) {
      this.attachedByNet = new Map();
      for (const t of this.view.list('tasks') as unknown as Attached[]) {
        if (!t.NodeID || !isLive(t) || isTerminal(t.Status.State)) continue;
        for (const a of t.NetworksAttachments ?? []) {
          const list = this.attachedByNet.get(a.Network.ID) ?? [];
          list.push({ t, ip: a.Addresses[0]!.split('/')[0]! });
          this.attachedByNet.set(a.Network.ID, list);
        }
      }
    }
    return this.attachedByNet.get(netId) ?? [];
  }

  private sharedOf(netId: string): Shared {
    const done = this.shared.get(netId);
    if (done) return done;
    const net = this.view.get('networks', netId) as { Spec?: { Name?: string } } | undefined;
    const sh: Shared = { name: net?.Spec?.Name ?? netId, endpoints: [], records: [], vips: [], backends: new Map() };
    const services = new Map(this.services.map((s) => [s.ID, s]));
    for (const { t, ip } of this.attached(netId)) {
      const node = this.nodes.get(t.NodeID!);
      const up = !!node && node.Status.State !== 'down';
      sh.endpoints.push({ ip, nodeId: t.NodeID!, nodeAddr: up && node.Status.Addr ? node.Status.Addr : undefined });
      // A task on a node marked down is unreachable (no peer entry leads there): out of the rotation and
      // the names at once, not only when the orchestrator has replaced it.
      if (t.Status.State !== 'running' || !up) continue;
      if (t.Attachment) {
        sh.records.push({ id: `swarm:att:${t.ID}`, ip, names: [t.ServiceName] });
        continue;
      }
      const name = services.get(t.ServiceID)?.Spec.Name ?? t.ServiceName;
      sh.records.push({ id: `swarm:task:${t.ID}`, ip, names: [`tasks.${name}`, `${name}.${t.Slot ?? t.NodeID}.${t.ID}`] });
      sh.backends.set(t.ServiceID, [...(sh.backends.get(t.ServiceID) ?? []), { ip, nodeId: t.NodeID! }]);
    }
    for (const s of this.services) {
      const onNet = s.Spec.TaskTemplate.Networks?.find((n) => n.Target === netId);
      const vip = s.Endpoint?.VirtualIPs?.find((v) => v.NetworkID === netId);
      if (!onNet && !vip) continue;
      const names = [s.Spec.Name ?? s.ID, ...(onNet?.Aliases ?? [])];
      const ips = (sh.backends.get(s.ID) ?? []).map((e) => e.ip).sort();
      if (vip) {
        const addr = vip.Addr.split('/')[0]!;
        sh.records.push({ id: `swarm:svc:${s.ID}`, ip: addr, names });
        sh.vips.push({ vip: addr, backends: ips });
      } else {
        // dnsrr: the name answers with the task addresses themselves.
        for (const ip of ips) sh.records.push({ id: `swarm:rr:${s.ID}:${ip}`, ip, names });
      }
    }
    sh.records.sort(byString((r) => r.id));
    sh.vips.sort(byString((v) => v.vip));
    this.shared.set(netId, sh);
    return sh;
  }
}

/** Service label: published ports (comma-separated) that keep the client's source address. */
export const KEEP_SOURCE_LABEL = 'com.tsswarm.ingress.keep-source';

function keepsSource(s: ServiceObject, port: number): boolean {
  const v = s.Spec.Labels?.[KEEP_SOURCE_LABEL];
  return !!v && v.split(',').map((x) => Number(x.trim())).includes(port);
}
