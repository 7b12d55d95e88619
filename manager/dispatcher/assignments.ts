// What a node must hold: the tasks assigned to it (every task the store still has on it, so the agent
// learns of shutdowns and removals) and the secrets and configs those tasks use, while they are meant
// to run. Pure: the dispatcher diffs each node's set against what it last sent and sends the change.
import { createHash } from 'node:crypto';
import type { Assignment, OverlayState } from '../protocol.js';
import type { MemoryStore } from '../store/memory.js';
import { stateOrder, taskView, type TaskObject } from '../orchestrator/model.js';
import { OverlayPictures } from './overlays.js';
import { registryAuthAad, registryAuthOf, SEALED_AUTH, type ConfigObject, type DataBox, type SecretObject } from '../controlapi/workload.js';

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

/** `pictures`: the overlay states of the current pass, shared by the nodes synced in it. */
export function nodeSet(view: MemoryStore, nodeId: string, pictures = new OverlayPictures(view)): NodeSet {
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
  return { tasks, secrets, configs, hostPorts: endpoints, networks: pictures.forNode(nodeId, onNode) };
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
    if (changed(`task:${t.ID}`, t.Version.Index)) out.push({ kind: 'task', action: 'update', id: t.ID, task: { ...withOpenAuth(taskView(t), box), ServiceAnnotations: { Name: t.ServiceName }, Endpoint: { Ports: set.hostPorts.get(t.ServiceID) ?? [] } } as unknown as Record<string, unknown> });
  }
  for (const key of [...sent.keys()]) {
    if (seen.has(key)) continue;
    sent.delete(key);
    const [kind, id] = key.split(':') as ['task' | 'secret' | 'config' | 'network', string];
    out.push({ kind, action: 'remove', id });
  }
  return out;
}

/** The task as its node gets it: registry credentials (sealed in the store) opened, for this node only. */
function withOpenAuth<T extends { ServiceID: string; Spec: { ContainerSpec: object } }>(t: T, box: DataBox): T {
  const auth = registryAuthOf(t.Spec.ContainerSpec);
  if (!auth?.startsWith(SEALED_AUTH)) return t;
  const plain = box.open(registryAuthAad(t.ServiceID), auth.slice(SEALED_AUTH.length)).toString('utf8');
  return { ...t, Spec: { ...t.Spec, ContainerSpec: { ...t.Spec.ContainerSpec, PullOptions: { RegistryAuth: plain } } } };
}
