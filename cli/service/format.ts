// What `service ls`, `service ps`, `service inspect --pretty` and `service logs` print, as Docker's
// CLI prints it. Pure: the daemon's objects and the current time in, rows and text out.
import { bytesSize, formatDuration, humanDuration } from '../../lib/units.js';
import type { PortConfig, Service, ServiceSpec, Task } from '../../api/swarm.js';

/** Docker's stringid.TruncateID. */
export const truncId = (id: string): string => id.slice(0, 12);

/** Docker's command.PrettyPrint for states: "running" → "Running". */
const pretty = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** An image as the lists show it: the digest dropped when there is a tag to show (`nginx:1@sha256:…` → `nginx:1`). */
export function displayImage(image: string): string {
  const at = image.indexOf('@');
  if (at < 0) return image;
  const name = image.slice(0, at);
  const lastSlash = name.lastIndexOf('/');
  return name.indexOf(':', lastSlash + 1) >= 0 ? name : image;
}

export function modeName(spec: ServiceSpec): string {
  const m = spec.Mode;
  if (m?.Global) return 'global';
  if (m?.ReplicatedJob) return 'replicated job';
  if (m?.GlobalJob) return 'global job';
  return 'replicated';
}

/** REPLICAS: "2/3", "2/3 (max 1 per node)", jobs "1/3 (3/5 completed)". */
export function replicasText(s: Service): string {
  const running = s.ServiceStatus?.RunningTasks ?? 0;
  const desired = s.ServiceStatus?.DesiredTasks ?? 0;
  const completed = s.ServiceStatus?.CompletedTasks ?? 0;
  const m = s.Spec.Mode;
  if (m?.ReplicatedJob) return `${running}/${desired} (${completed}/${m.ReplicatedJob.TotalCompletions ?? 1} completed)`;
  // A global job's desired tasks are those not yet completed, so the whole is their sum.
  if (m?.GlobalJob) return `${running}/${desired} (${completed}/${desired + completed} completed)`;
  const max = s.Spec.TaskTemplate.Placement?.MaxReplicas ?? 0;
  if (!m?.Global && max > 0) return `${running}/${desired} (max ${max} per node)`;
  return `${running}/${desired}`;
}

/** PORTS of `service ls`: the ingress ports, consecutive ones folded into ranges (`*:8080-8081->80-81/tcp`). */
export function servicePorts(ports: readonly PortConfig[] | null | undefined): string {
  const ingress = (ports ?? [])
    .filter((p) => p.PublishMode !== 'host' && (p.PublishedPort ?? 0) !== 0)
    .slice()
    .sort((a, b) => (a.Protocol === b.Protocol ? (a.PublishedPort ?? 0) - (b.PublishedPort ?? 0) : a.Protocol.localeCompare(b.Protocol)));
  const out: string[] = [];
  for (let i = 0; i < ingress.length; ) {
    const first = ingress[i]!;
    let j = i;
    while (
      j + 1 < ingress.length &&
      ingress[j + 1]!.Protocol === first.Protocol &&
      ingress[j + 1]!.PublishedPort === (ingress[j]!.PublishedPort ?? 0) + 1 &&
      ingress[j + 1]!.TargetPort === ingress[j]!.TargetPort + 1
    )
      j++;
    const last = ingress[j]!;
    out.push(
      j === i
        ? `*:${first.PublishedPort}->${first.TargetPort}/${first.Protocol}`
        : `*:${first.PublishedPort}-${last.PublishedPort}->${first.TargetPort}-${last.TargetPort}/${first.Protocol}`,
    );
    i = j + 1;
  }
  return out.join(', ');
}

export interface ServiceRow {
  ID: string;
  Name: string;
  Mode: string;
  Replicas: string;
  Image: string;
  Ports: string;
}

export const SERVICE_TABLE = {
  defaultTable: 'table {{.ID}}\t{{.Name}}\t{{.Mode}}\t{{.Replicas}}\t{{.Image}}\t{{.Ports}}',
  headers: { ID: 'ID', Name: 'NAME', Mode: 'MODE', Replicas: 'REPLICAS', Image: 'IMAGE', Ports: 'PORTS' },
};

/** `service ls` rows, by name as Docker sorts them. */
export function serviceRows(services: readonly Service[]): ServiceRow[] {
  return services
    .slice()
    .sort((a, b) => (a.Spec.Name ?? '').localeCompare(b.Spec.Name ?? ''))
    .map((s) => ({
      ID: truncId(s.ID),
      Name: s.Spec.Name ?? '',
      Mode: modeName(s.Spec),
      Replicas: replicasText(s),
      Image: displayImage(s.Spec.TaskTemplate.ContainerSpec.Image),
      Ports: servicePorts(s.Endpoint?.Ports ?? s.Spec.EndpointSpec?.Ports),
    }));
}

