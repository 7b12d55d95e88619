// `tscompose ps`: the project's containers, as compose prints them (table, -q, --format json|template).
// Kept light, as a fresh process pays for every module it loads: the project name without loading the
// project (name.ts), one GET /containers/json over a bare socket (run-client.ts; its answer carries
// state and health, so no per-container inspect), and the formatter only when there is a table or
// template to render. The full loader and node:http come in only when needed (services named on the
// command line, a project the quick path cannot name, no daemon answering).
import { clientHost } from '../../api/daemon.js';
import { LABELS } from '../../compose-spec/names.js';
import { timeAgo } from '../../lib/units.js';
import { ConnectError, plainRequest } from '../run-client.js';
import { parseFlags, UsageError, type GlobalOptions } from './args.js';
import { quickProjectName } from './name.js';
import { nameOf, type ContainerSummary } from './summary.js';
import { mark } from './timing.js';
import { dockerTime } from '../commands/base.js';

const FLAGS = {
  all: { names: ['-a', '--all'], value: false },
  quiet: { names: ['-q', '--quiet'], value: false },
  format: { names: ['--format'], value: true },
  services: { names: ['--services'], value: false },
  status: { names: ['--status'], value: true },
  noTrunc: { names: ['--no-trunc'], value: false },
  orphans: { names: ['--orphans'], value: true },
  help: { names: ['-h', '--help'], value: false },
};

export interface PsRow {
  ID: string;
  Name: string;
  Names: string;
  Image: string;
  Command: string;
  Project: string;
  Service: string;
  Created: number;
  CreatedAt: string;
  CreatedSince: string;
  RunningFor: string;
  State: string;
  Status: string;
  Health: string;
  ExitCode: number;
  Ports: string;
  Publishers: Array<{ URL: string; TargetPort: number; PublishedPort: number; Protocol: string }>;
  Labels: string;
  LocalVolumes: string;
  Mounts: string;
  Networks: string;
  Size: string;
}

/** "0.0.0.0:8080->80/tcp, 9000/tcp", as compose and docker print published ports. */
export function portsText(ports: ContainerSummary['Ports']): string {
  return [...ports]
    .sort((a, b) => a.PrivatePort - b.PrivatePort || (a.PublicPort ?? 0) - (b.PublicPort ?? 0))
    .map((p) => (p.PublicPort ? `${p.IP || '0.0.0.0'}:${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`))
    .join(', ');
}

export function psRow(c: ContainerSummary & { StateDetail?: { Health?: { Status: string }; ExitCode?: number } }, now: number, noTrunc = false): PsRow {
  const created = timeAgo(c.Created * 1000, now);
  const cmd = noTrunc ? c.Command : c.Command.length > 20 ? `${c.Command.slice(0, 19)}…` : c.Command;
  const mounts = (c as { Mounts?: Array<{ Name?: string; Source?: string }> }).Mounts ?? [];
  const nets = Object.keys((c as { NetworkSettings?: { Networks?: Record<string, unknown> } }).NetworkSettings?.Networks ?? {});
  return {
    ID: c.Id,
    Name: nameOf(c),
    Names: nameOf(c),
    Image: c.Image,
    // Quoted as Go's strconv.Quote does it (docker compose's formatter).
    Command: JSON.stringify(cmd),
    Project: c.Labels[LABELS.project] ?? '',
    Service: c.Labels[LABELS.service] ?? '',
    Created: c.Created,
    CreatedAt: dockerTime(c.Created),
    CreatedSince: created,
    RunningFor: created,
    State: c.State,
    Status: c.Status,
    Health: c.StateDetail?.Health?.Status ?? '',
    ExitCode: c.StateDetail?.ExitCode ?? 0,
    Ports: portsText(c.Ports),
    Publishers: c.Ports.map((p) => ({ URL: p.IP ?? '', TargetPort: p.PrivatePort, PublishedPort: p.PublicPort ?? 0, Protocol: p.Type })),
    Labels: Object.entries(c.Labels).map(([k, v]) => `${k}=${v}`).join(','),
    LocalVolumes: String(mounts.filter((m) => m.Name).length),
    Mounts: mounts.map((m) => m.Name || m.Source || '').join(','),
    Networks: nets.join(','),
    Size: '0B',
  };
}

