// `tsswarm service …`: create, update, rollback, scale, rm, ls, ps, inspect, logs, with Docker's
// flags, texts and exit codes. The flag → spec translation, the tables and the converge view are pure
// modules under cli/service/; this file does the requests and the terminal.
import { FlagError, type Parsed } from '../../lib/flags.js';
import { formatInspect, formatList } from '../../lib/format/index.js';
import { parseDuration } from '../../lib/units.js';
import type { Config, Secret, Service, ServiceSpec, Task } from '../../api/swarm.js';
import { defaultRunFlagsIo } from '../run-flags.js';
import {
  addedNetworks,
  applyUpdate,
  buildCreateSpec,
  checkRollbackFlags,
  parseScaleArg,
  CREATE_FLAGS,
  referencedKinds,
  UPDATE_FLAGS,
  type References,
} from '../service/flags.js';
import { formatLogLine, hasTaskContext, isTableFormat, prettyService, serviceRows, SERVICE_TABLE, taskRows, TASK_TABLE, type LogContext } from '../service/format.js';
import { ConvergeTracker } from '../service/progress.js';
import { DaemonError, type Client } from '../client.js';
import { ExitError, bool, body, client, demux, enc, filtersParam, group, list, needArgs, parse, parseFilters, str, writeIfOpen } from './common.js';

interface NodeView {
  ID: string;
  Description?: { Hostname?: string };
  Status?: { State?: string };
}

interface NetworkView {
  Id: string;
  Name: string;
  Scope?: string;
}

const POLL_MS = 200;

// ---- shared ---------------------------------------------------------------------------------------

/** The secrets and configs the flags name, listed only when some are named. */
async function references(c: Client, p: Parsed): Promise<References> {
  const want = referencedKinds(p);
  const [secrets, configs] = await Promise.all([want.secrets ? c.call<Secret[]>('/secrets') : [], want.configs ? c.call<Config[]>('/configs') : []]);
  return { secrets, configs };
}

/**
 * Network names become IDs, as Docker's CLI sends them; only swarm-scoped networks can carry a
 * service. `only` limits the lookup to the targets just added (update keeps the ones it had).
 */
async function resolveNetworks(c: Client, spec: ServiceSpec, only?: ReadonlySet<string>): Promise<void> {
  for (const n of spec.TaskTemplate.Networks ?? []) {
    if (only && !only.has(n.Target)) continue;
    const net = await c.call<NetworkView>(`/networks/${enc(n.Target)}`);
    if (net.Scope !== undefined && net.Scope !== 'swarm') {
      throw new FlagError(
        `The network ${n.Target} cannot be used with services. Only networks scoped to the swarm can be used, such as those created with the overlay driver.`,
      );
    }
    n.Target = net.Id;
  }
}

async function authHeaders(p: Parsed, image: string): Promise<Record<string, string>> {
  if (!bool(p, 'with-registry-auth')) return {};
  const { registryAuthHeader } = await import('./login.js');
  return registryAuthHeader(image);
}

const warn = (r: { Warnings?: string[] | null } | undefined): void => {
  for (const w of r?.Warnings ?? []) process.stderr.write(`${w}\n`);
};

async function activeNodes(c: Client): Promise<Set<string>> {
  const nodes = await c.call<NodeView[]>('/nodes');
  return new Set(nodes.filter((n) => n.Status?.State !== 'down').map((n) => n.ID));
}

/**
 * Waits until the service converges, showing Docker's progress view: redrawn in place on a terminal,
 * only its final state otherwise; nothing with -q. Fails with the daemon's message when the update
 * pauses or is rolled back.
 */