// ---- service ps ---------------------------------------------------------------------------------

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

/** Whether `--format` asks for a table (none given, or a `table …` template), where task rows nest. */
export function isTableFormat(format: string | undefined): boolean {
  return format === undefined || format.trim() === '' || format.trim().startsWith('table');
}

export const TASK_TABLE = {
  defaultTable: 'table {{.ID}}\t{{.Name}}\t{{.Image}}\t{{.Node}}\t{{.DesiredState}}\t{{.CurrentState}}\t{{.Error}}\t{{.Ports}}',
  headers: {
    ID: 'ID',
    Name: 'NAME',
    Image: 'IMAGE',
    Node: 'NODE',
    DesiredState: 'DESIRED STATE',
    CurrentState: 'CURRENT STATE',
    Error: 'ERROR',
    Ports: 'PORTS',
  },
};

/** Docker's formatter.Ellipsis: at most `max` characters, the last one "…" when cut. */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  return `${chars.slice(0, max - 1).join('')}…`;
}

const MAX_ERR_LENGTH = 30;

/** A task's name: `svc.slot`, or `svc.nodeid` for a global service's task. */
export const taskName = (serviceName: string, t: Pick<Task, 'Slot' | 'NodeID'>): string =>
  t.Slot ? `${serviceName}.${t.Slot}` : `${serviceName}.${t.NodeID ?? ''}`;

/** Natural order ("web.2" before "web.10"), as Docker's sortorder.NaturalLess. */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

export interface TaskContext {
  /** Service ID → name. */
  services: ReadonlyMap<string, string>;
  /** Node ID → hostname. */
  nodes: ReadonlyMap<string, string>;
  now: number;
  trunc: boolean;
  /** Table output indents earlier tasks of a slot (` \_ web.1`); other formats do not. */
  table: boolean;
}

/**
 * `service ps` rows: grouped by task name (naturally sorted), the newest of each slot first and the
 * older ones below it indented, as Docker's task printer does.
 */
export function taskRows(tasks: readonly Task[], ctx: TaskContext): TaskRow[] {
  const named = tasks.map((t) => ({ t, name: taskName(ctx.services.get(t.ServiceID) ?? t.ServiceID, t) }));
  named.sort((a, b) => (a.name !== b.name ? naturalCompare(a.name, b.name) : Date.parse(b.t.CreatedAt) - Date.parse(a.t.CreatedAt)));
  let prev = '';
  return named.map(({ t, name }) => {
    const shown = name === prev && ctx.table ? ` \\_ ${name}` : name;
    prev = name;
    let err = t.Status.Err ?? '';
    if (ctx.trunc) err = ellipsis(err, MAX_ERR_LENGTH);
    return {
      ID: ctx.trunc ? truncId(t.ID) : t.ID,
      Name: shown,
      Image: ctx.trunc ? displayImage(t.Spec.ContainerSpec.Image) : t.Spec.ContainerSpec.Image,
      Node: t.NodeID ? (ctx.nodes.get(t.NodeID) ?? t.NodeID) : '',
      DesiredState: pretty(t.DesiredState),
      CurrentState: `${pretty(t.Status.State)} ${humanDuration(ctx.now - Date.parse(t.Status.Timestamp)).toLowerCase()} ago`,
      Error: err ? `"${err}"` : '',
      Ports: (t.Status.PortStatus?.Ports ?? []).map((p) => `*:${p.PublishedPort ?? 0}->${p.TargetPort}/${p.Protocol}`).join(','),
    };
  });
}

// ---- service inspect --pretty ---------------------------------------------------------------------

/** Go's %g for the CPU counts Docker prints (0.5, 1, 1.25). */
const cpus = (nano: number): string => String(nano / 1e9);