export async function psCommand(global: GlobalOptions, argv: string[]): Promise<number> {
  const { parsed } = parseFlags(argv, FLAGS, false);
  if (parsed.values.has('help')) {
    process.stdout.write('Usage: tscompose ps [OPTIONS] [SERVICE...]\n\nList containers\n\n  -a, --all  -q, --quiet  --format table|json|TEMPLATE  --services  --status STATUS  --no-trunc\n');
    return 0;
  }
  const statuses = parsed.values.get('status') ?? [];
  const valid = ['paused', 'restarting', 'removing', 'running', 'dead', 'created', 'exited'];
  for (const s of statuses) if (!valid.includes(s)) throw new UsageError(`invalid --status "${s}": expected one of ${valid.join(', ')}`);
  const all = parsed.values.has('all') || statuses.length > 0;
  let name: string;
  const quick = parsed.positional.length === 0 ? quickProjectName(global) : undefined;
  if (quick) {
    for (const w of quick.warnings) process.stderr.write(`WARN ${w}\n`);
    name = quick.name;
  } else {
    const { checkServices, loadForCommand } = await import('./project.js');
    const { project } = loadForCommand(global);
    checkServices(project, parsed.positional);
    name = project.name;
  }
  mark('projectName');
  const list = (await listContainers(name, all))
    .filter((c) => c.Labels[LABELS.oneoff] !== 'True' || all)
    .filter((c) => parsed.positional.length === 0 || parsed.positional.includes(c.Labels[LABELS.service] ?? ''))
    .filter((c) => statuses.length === 0 || statuses.includes(c.State))
    .sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
  if (parsed.values.has('services')) {
    const names = [...new Set(list.map((c) => c.Labels[LABELS.service] ?? ''))].sort();
    process.stdout.write(names.map((n) => `${n}\n`).join(''));
    return 0;
  }
  if (parsed.values.has('quiet')) {
    process.stdout.write(list.map((c) => `${c.Id}\n`).join(''));
    return 0;
  }
  mark('list');
  const now = Date.now();
  const format = parsed.values.get('format')?.at(-1);
  // docker compose's JSON carries the whole command; only the table shortens it.
  const rows = list.map((c) => psRow(c, now, parsed.values.has('noTrunc') || format === 'json'));
  const { formatList } = await import('../../lib/format/index.js');
  process.stdout.write(
    formatList(format, rows, {
      defaultTable: 'table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.CreatedSince}}\t{{.Status}}\t{{.Ports}}',
      headers: { Name: 'NAME', CreatedSince: 'CREATED' },
    }),
  );
  mark('format');
  return 0;
}

/** The project's containers: one call, over a bare socket unless a daemon has to be started first. */
async function listContainers(project: string, all: boolean): Promise<ContainerSummary[]> {
  const query = { all: all ? 1 : 0, filters: JSON.stringify({ label: [`${LABELS.project}=${project}`] }) };
  const host = clientHost();
  let reply;
  try {
    reply = await plainRequest(host, 'GET', `/v1.41/containers/json?${new URLSearchParams({ all: String(query.all), filters: query.filters })}`);
  } catch (e) {
    if (!(e instanceof ConnectError)) throw e;
    // No daemon: the shared client starts one when it may (or explains why not), as before.
    const { Client } = await import('../client.js');
    return new Client(host).call<ContainerSummary[]>('/containers/json', { query });
  }
  const text = reply.body.toString('utf8');
  if (reply.status >= 400) {
    let message = text;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {
      // Not JSON: the text is the message.
    }
    const { DaemonError } = await import('../client.js');
    throw new DaemonError(reply.status, message);
  }
  return JSON.parse(text) as ContainerSummary[];
}