async function waitOnService(c: Client, ref: string, quiet: boolean, expectRollback = false): Promise<void> {
  const tracker = new ConvergeTracker(expectRollback);
  const out = process.stdout;
  const tty = out.isTTY === true;
  // Docker leaves the bars out on terminals too narrow for them.
  const bars = !tty || (out.columns ?? 0) > 110;
  let drawn = 0;
  let last: string[] = [];
  const draw = (final: boolean): void => {
    if (quiet || (!tty && !final)) return;
    const lines = tracker.view.lines(bars);
    if (tty && lines.length === last.length && lines.every((l, i) => l === last[i])) return;
    last = lines;
    let text = tty && drawn ? `\x1b[${drawn}A` : '';
    text += lines.map((l) => (tty ? `\x1b[2K${l}\n` : `${l}\n`)).join('');
    writeIfOpen(out, text);
    drawn = lines.length;
  };
  let interrupted = false;
  const onInt = (): void => {
    interrupted = true;
  };
  process.once('SIGINT', onInt);
  try {
    for (;;) {
      const svc = await c.call<Service>(`/services/${enc(ref)}`);
      const [tasks, nodes] = await Promise.all([c.call<Task[]>('/tasks', { query: { filters: JSON.stringify({ service: [svc.ID] }) } }), activeNodes(c)]);
      const r = tracker.step(svc, tasks, nodes, Date.now());
      if (r.state !== 'waiting') {
        draw(true);
        if (r.state === 'failed') throw new ExitError(r.message, 1);
        return;
      }
      draw(false);
      await new Promise((res) => setTimeout(res, POLL_MS));
      if (interrupted) {
        draw(true);
        if (!quiet) out.write(`Operation continuing in background.\nUse \`tsswarm service ps ${ref}\` to check progress.\n`);
        return;
      }
    }
  } finally {
    process.removeListener('SIGINT', onInt);
  }
}

// ---- create / update / rollback / scale / rm --------------------------------------------------------

export async function create(argv: string[]): Promise<number> {
  const usage = 'tsswarm service create [OPTIONS] IMAGE [COMMAND] [ARG...]';
  const p = parse(argv, usage, CREATE_FLAGS, { stopAtPositional: true });
  if (!p) return 0;
  const c = client();
  const spec = buildCreateSpec(p, defaultRunFlagsIo(), await references(c, p));
  await resolveNetworks(c, spec);
  const headers = await authHeaders(p, spec.TaskTemplate.ContainerSpec.Image);
  const r = await c.call<{ ID: string; Warnings?: string[] | null }>('/services/create', { method: 'POST', body: spec, headers });
  warn(r);
  process.stdout.write(`${r.ID}\n`);
  if (!bool(p, 'detach')) await waitOnService(c, r.ID, bool(p, 'quiet'));
  return 0;
}

export async function update(argv: string[]): Promise<number> {
  const usage = 'tsswarm service update [OPTIONS] SERVICE';
  const p = parse(argv, usage, UPDATE_FLAGS);
  if (!p) return 0;
  needArgs(p, 1, 'service update', usage);
  if (p.args.length > 1) throw new FlagError(`"tsswarm service update" requires exactly 1 argument.\nSee 'tsswarm service update --help'.\n\nUsage:  ${usage}`);
  checkRollbackFlags(p);
  const ref = p.args[0]!;
  const c = client();
  const svc = await c.call<Service>(`/services/${enc(ref)}`);
  const rollback = bool(p, 'rollback');
  const spec = applyUpdate(svc.Spec, p, defaultRunFlagsIo(), await references(c, p));
  await resolveNetworks(c, spec, addedNetworks(p));
  const headers = await authHeaders(p, spec.TaskTemplate.ContainerSpec.Image);
  const r = await c.call<{ Warnings?: string[] | null }>(`/services/${enc(svc.ID)}/update`, {
    method: 'POST',
    query: { version: svc.Version.Index, rollback: rollback ? 'previous' : undefined },
    body: spec,
    headers,
  });
  warn(r);
  process.stdout.write(`${ref}\n`);
  if (!bool(p, 'detach')) await waitOnService(c, svc.ID, bool(p, 'quiet'), rollback);
  return 0;
}