/** Docker's `service inspect --pretty` text (tabs as Docker's template has them, not aligned). */
export function prettyService(s: Service, networkNames: ReadonlyMap<string, string> = new Map(), now: number = Date.now()): string {
  const spec = s.Spec;
  const tt = spec.TaskTemplate;
  const cs = tt.ContainerSpec;
  const L: string[] = ['', `ID:\t\t${s.ID}`, `Name:\t\t${spec.Name ?? ''}`];
  const labels = Object.entries(spec.Labels ?? {});
  if (labels.length) L.push('Labels:', ...labels.map(([k, v]) => ` ${k}${v ? `=${v}` : ''}`));
  if (spec.Mode?.Global) L.push('Service Mode:\tGlobal');
  else if (spec.Mode?.ReplicatedJob)
    L.push(
      'Service Mode:\tReplicated Job',
      ` Max Concurrent:\t${spec.Mode.ReplicatedJob.MaxConcurrent ?? 1}`,
      ` Total Completions:\t${spec.Mode.ReplicatedJob.TotalCompletions ?? 1}`,
    );
  else if (spec.Mode?.GlobalJob) L.push('Service Mode:\tGlobal Job');
  else {
    L.push('Service Mode:\tReplicated');
    if (spec.Mode?.Replicated?.Replicas !== undefined) L.push(` Replicas:\t${spec.Mode.Replicated.Replicas}`);
  }
  const us = s.UpdateStatus;
  if (us) {
    L.push('UpdateStatus:', ` State:\t\t${us.State}`);
    if (us.StartedAt) L.push(` Started:\t${humanDuration(now - Date.parse(us.StartedAt))} ago`);
    if (us.CompletedAt && (us.State === 'completed' || us.State === 'rollback_completed'))
      L.push(` Completed:\t${humanDuration(now - Date.parse(us.CompletedAt))} ago`);
    L.push(` Message:\t${us.Message}`);
  }
  L.push('Placement:');
  const pl = tt.Placement;
  if (pl?.Constraints?.length) L.push(` Constraints:\t[${pl.Constraints.join(' ')}]`);
  if (pl?.Preferences?.length) L.push(` Preferences:   [${pl.Preferences.map((x) => `spread=${x.Spread.SpreadDescriptor}`).join(' ')}]`);
  if (pl?.MaxReplicas) L.push(` Max Replicas Per Node:   ${pl.MaxReplicas}`);
  for (const [title, uc, word] of [
    ['UpdateConfig', spec.UpdateConfig, 'Update'],
    ['RollbackConfig', spec.RollbackConfig, 'Rollback'],
  ] as const) {
    if (!uc) continue;
    L.push(`${title}:`, ` Parallelism:\t${uc.Parallelism ?? 0}`);
    if (uc.Delay) L.push(` Delay:\t\t${formatDuration(uc.Delay)}`);
    L.push(` On failure:\t${uc.FailureAction ?? ''}`);
    if (uc.Monitor) L.push(` Monitoring Period: ${formatDuration(uc.Monitor)}`);
    L.push(` Max failure ratio: ${uc.MaxFailureRatio ?? 0}`, ` ${word} order:${word === 'Update' ? '      ' : '    '}${uc.Order ?? ''}`);
  }
  L.push('ContainerSpec:', ` Image:\t\t${cs.Image}`);
  if (cs.Args?.length) L.push(` Args:\t\t${cs.Args.map((a) => `${a} `).join('')}`);
  if (cs.Env?.length) L.push(` Env:\t\t${cs.Env.map((e) => `${e} `).join('')}`);
  if (cs.Dir) L.push(` Dir:\t\t${cs.Dir}`);
  if (cs.Init !== undefined && cs.Init !== null) L.push(` Init:\t\t${cs.Init}`);
  if (cs.User) L.push(` User: ${cs.User}`);
  if (cs.Mounts?.length) {
    L.push('Mounts:');
    for (const m of cs.Mounts) L.push(` Target:\t${m.Target}`, `  Source:\t${m.Source ?? ''}`, `  ReadOnly:\t${m.ReadOnly === true}`, `  Type:\t\t${m.Type}`);
  }
  if (cs.Configs?.length) {
    L.push('Configs:');
    for (const c of cs.Configs) L.push(` Target:\t${c.File?.Name ?? ''}`, `  Source:\t${c.ConfigName}`);
  }
  if (cs.Secrets?.length) {
    L.push('Secrets:');
    for (const x of cs.Secrets) L.push(` Target:\t${x.File.Name}`, `  Source:\t${x.SecretName}`);
  }
  const lim = tt.Resources?.Limits;
  const res = tt.Resources?.Reservations;
  const hasRes = !!(res?.NanoCPUs || res?.MemoryBytes);
  const hasLim = !!(lim?.NanoCPUs || lim?.MemoryBytes);
  if (hasRes || hasLim) {
    L.push('Resources:');
    if (hasRes) {
      L.push(' Reservations:');
      if (res?.NanoCPUs) L.push(`  CPU:\t\t${cpus(res.NanoCPUs)}`);
      if (res?.MemoryBytes) L.push(`  Memory:\t${bytesSize(res.MemoryBytes)}`);
    }
    if (hasLim) {
      L.push(' Limits:');
      if (lim?.NanoCPUs) L.push(`  CPU:\t\t${cpus(lim.NanoCPUs)}`);
      if (lim?.MemoryBytes) L.push(`  Memory:\t${bytesSize(lim.MemoryBytes)}`);
    }
  }
  if (lim?.Pids) L.push(`  PIDs:\t\t${lim.Pids}`);
  const nets = tt.Networks ?? spec.Networks ?? [];
  if (nets.length) L.push(`Networks:${nets.map((n) => ` ${networkNames.get(n.Target) ?? n.Target}`).join('')} `);
  L.push(`Endpoint Mode:\t${spec.EndpointSpec?.Mode ?? 'vip'}`);
  const ports = spec.EndpointSpec?.Ports ?? [];
  if (ports.length) {
    L.push('Ports:');
    for (const p of ports)
      L.push(` PublishedPort = ${p.PublishedPort ?? 0}`, `  Protocol = ${p.Protocol}`, `  TargetPort = ${p.TargetPort}`, `  PublishMode = ${p.PublishMode}`);
  }
  const hc = cs.HealthCheck;
  if (hc) {
    L.push(
      ' Healthcheck:',
      `  Interval = ${formatDuration(hc.Interval ?? 0)}`,
      `  Retries = ${hc.Retries ?? 0}`,
      `  StartPeriod =\t${formatDuration(hc.StartPeriod ?? 0)}`,
      `  Timeout =\t${formatDuration(hc.Timeout ?? 0)}`,
    );
    if (hc.Test?.length) L.push('  Tests:', ...hc.Test.map((t) => `\t Test = ${t}`));
  }
  return `${L.join('\n')}\n`;
}

