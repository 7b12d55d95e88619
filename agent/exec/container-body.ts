// A swarm task (Docker's TaskSpec) as the create body of its container: the container spec's fields,
// Docker's swarm labels, host-mode published ports, the task's secret and config files bound in
// read-only, and templates expanded for this task. Pure.
import type { ContainerSpec, PortConfig, Task } from '../../api/swarm.js';
import { LABELS } from '../../api/swarm.js';
import type { ContainerCreateBody } from '../containers/create-config.js';
import { expand, type TemplateContext } from './template.js';

export const DEFAULT_STOP_GRACE_NS = 10e9;

/** A file to bind into the task's container. */
export interface TaskFile {
  source: string;
  target: string;
}

export interface TaskContext {
  task: Task & { ServiceAnnotations?: { Name?: string } };
  serviceName: string;
  node: { ID: string; Hostname: string };
  files: TaskFile[];
  /** Ports of the service's endpoint published in host mode. */
  hostPorts: PortConfig[];
}

/** Docker's name for a task's container: SERVICE.SLOT.TASKID (global: SERVICE.NODEID.TASKID). */
export function containerName(serviceName: string, t: Pick<Task, 'ID' | 'Slot' | 'NodeID'>): string {
  return `${serviceName}.${t.Slot ?? t.NodeID}.${t.ID}`;
}

export function templateContext(c: Omit<TaskContext, 'files' | 'hostPorts'>): TemplateContext {
  const t = c.task;
  return {
    Service: { ID: t.ServiceID, Name: c.serviceName, Labels: {} },
    Task: { ID: t.ID, Name: containerName(c.serviceName, t).replace(/\.[^.]+$/, ''), Slot: String(t.Slot ?? '') },
    Node: { ID: c.node.ID, Hostname: c.node.Hostname, Platform: { OS: 'linux', Architecture: process.arch === 'x64' ? 'x86_64' : process.arch } },
  };
}

/** Swarm's "IP host [alias…]" hosts entries as Docker's "host:IP" extra hosts. */
function extraHosts(hosts: string[]): string[] {
  const out: string[] = [];
  for (const h of hosts) {
    const parts = h.trim().split(/\s+/);
    if (parts.length >= 2) for (const name of parts.slice(1)) out.push(`${name}:${parts[0]}`);
    else if (h.includes(':')) out.push(h);
  }
  return out;
}

export function containerBody(c: TaskContext): ContainerCreateBody {
  const t = c.task;
  const spec: ContainerSpec = t.Spec.ContainerSpec;
  const tctx = templateContext(c);
  const tpl = (s: string, where: string): string => expand(s, tctx, {}, where);
  const limits = t.Spec.Resources?.Limits;
  const host: NonNullable<ContainerCreateBody['HostConfig']> = {};
  const mounts = (spec.Mounts ?? []).map((m, i) => ({
    Type: m.Type,
    Target: m.Target,
    ...(m.Source ? { Source: tpl(m.Source, `ContainerSpec.Mounts[${i}].Source`) } : {}),
    ...(m.ReadOnly ? { ReadOnly: true } : {}),
    ...(m.TmpfsOptions ? { TmpfsOptions: m.TmpfsOptions } : {}),
  }));
  for (const f of c.files) mounts.push({ Type: 'bind', Source: f.source, Target: f.target, ReadOnly: true });
  if (mounts.length) host.Mounts = mounts as never;
  if (limits?.NanoCPUs) host.NanoCpus = limits.NanoCPUs;
  if (limits?.MemoryBytes) host.Memory = limits.MemoryBytes;
  if (limits?.Pids) host.PidsLimit = limits.Pids;
  if (spec.Init) host.Init = true;
  if (spec.ReadOnly) host.ReadonlyRootfs = true;
  if (spec.CapabilityAdd?.length) host.CapAdd = spec.CapabilityAdd;
  if (spec.CapabilityDrop?.length) host.CapDrop = spec.CapabilityDrop;
  if (spec.Sysctls && Object.keys(spec.Sysctls).length) host.Sysctls = spec.Sysctls;
  if (spec.Hosts?.length) host.ExtraHosts = extraHosts(spec.Hosts);
  if (spec.DNSConfig?.Nameservers?.length) host.Dns = spec.DNSConfig.Nameservers;
  if (spec.DNSConfig?.Search?.length) host.DnsSearch = spec.DNSConfig.Search;
  if (spec.DNSConfig?.Options?.length) host.DnsOptions = spec.DNSConfig.Options;
  if (spec.Ulimits?.length) host.Ulimits = spec.Ulimits;
  if (c.hostPorts.length) {
    host.PortBindings = {};
    for (const p of c.hostPorts) host.PortBindings[`${p.TargetPort}/${p.Protocol ?? 'tcp'}`] = [{ HostIp: '', HostPort: String(p.PublishedPort ?? '') }];
  }
  const labels: Record<string, string> = {
    ...(spec.Labels ?? {}),
    [LABELS.serviceId]: t.ServiceID,
    [LABELS.serviceName]: c.serviceName,
    [LABELS.taskId]: t.ID,
    [LABELS.taskName]: containerName(c.serviceName, t),
    [LABELS.nodeId]: c.node.ID,
  };
  const health = spec.HealthCheck;
  return {
    Image: spec.Image,
    ...(spec.Command?.length ? { Entrypoint: spec.Command } : {}),
    ...(spec.Args?.length ? { Cmd: spec.Args } : {}),
    ...(spec.Env?.length ? { Env: spec.Env.map((e, i) => tpl(e, `ContainerSpec.Env[${i}]`)) } : {}),
    Labels: labels,
    ...(spec.Hostname ? { Hostname: tpl(spec.Hostname, 'ContainerSpec.Hostname') } : {}),
    ...(spec.Dir ? { WorkingDir: spec.Dir } : {}),
    ...(spec.User ? { User: spec.User } : {}),
    ...(spec.TTY ? { Tty: true } : {}),
    ...(spec.OpenStdin ? { OpenStdin: true } : {}),
    ...(spec.StopSignal ? { StopSignal: spec.StopSignal } : {}),
    ...(health ? { Healthcheck: health as NonNullable<ContainerCreateBody['Healthcheck']> } : {}),
    StopTimeout: Math.ceil((spec.StopGracePeriod ?? DEFAULT_STOP_GRACE_NS) / 1e9),
    HostConfig: host,
  };
}