export async function rollback(argv: string[]): Promise<number> {
  const usage = 'tsswarm service rollback [OPTIONS] SERVICE';
  const p = parse(argv, usage, [
    { name: 'detach', short: 'd', type: 'bool', description: 'Exit immediately instead of waiting for the service to converge' },
    { name: 'quiet', short: 'q', type: 'bool', description: 'Suppress progress output' },
  ]);
  if (!p) return 0;
  needArgs(p, 1, 'service rollback', usage);
  const ref = p.args[0]!;
  const c = client();
  const svc = await c.call<Service>(`/services/${enc(ref)}`);
  const r = await c.call<{ Warnings?: string[] | null }>(`/services/${enc(svc.ID)}/update`, {
    method: 'POST',
    query: { version: svc.Version.Index, rollback: 'previous' },
    body: svc.Spec,
  });
  warn(r);
  process.stdout.write(`${ref}\n`);
  if (!bool(p, 'detach')) await waitOnService(c, svc.ID, bool(p, 'quiet'), true);
  return 0;
}

export async function scale(argv: string[]): Promise<number> {
  const usage = 'tsswarm service scale SERVICE=REPLICAS [SERVICE=REPLICAS...]';
  const p = parse(argv, usage, [{ name: 'detach', short: 'd', type: 'bool', description: 'Exit immediately instead of waiting for the service to converge' }]);
  if (!p) return 0;
  needArgs(p, 1, 'service scale', usage);
  const wanted = p.args.map(parseScaleArg);
  const c = client();
  const scaled: string[] = [];
  const errors: string[] = [];
  for (const { name, replicas } of wanted) {
    try {
      const svc = await c.call<Service>(`/services/${enc(name)}`);
      const spec = structuredClone(svc.Spec);
      if (spec.Mode?.Replicated) spec.Mode = { Replicated: { Replicas: replicas } };
      else if (spec.Mode?.ReplicatedJob) spec.Mode = { ReplicatedJob: { ...spec.Mode.ReplicatedJob, TotalCompletions: replicas } };
      else if (!spec.Mode) spec.Mode = { Replicated: { Replicas: replicas } };
      else throw new FlagError('scale can only be used with replicated or replicated-job mode');
      warn(
        await c.call<{ Warnings?: string[] | null }>(`/services/${enc(svc.ID)}/update`, { method: 'POST', query: { version: svc.Version.Index }, body: spec }),
      );
      process.stdout.write(`${name} scaled to ${replicas}\n`);
      scaled.push(svc.ID);
    } catch (e) {
      errors.push(`${(e as Error).name === 'DaemonError' ? 'Error response from daemon: ' : ''}${(e as Error).message}`);
    }
  }
  if (!bool(p, 'detach')) {
    for (const id of scaled) {
      try {
        await waitOnService(c, id, false);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
  }
  if (errors.length) {
    process.stderr.write(`${errors.join('\n')}\n`);
    return 1;
  }
  return 0;
}

export async function rm(argv: string[]): Promise<number> {
  const usage = 'tsswarm service rm SERVICE [SERVICE...]';
  const p = parse(argv, usage, []);
  if (!p) return 0;
  needArgs(p, 1, 'service rm', usage);
  const c = client();
  const errors: string[] = [];
  for (const a of p.args) {
    try {
      await c.call(`/services/${enc(a)}`, { method: 'DELETE' });
      process.stdout.write(`${a}\n`);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (errors.length) {
    process.stderr.write(`Error response from daemon: ${errors.join('\n')}\n`);
    return 1;
  }
  return 0;
}

// ---- ls / ps / inspect / logs -----------------------------------------------------------------------

export async function ls(argv: string[]): Promise<number> {
  const p = parse(argv, 'tsswarm service ls [OPTIONS]', [
    { name: 'quiet', short: 'q', type: 'bool', description: 'Only display IDs' },
    { name: 'format', type: 'string', description: 'Format output using a custom template' },
    { name: 'filter', short: 'f', type: 'list', description: 'Filter output based on conditions provided' },
  ]);
  if (!p) return 0;
  if (p.args.length)
    throw new FlagError(`"tsswarm service ls" accepts no arguments.\nSee 'tsswarm service ls --help'.\n\nUsage:  tsswarm service ls [OPTIONS]`);
  const services = await client().call<Service[]>('/services', {
    query: { filters: filtersParam(parseFilters(list(p, 'filter'))), status: bool(p, 'quiet') ? undefined : 'true' },
  });
  const format = bool(p, 'quiet') ? '{{.ID}}' : str(p, 'format');
  process.stdout.write(formatList(format, serviceRows(services), SERVICE_TABLE));
  return 0;
}

async function nodeNames(c: Client): Promise<Map<string, string>> {
  const nodes = await c.call<NodeView[]>('/nodes');
  return new Map(nodes.map((n) => [n.ID, n.Description?.Hostname ?? n.ID]));
}

export async function ps(argv: string[]): Promise<number> {
  const usage = 'tsswarm service ps [OPTIONS] SERVICE [SERVICE...]';
  const p = parse(argv, usage, [
    { name: 'quiet', short: 'q', type: 'bool', description: 'Only display task IDs' },
    { name: 'no-trunc', type: 'bool', description: 'Do not truncate output' },
    { name: 'no-resolve', type: 'bool', description: 'Do not map IDs to Names' },
    { name: 'format', type: 'string', description: 'Pretty-print tasks using a Go template' },
    { name: 'filter', short: 'f', type: 'list', description: 'Filter output based on conditions provided' },
  ]);
  if (!p) return 0;
  needArgs(p, 1, 'service ps', usage);
  const c = client();
  const services = new Map<string, string>();
  const missing: string[] = [];
  for (const a of p.args) {
    try {
      const s = await c.call<Service>(`/services/${enc(a)}`);
      services.set(s.ID, s.Spec.Name ?? s.ID);
    } catch (e) {
      if (!(e instanceof DaemonError) || e.status !== 404) throw e;
      missing.push(a);
    }
  }
  if (missing.length) throw new DaemonError(404, missing.map((m) => `no such service: ${m}`).join('\n'));
  const filters = parseFilters(list(p, 'filter'));
  const nodes = bool(p, 'no-resolve') ? new Map<string, string>() : await nodeNames(c);
  if (filters.node) {
    // Docker takes node names (and "self") in the filter; the API wants IDs.
    const self = filters.node.includes('self') ? (await c.call<{ Swarm?: { NodeID?: string } }>('/info')).Swarm?.NodeID : undefined;
    const byName = new Map([...(nodes.size ? nodes : await nodeNames(c))].map(([id, host]) => [host, id]));
    filters.node = filters.node.map((n) => (n === 'self' ? (self ?? n) : (byName.get(n) ?? n)));
  }
  filters.service = [...services.keys()];
  const tasks = await c.call<Task[]>('/tasks', { query: { filters: JSON.stringify(filters) } });
  const format = bool(p, 'quiet') ? '{{.ID}}' : str(p, 'format');
  const table = isTableFormat(format);
  const rows = taskRows(tasks, { services: bool(p, 'no-resolve') ? new Map() : services, nodes, now: Date.now(), trunc: !bool(p, 'no-trunc'), table });
  process.stdout.write(formatList(format, rows, TASK_TABLE));
  return 0;
}

export async function inspect(argv: string[]): Promise<number> {
  const usage = 'tsswarm service inspect [OPTIONS] SERVICE [SERVICE...]';
  const p = parse(argv, usage, [
    { name: 'format', short: 'f', type: 'string', description: 'Format output using a custom template' },
    { name: 'pretty', type: 'bool', description: 'Print the information in a human friendly format' },
  ]);
  if (!p) return 0;
  needArgs(p, 1, 'service inspect', usage);
  if (bool(p, 'pretty') && str(p, 'format')) throw new FlagError('--format is incompatible with human friendly format');
  const c = client();
  const found: Service[] = [];
  const errors: string[] = [];
  for (const a of p.args) {
    try {
      found.push(await c.call<Service>(`/services/${enc(a)}`));
    } catch (e) {
      if (!(e instanceof DaemonError) || e.status !== 404) throw e;
      errors.push(`no such service: ${a}`);
    }
  }
  if (bool(p, 'pretty')) {
    const names = new Map<string, string>();
    for (const s of found) {
      for (const n of s.Spec.TaskTemplate.Networks ?? s.Spec.Networks ?? []) {
        if (names.has(n.Target)) continue;
        try {
          names.set(n.Target, (await c.call<NetworkView>(`/networks/${enc(n.Target)}`)).Name);
        } catch {
          // A network removed since: show its ID, as Docker does.
        }
      }
    }
    process.stdout.write(found.map((s) => prettyService(s, names)).join('\n'));
  } else {
    process.stdout.write(formatInspect(str(p, 'format'), found));
  }
  if (errors.length) {
    process.stderr.write(`Error: ${errors.join('\n')}\n`);
    return 1;
  }
  return 0;
}

/** --since: a duration ago (`10m`), unix seconds, or an RFC 3339 time → unix seconds. */
function sinceArg(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isFinite(t)) return t / 1000;
  try {
    return (Date.now() - parseDuration(v) / 1e6) / 1000;
  } catch {
    throw new FlagError(`invalid argument "${v}" for "--since" flag: expected a duration (10m), unix seconds or an RFC 3339 time`);
  }
}

/** Splits a stream into lines; the rest of a line waits for the next chunk. */
function lineWriter(onLine: (line: string) => void): { write(b: Buffer): void; end(): void } {
  let rest = '';
  return {
    write(b) {
      const text = rest + b.toString('utf8');
      const parts = text.split('\n');
      rest = parts.pop()!;
      for (const l of parts) onLine(l);
    },
    end() {
      if (rest !== '') onLine(rest);
      rest = '';
    },
  };
}

export async function logs(argv: string[]): Promise<number> {
  const usage = 'tsswarm service logs [OPTIONS] SERVICE|TASK';
  const p = parse(argv, usage, [
    { name: 'follow', short: 'f', type: 'bool', description: 'Follow log output' },
    { name: 'tail', short: 'n', type: 'string', description: 'Number of lines to show from the end of the logs (default "all")' },
    { name: 'timestamps', short: 't', type: 'bool', description: 'Show timestamps' },
    { name: 'since', type: 'string', description: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
    { name: 'details', type: 'bool', description: 'Show extra details provided to logs' },
    { name: 'no-task-ids', type: 'bool', description: 'Do not include task IDs in output' },
    { name: 'no-trunc', type: 'bool', description: 'Do not truncate output' },
    { name: 'no-resolve', type: 'bool', description: 'Do not map IDs to Names in output' },
    { name: 'raw', type: 'bool', description: 'Do not neatly format logs' },
  ]);
  if (!p) return 0;
  needArgs(p, 1, 'service logs', usage);
  const target = p.args[0]!;
  const tail = str(p, 'tail');
  if (tail !== undefined && tail !== 'all' && !/^\d+$/.test(tail))
    throw new FlagError(`invalid argument "${tail}" for "-n, --tail" flag: expected a number or "all"`);
  const c = client();
  const raw = bool(p, 'raw');
  const timestamps = bool(p, 'timestamps');

  // A service first, else a task, as Docker looks them up.
  let path: string;
  let tty: boolean;
  let slotWidth = 1;
  let serviceIds: string[];
  try {
    const s = await c.call<Service>(`/services/${enc(target)}`);
    path = `/services/${enc(s.ID)}/logs`;
    tty = s.Spec.TaskTemplate.ContainerSpec.TTY === true;
    if (s.Spec.Mode?.Replicated?.Replicas !== undefined) slotWidth = String(s.Spec.Mode.Replicated.Replicas).length;
    serviceIds = [s.ID];
  } catch (e) {
    if (!(e instanceof DaemonError) || e.status !== 404) throw e;
    let t: Task;
    try {
      t = await c.call<Task>(`/tasks/${enc(target)}`);
    } catch (e2) {
      if (e2 instanceof DaemonError && e2.status === 404) throw new DaemonError(404, `no such task or service: ${target}`);
      throw e2;
    }
    path = `/tasks/${enc(t.ID)}/logs`;
    tty = t.Spec.ContainerSpec.TTY === true;
    slotWidth = String(t.Slot ?? 0).length;
    serviceIds = [t.ServiceID];
  }
  if (tty && !raw) throw new FlagError('tty service logs only supported with --raw');

  const res = await c.raw(path, {
    query: {
      stdout: 1,
      stderr: 1,
      follow: bool(p, 'follow') ? 1 : undefined,
      timestamps: timestamps ? 1 : undefined,
      tail,
      since: sinceArg(str(p, 'since')),
      details: bool(p, 'details') || !raw ? 1 : undefined,
    },
  });
  if ((res.statusCode ?? 0) >= 400) await body(res);
  if (tty) {
    for await (const chunk of res) writeIfOpen(process.stdout, chunk as Buffer);
    return 0;
  }

  if (raw) {
    await demux(res);
    return 0;
  }
  const noResolve = bool(p, 'no-resolve');
  const ctx: LogContext & { tasks: Map<string, Task> } = {
    services: new Map(),
    nodes: noResolve ? new Map() : await nodeNames(c),
    tasks: new Map(),
    noTaskIds: bool(p, 'no-task-ids'),
    noTrunc: bool(p, 'no-trunc'),
    slotWidth,
    details: bool(p, 'details'),
  };
  if (!noResolve) {
    for (const id of serviceIds) {
      const s = await c.call<Service>(`/services/${enc(id)}`);
      (ctx.services as Map<string, string>).set(s.ID, s.Spec.Name ?? s.ID);
    }
  }
  // Task slots come from the task list, read again when a line names a task not seen yet (a new one).
  const refreshTasks = async (): Promise<void> => {
    const tasks = await c.call<Task[]>('/tasks', { query: { filters: JSON.stringify({ service: serviceIds }) } });
    for (const t of tasks) ctx.tasks.set(t.ID, t);
  };
  await refreshTasks();

  const emitter = (out: NodeJS.WritableStream): ReturnType<typeof lineWriter> =>
    lineWriter((line) => {
      // A line without the swarm details (an older daemon) is shown as it came.
      if (!hasTaskContext(line, timestamps)) return writeIfOpen(out, `${line}\n`);
      writeIfOpen(out, `${formatLogLine(line, ctx, timestamps)}\n`);
    });
  const outs = [emitter(process.stdout), emitter(process.stderr)] as const;
  /** Tasks already looked for once: a task gone from the list is not asked for on every line. */
  const looked = new Set<string>();
  let buf: Buffer = Buffer.alloc(0);
  for await (const chunk of res) {
    buf = buf.length ? Buffer.concat([buf, chunk as Buffer]) : (chunk as Buffer);
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      const payload = buf.subarray(8, 8 + size);
      {
        const m = /com\.docker\.swarm\.task\.id=([^, ]+)/.exec(payload.toString('utf8'));
        const id = m ? decodeURIComponent(m[1]!) : undefined;
        if (id !== undefined && !ctx.tasks.has(id) && !looked.has(id)) {
          looked.add(id);
          await refreshTasks();
        }
      }
      outs[buf[0] === 2 ? 1 : 0].write(payload);
      buf = buf.subarray(8 + size);
    }
  }
  for (const o of outs) o.end();
  return 0;
}

export const service = group('service', { create, update, rollback, scale, rm, remove: rm, ls, list: ls, ps, inspect, logs });
export default service;
