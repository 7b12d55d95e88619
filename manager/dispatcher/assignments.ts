// What a node must hold: the tasks assigned to it (every task the store still has on it, so the agent
// learns of shutdowns and removals) and the secrets and configs those tasks use, while they are meant
// to run. Pure: the dispatcher diffs each node's set against what it last sent and sends the change.
import { createHash } from 'node:crypto';
import type { Assignment, OverlayState } from '../protocol.js';
import { macForIp } from '../../network/ipam.js';
import type { NodeObject } from '../objects.js';
import type { NetworkLike } from '../allocator/attachments.js';
import type { MemoryStore } from '../store/memory.js';
import { isLive, isTerminal, stateOrder, taskView, type ServiceObject, type TaskObject } from '../orchestrator/model.js';
import type { ConfigObject, DataBox, SecretObject } from '../controlapi/workload.js';

/** key (`task:ID`, `secret:ID`, `config:ID`, `network:ID`) → the version (or content digest) sent. */
export type Sent = Map<string, number | string>;

export interface NodeSet {
  tasks: TaskObject[];
  /** Per service: its ports published in host mode (bound on the task's node). */
  hostPorts: Map<string, unknown>;
  secrets: SecretObject[];
  configs: ConfigObject[];
  /** Overlay networks the node's live tasks are on, with what the node must programme for each. */
  networks: Map<string, OverlayState>;
}

export function nodeSet(view: MemoryStore, nodeId: string): NodeSet {
  const onNode = view.tasksOf({ nodeId }) as unknown as TaskObject[];
  // Attachments are not run by the worker: they only put the node on their networks.
  const tasks = onNode.filter((t) => !t.Attachment && stateOrder(t.Status.State) >= stateOrder('assigned'));
  const endpoints = new Map<string, unknown>();
  for (const t of tasks) {
    if (endpoints.has(t.ServiceID)) continue;
    const s = view.get('services', t.ServiceID) as { Endpoint?: { Ports?: { PublishMode?: string }[] } } | undefined;
    endpoints.set(t.ServiceID, (s?.Endpoint?.Ports ?? []).filter((p) => p.PublishMode === 'host'));
  }
  const secretIds = new Set<string>();
  const configIds = new Set<string>();
  for (const t of tasks) {
    if (t.DesiredState !== 'running' && t.DesiredState !== 'ready') continue;
    for (const s of t.Spec.ContainerSpec.Secrets ?? []) secretIds.add(s.SecretID);
    for (const c of t.Spec.ContainerSpec.Configs ?? []) configIds.add(c.ConfigID);
  }
  const secrets = [...secretIds].map((id) => view.get('secrets', id) as SecretObject | undefined).filter((x): x is SecretObject => !!x);
  const configs = [...configIds].map((id) => view.get('configs', id) as ConfigObject | undefined).filter((x): x is ConfigObject => !!x);
  return { tasks, secrets, configs, hostPorts: endpoints, networks: overlays(view, nodeId, onNode) };
}

type Attached = TaskObject & { NetworksAttachments?: { Network: { ID: string }; Addresses: string[] }[] };

