// The rows of `stack ls`, `stack services` and `stack ps`, in Docker's columns and texts. A minimal
// formatter of our own: the `service ls`/`service ps` formatters are being written in cli/service/ at
// the same time; once they land these rows should come from them. Pure: the caller passes `now`.
import type { PortConfig, Service, Task } from '../../api/swarm.js';
import { LABELS } from '../../api/swarm-labels.js';
import { timeAgo } from '../../lib/units.js';
import { compareStrings } from '../../lib/compare.js';

export const STACK_LS_TABLE = 'table {{.Name}}\t{{.Services}}';
export const SERVICES_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Mode}}\t{{.Replicas}}\t{{.Image}}\t{{.Ports}}';
export const PS_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Image}}\t{{.Node}}\t{{.DesiredState}}\t{{.CurrentState}}\t{{.Error}}\t{{.Ports}}';
export const HEADERS = {
  Name: 'NAME',
  Services: 'SERVICES',
  ID: 'ID',
  Mode: 'MODE',
  Replicas: 'REPLICAS',
  Image: 'IMAGE',
  Ports: 'PORTS',
  Node: 'NODE',
  DesiredState: 'DESIRED STATE',
  CurrentState: 'CURRENT STATE',
  Error: 'ERROR',
};

/** Stacks by name with their number of services, from the services' namespace labels. */
export function stackRows(services: Pick<Service, 'Spec'>[]): { Name: string; Services: number }[] {
  const counts = new Map<string, number>();
  for (const s of services) {
    const ns = s.Spec.Labels?.[LABELS.stackNamespace];
    if (ns !== undefined) counts.set(ns, (counts.get(ns) ?? 0) + 1);
  }
  return [...counts].sort(([a], [b]) => compareStrings(a, b)).map(([Name, Services]) => ({ Name, Services }));
}

const shortId = (id: string): string => id.slice(0, 12);

/** "nginx:1.25@sha256:…" → "nginx:1.25": a tagged image is shown without the digest the deploy pinned. */
export function displayImage(image: string): string {
  const at = image.indexOf('@');
  if (at < 0) return image;
  const name = image.slice(0, at);
  return /:[^/]+$/.test(name) ? name : image;
}

function modeText(s: Service): string {
  const m = s.Spec.Mode;
  if (m?.Global) return 'global';
  if (m?.ReplicatedJob) return 'replicated job';
  if (m?.GlobalJob) return 'global job';
  return 'replicated';
}

function replicasText(s: Service): string {
  const st = s.ServiceStatus;
  const m = s.Spec.Mode;
  const running = st?.RunningTasks ?? 0;
  if (m?.ReplicatedJob)
    return `${running}/${m.ReplicatedJob.MaxConcurrent ?? 1} (${st?.CompletedTasks ?? 0}/${m.ReplicatedJob.TotalCompletions ?? 1} completed)`;
  if (m?.GlobalJob) return `${running}/${st?.DesiredTasks ?? 0} (${st?.CompletedTasks ?? 0}/${st?.DesiredTasks ?? 0} completed)`;
  const desired = m?.Global ? (st?.DesiredTasks ?? 0) : (m?.Replicated?.Replicas ?? st?.DesiredTasks ?? 1);
  const max = s.Spec.TaskTemplate.Placement?.MaxReplicas;
  return max ? `${running}/${desired} (max ${max} per node)` : `${running}/${desired}`;
}

const portText = (p: PortConfig): string => `*:${p.PublishedPort ?? 0}->${p.TargetPort}/${p.Protocol}`;

export interface ServiceRow {
  ID: string;
  Name: string;
  Mode: string;
  Replicas: string;
  Image: string;
  Ports: string;
}

/** `stack services` rows (as `service ls`), sorted by name. */
export function serviceRows(services: Service[]): ServiceRow[] {
  return [...services]
    .sort((a, b) => compareStrings(a.Spec.Name ?? '', b.Spec.Name ?? ''))
    .map((s) => ({
      ID: shortId(s.ID),
      Name: s.Spec.Name ?? '',
      Mode: modeText(s),
      Replicas: replicasText(s),
      Image: displayImage(s.Spec.TaskTemplate.ContainerSpec.Image),
      Ports: (s.Endpoint?.Ports ?? s.Spec.EndpointSpec?.Ports ?? [])
        .filter((p) => p.PublishMode === 'ingress' && p.PublishedPort)
        .map(portText)
        .join(', '),
    }));
}

export interface TaskRow {
  ID: string;
  Name: string;
  Image: string;
  Node: string;
  DesiredState: string;
  CurrentState: string;
  Error: string;
  Ports: string;
}

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const ERROR_WIDTH = 30;

/**
 * `stack ps` rows (as `service ps`): per slot (or node, for global services) the newest task first,
 * older ones under it marked " \_ ".
 */
export function taskRows(tasks: Task[], serviceNames: Record<string, string>, nodeNames: Record<string, string>, now: number, noTrunc: boolean): TaskRow[] {
  const named = tasks.map((t) => {
    const service = serviceNames[t.ServiceID] ?? t.ServiceID;
    return { t, name: t.Slot ? `${service}.${t.Slot}` : `${service}.${t.NodeID ?? ''}` };
  });
  named.sort((a, b) => compareStrings(a.name, b.name) || Date.parse(b.t.Status.Timestamp ?? b.t.UpdatedAt) - Date.parse(a.t.Status.Timestamp ?? a.t.UpdatedAt));
  let previous = '';
  return named.map(({ t, name }) => {
    const shown = name === previous ? ` \\_ ${name}` : name;
    previous = name;
    const err = t.Status.Err ?? '';
    const image = t.Spec.ContainerSpec.Image;
    return {
      ID: noTrunc ? t.ID : shortId(t.ID),
      Name: noTrunc ? `${shown}.${t.ID}` : shown,
      Image: noTrunc ? image : displayImage(image),
      Node: t.NodeID ? (nodeNames[t.NodeID] ?? t.NodeID) : '',
      DesiredState: cap(t.DesiredState),
      CurrentState: `${cap(t.Status.State)} ${timeAgo(t.Status.Timestamp, now)}`,
      Error: err === '' ? '' : `"${!noTrunc && err.length > ERROR_WIDTH ? `${err.slice(0, ERROR_WIDTH - 1)}…` : err}"`,
      Ports: (t.Status.PortStatus?.Ports ?? []).map(portText).join(', '),
    };
  });
}