// ---- service logs -----------------------------------------------------------------------------------

/**
 * A line as the daemon sends it for `details=true`: `[TIMESTAMP ]k=v,k=v MESSAGE`. The details are
 * url-query-escaped (Docker's logdetails).
 */
export interface LogLine {
  timestamp?: string;
  details: Record<string, string>;
  message: string;
}

export function parseLogLine(line: string, timestamps: boolean): LogLine {
  let rest = line;
  let timestamp: string | undefined;
  if (timestamps) {
    const sp = rest.indexOf(' ');
    timestamp = sp < 0 ? rest : rest.slice(0, sp);
    rest = sp < 0 ? '' : rest.slice(sp + 1);
  }
  const sp = rest.indexOf(' ');
  const detailText = sp < 0 ? rest : rest.slice(0, sp);
  const message = sp < 0 ? '' : rest.slice(sp + 1);
  const details: Record<string, string> = {};
  for (const kv of detailText.split(',')) {
    if (kv === '') continue;
    const eq = kv.indexOf('=');
    const dec = (s: string): string => {
      try {
        return decodeURIComponent(s.replace(/\+/g, ' '));
      } catch {
        return s;
      }
    };
    details[dec(eq < 0 ? kv : kv.slice(0, eq))] = dec(eq < 0 ? '' : kv.slice(eq + 1));
  }
  return { ...(timestamp !== undefined ? { timestamp } : {}), details, message };
}

export interface LogContext {
  services: ReadonlyMap<string, string>;
  nodes: ReadonlyMap<string, string>;
  tasks: ReadonlyMap<string, Pick<Task, 'ID' | 'Slot'>>;
  noTaskIds: boolean;
  noTrunc: boolean;
  /** Digits of the replica count (1 for a task or a global service), so that prefixes line up. */
  slotWidth: number;
  /** `--details`: the line's other details, before the message. */
  details: boolean;
}

const CONTEXT_KEYS = ['com.docker.swarm.node.id', 'com.docker.swarm.service.id', 'com.docker.swarm.task.id'];

/** Docker's prefix: `web.1.abcdef123456@node1    | ` (slot numbers padded to one width; `.0` for a global task). */
export function logPrefix(d: Record<string, string>, ctx: LogContext): string {
  const taskId = d['com.docker.swarm.task.id'] ?? '';
  const nodeId = d['com.docker.swarm.node.id'] ?? '';
  const serviceId = d['com.docker.swarm.service.id'] ?? '';
  const slot = ctx.tasks.get(taskId)?.Slot ?? 0;
  let name = `${ctx.services.get(serviceId) ?? serviceId}.${slot}`;
  if (!ctx.noTaskIds) name += `.${ctx.noTrunc ? taskId : truncId(taskId)}`;
  const pad = ' '.repeat(Math.max(0, ctx.slotWidth - String(slot).length));
  return `${name}@${ctx.nodes.get(nodeId) ?? nodeId}${pad}    | `;
}

/** A log line for the terminal: timestamp, the task's prefix, the other details if asked, the message. */
export function formatLogLine(line: string, ctx: LogContext, timestamps: boolean): string {
  const l = parseLogLine(line, timestamps);
  const rest = Object.entries(l.details)
    .filter(([k]) => !CONTEXT_KEYS.includes(k))
    .map(([k, v]) => `${k}=${v}`)
    .sort();
  const details = ctx.details ? `${rest.join(',')} ` : '';
  return `${l.timestamp !== undefined ? `${l.timestamp} ` : ''}${logPrefix(l.details, ctx)}${details}${l.message}`;
}

/** Lines that lack the swarm context Docker's prefix needs (the daemon sent no details). */
export const hasTaskContext = (line: string, timestamps: boolean): boolean => {
  const d = parseLogLine(line, timestamps).details;
  return CONTEXT_KEYS.every((k) => k in d);
};