/** Per overlay network of the node's live tasks: remote peers, DNS records and VIP backends. */
function overlays(view: MemoryStore, nodeId: string, mine: readonly TaskObject[]): Map<string, OverlayState> {
  const wanted = new Set<string>();
  for (const t of mine as Attached[]) if (isLive(t)) for (const a of t.NetworksAttachments ?? []) wanted.add(a.Network.ID);
  const nodes = new Map(view.list('nodes').map((n) => [n.ID, n as unknown as NodeObject]));
  const services = new Map(view.list('services').map((s) => [s.ID, s as unknown as ServiceObject]));
  // The routing mesh: every node with an ingress address is on the ingress network, tasks or not.
  const me = nodes.get(nodeId);
  const ingressNet = view.list('networks', (n) => (n as { Spec?: { Ingress?: boolean } }).Spec?.Ingress === true)[0] as (NetworkLike & { ID: string }) | undefined;
  const published = [...services.values()].filter((s) => (s.Endpoint?.Ports ?? []).some((p) => p.PublishMode !== 'host'));
  if (ingressNet && me?.IngressAddr && published.length) wanted.add(ingressNet.ID);
  const out = new Map<string, OverlayState>();
  if (wanted.size === 0) return out;
  const all = view.list('tasks') as unknown as Attached[];
  for (const netId of wanted) {
    const net = view.get('networks', netId) as { Spec?: { Name?: string } } | undefined;
    const st: OverlayState = { name: net?.Spec?.Name ?? netId, peers: [], records: [], vips: [] };
    const backends = new Map<string, string[]>();
    const localBackends = new Map<string, string[]>();
    for (const t of all) {
      const a = t.NetworksAttachments?.find((x) => x.Network.ID === netId);
      if (!a || !t.NodeID || !isLive(t) || isTerminal(t.Status.State)) continue;
      const ip = a.Addresses[0]!.split('/')[0]!;
      const node = nodes.get(t.NodeID);
      if (t.NodeID !== nodeId && node && node.Status.State !== 'down' && node.Status.Addr) st.peers.push({ ip, mac: macForIp(ip), nodeAddr: node.Status.Addr });
      if (t.Status.State !== 'running') continue;
      const s = services.get(t.ServiceID);
      const name = s?.Spec.Name ?? t.ServiceName;
      if (t.Attachment) {
        st.records.push({ id: `swarm:att:${t.ID}`, ip, names: [t.ServiceName] });
        continue;
      }
      st.records.push({ id: `swarm:task:${t.ID}`, ip, names: [`tasks.${name}`, `${name}.${t.Slot ?? t.NodeID}.${t.ID}`] });
      backends.set(t.ServiceID, [...(backends.get(t.ServiceID) ?? []), ip]);
      if (t.NodeID === nodeId) localBackends.set(t.ServiceID, [...(localBackends.get(t.ServiceID) ?? []), ip]);
    }
    for (const s of services.values()) {
      const onNet = s.Spec.TaskTemplate.Networks?.find((n) => n.Target === netId);
      const vip = s.Endpoint?.VirtualIPs?.find((v) => v.NetworkID === netId);
      if (!onNet && !vip) continue;
      const names = [s.Spec.Name ?? s.ID, ...(onNet?.Aliases ?? [])];
      const ips = (backends.get(s.ID) ?? []).sort();
      if (vip) {
        const addr = vip.Addr.split('/')[0]!;
        st.records.push({ id: `swarm:svc:${s.ID}`, ip: addr, names });
        st.vips.push({ vip: addr, backends: ips });
      } else {
        // dnsrr: the name answers with the task addresses themselves.
        for (const ip of ips) st.records.push({ id: `swarm:rr:${s.ID}:${ip}`, ip, names });
      }
    }
    if (ingressNet && netId === ingressNet.ID && me?.IngressAddr) {
      // Other nodes' mesh endpoints are peers too: a task answers the node that forwarded to it.
      for (const n of nodes.values()) {
        if (n.ID === nodeId || !n.IngressAddr || n.Status.State === 'down' || !n.Status.Addr) continue;
        const ip = n.IngressAddr.split('/')[0]!;
        st.peers.push({ ip, mac: macForIp(ip), nodeAddr: n.Status.Addr });
      }
      st.network = { ID: ingressNet.ID, Spec: ingressNet.Spec, ...(ingressNet.DriverState ? { DriverState: ingressNet.DriverState } : {}), ...(ingressNet.IPAMOptions ? { IPAMOptions: ingressNet.IPAMOptions } : {}) };
      st.ingress = {
        nodeAddr: me.IngressAddr,
        ports: published.flatMap((s) =>
          (s.Endpoint?.Ports ?? [])
            .filter((p) => p.PublishMode !== 'host' && p.PublishedPort)
            .map((p) => {
              // The client's address kept (beyond Docker, moby#25526): this node's own tasks only, unmasqueraded.
              const local = keepsSource(s, p.PublishedPort!);
              const ips = local ? (localBackends.get(s.ID) ?? []) : (backends.get(s.ID) ?? []);
              return { protocol: p.Protocol ?? 'tcp', port: p.PublishedPort!, targetPort: p.TargetPort, backends: [...ips].sort(), ...(local ? { local: true } : {}) };
            }),
        ),
      };
      st.ingress.ports.sort((a, b) => a.port - b.port || (a.protocol < b.protocol ? -1 : 1));
    }
    st.peers.sort((a, b) => (a.ip < b.ip ? -1 : 1));
    st.records.sort((a, b) => (a.id < b.id ? -1 : 1));
    st.vips.sort((a, b) => (a.vip < b.vip ? -1 : 1));
    out.set(netId, st);
  }
  return out;
}

/** The changes from `sent` to `set`; updates `sent` to match. */
export function diff(set: NodeSet, sent: Sent, box: DataBox): Assignment[] {
  const out: Assignment[] = [];
  const seen = new Set<string>();
  const changed = (key: string, version: number | string): boolean => {
    seen.add(key);
    if (sent.get(key) === version) return false;
    sent.set(key, version);
    return true;
  };
  // Secrets and configs first: a task never arrives before the data it mounts.
  for (const s of set.secrets) {
    if (changed(`secret:${s.ID}`, s.Version.Index)) out.push({ kind: 'secret', action: 'update', id: s.ID, name: s.Spec.Name, data: box.open(`secret:${s.ID}`, s.Sealed).toString('base64') });
  }
  for (const c of set.configs) {
    if (changed(`config:${c.ID}`, c.Version.Index)) out.push({ kind: 'config', action: 'update', id: c.ID, name: c.Spec.Name, data: c.Spec.Data ?? '', ...(c.Spec.Templating?.Name ? { templating: c.Spec.Templating.Name } : {}) });
  }
  for (const [id, st] of set.networks) {
    const digest = createHash('sha256').update(JSON.stringify(st)).digest('hex').slice(0, 16);
    if (changed(`network:${id}`, digest)) out.push({ kind: 'network', action: 'update', id, network: st as unknown as Record<string, unknown> });
  }
  for (const t of set.tasks) {
    if (changed(`task:${t.ID}`, t.Version.Index)) out.push({ kind: 'task', action: 'update', id: t.ID, task: { ...taskView(t), ServiceAnnotations: { Name: t.ServiceName }, Endpoint: { Ports: set.hostPorts.get(t.ServiceID) ?? [] } } as unknown as Record<string, unknown> });
  }
  for (const key of [...sent.keys()]) {
    if (seen.has(key)) continue;
    sent.delete(key);
    const [kind, id] = key.split(':') as ['task' | 'secret' | 'config' | 'network', string];
    out.push({ kind, action: 'remove', id });
  }
  return out;
}

/** Service label: published ports (comma-separated) that keep the client's source address. */
export const KEEP_SOURCE_LABEL = 'com.tsswarm.ingress.keep-source';

function keepsSource(s: ServiceObject, port: number): boolean {
  const v = s.Spec.Labels?.[KEEP_SOURCE_LABEL];
  return !!v && v.split(',').map((x) => Number(x.trim())).includes(port);
}
