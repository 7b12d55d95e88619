// Container commands: ps, start, stop, restart, kill, rm, wait, logs, inspect, exec, attach, top,
// stats, pause, unpause, rename, port.
import { DaemonError } from '../client.js';
import { FlagError } from '../../lib/flags.js';
import { formatInspect, formatList, tabwrite } from '../../lib/format/index.js';
import { timeAgo, humanSizeWithPrecision, bytesSize, parseDuration } from '../../lib/units.js';
import { ExitError, body, bool, client, demux, eachArg, eachArgConcurrently, enc, list, needArgs, parse, str } from './common.js';
import type { Client } from '../client.js';
import type { Hijacked } from '../interactive.js';

const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** Docker's --detach-keys syntax, as the daemon reads it (api/detach-keys.ts). */
async function detachKeyBytes(spec: string): Promise<Buffer> {
  const { parseDetachKeys } = await import('../../api/detach-keys.js');
  try {
    return parseDetachKeys(spec);
  } catch (e) {
    throw new FlagError(`invalid argument "${spec}" for "--detach-keys" flag: ${(e as Error).message}`);
  }
}

/** A hijacked POST to the daemon of `c` (see cli/interactive.ts); refusals exit as Docker's CLI does. */
async function hijackCall(c: Client, path: string, query: Record<string, string | number | undefined>, refusedCode = 1): Promise<Hijacked> {
  const { hijackRequest, HijackRefused } = await import('../interactive.js');
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
  // The first call through the shared client starts a daemon when none answers.
  await c.call('/_ping');
  try {
    return await hijackRequest(c.host, `/v1.41${path}?${qs.toString()}`);
  } catch (e) {
    if (e instanceof HijackRefused) throw new ExitError(`Error response from daemon: ${e.message}`, refusedCode);
    throw e;
  }
}

interface AttachInfo {
  Id: string;
  Config: { Tty: boolean; OpenStdin: boolean };
  State: { Running: boolean; Status: string; ExitCode: number };
}

/**
 * Attaches to `id` (hijacked), optionally starting it once attached; returns the exit code (0 when
 * detached, as Docker).
 */
async function attachSession(c: Client, info: AttachInfo, o: { stdin: boolean; detachKeys: string; start: boolean }): Promise<number> {
  const { runSession } = await import('../interactive.js');
  const id = enc(info.Id);
  const keys = await detachKeyBytes(o.detachKeys);
  const tty = info.Config.Tty;
  if (o.stdin && tty && !process.stdin.isTTY) throw new ExitError('the input device is not a TTY', 1);
  // Before the start, so the exit cannot be missed.
  const wait = o.start ? await c.raw(`/containers/${id}/wait`, { method: 'POST', query: { condition: 'next-exit' } }) : undefined;
  const h = await hijackCall(c, `/containers/${id}/attach`, { stream: 1, stdin: o.stdin ? 1 : undefined, stdout: 1, stderr: 1, detachKeys: o.detachKeys });
  if (o.start) await c.call(`/containers/${id}/start`, { method: 'POST' });
  const resize = (rows: number, cols: number): void => void c.call(`/containers/${id}/resize`, { method: 'POST', query: { h: rows, w: cols } }).catch(() => undefined);
  const r = await runSession(h, { framed: !tty, stdin: o.stdin, rawMode: tty && o.stdin, detachKeys: keys, ...(tty ? { resize } : {}) });
  if (r.detached) {
    wait?.destroy();
    return 0;
  }
  if (wait) return (JSON.parse(await body(wait)) as { StatusCode: number }).StatusCode;
  const done = await c.call<{ StatusCode: number }>(`/containers/${id}/wait`, { method: 'POST' });
  return done.StatusCode;
}

export async function attach(argv: string[]): Promise<number> {
  const usage = 'tsswarm attach [OPTIONS] CONTAINER';
  const p = parse(argv, usage, [
    { name: 'no-stdin', type: 'bool', description: 'Do not attach STDIN' },
    { name: 'detach-keys', type: 'string', description: 'Override the key sequence for detaching a container' },
    { name: 'sig-proxy', type: 'bool', description: 'Proxy all received signals to the process (accepted; signals reach a tty as keys)' },
  ]);
  if (!p) return 0;
  needArgs(p, 1, 'attach', usage);
  const c = client();
  let info: AttachInfo;
  try {
    info = await c.call<AttachInfo>(`/containers/${enc(p.args[0]!)}/json`);
  } catch (e) {
    if (e instanceof DaemonError) throw new ExitError(`Error response from daemon: ${e.message}`, 1);
    throw e;
  }
  if (!info.State.Running) throw new ExitError('You cannot attach to a stopped container, start it first', 1);
  return attachSession(c, info, { stdin: info.Config.OpenStdin && !bool(p, 'no-stdin'), detachKeys: str(p, 'detach-keys') ?? DEFAULT_DETACH_KEYS, start: false });
}

interface Summary {
  Id: string;
  Names: string[];
  Image: string;
  Command: string;
  Created: number;
  Ports: { IP: string; PrivatePort: number; PublicPort?: number; Type: string }[];
  Labels: Record<string, string>;
  State: string;
  Status: string;
  Mounts: { Name: string; Destination: string }[];
  NetworkSettings: { Networks: Record<string, unknown> };
}

function portsText(ports: Summary['Ports']): string {
  return ports.map((p) => (p.PublicPort ? `${p.IP}:${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`)).join(', ');
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

export async function ps(argv: string[]): Promise<number> {
  const p = parse(argv, 'tsswarm ps [OPTIONS]', [
    { name: 'all', short: 'a', type: 'bool', description: 'Show all containers (default shows just running)' },
    { name: 'quiet', short: 'q', type: 'bool', description: 'Only display container IDs' },
    { name: 'filter', short: 'f', type: 'list', description: 'Filter output based on conditions provided' },
    { name: 'format', type: 'string', description: 'Format output using a custom template' },
    { name: 'no-trunc', type: 'bool', description: "Don't truncate output" },
    { name: 'last', short: 'n', type: 'int', description: 'Show n last created containers (includes all states)' },
    { name: 'latest', short: 'l', type: 'bool', description: 'Show the latest created container (includes all states)' },
    { name: 'size', short: 's', type: 'bool', description: 'Display total file sizes' },
  ]);
  if (!p) return 0;
  const filters: Record<string, string[]> = {};
  for (const f of list(p, 'filter')) {
    const i = f.indexOf('=');
    if (i <= 0) throw new FlagError(`invalid argument "${f}" for "-f, --filter" flag: bad format of filter (expected name=value)`);
    (filters[f.slice(0, i)] ??= []).push(f.slice(i + 1));
  }
  const last = bool(p, 'latest') ? 1 : typeof p.flags.last === 'number' ? p.flags.last : undefined;
  const fmt = str(p, 'format');
  // Docker also computes sizes when a --format asks for .Size.
  const withSize = bool(p, 'size') || (fmt?.includes('.Size') ?? false);
  const rows = await client().call<(Summary & { SizeRw?: number; SizeRootFs?: number })[]>('/containers/json', {
    query: { size: withSize ? 1 : undefined, all: bool(p, 'all') || last !== undefined ? 1 : undefined, filters: Object.keys(filters).length ? JSON.stringify(filters) : undefined, limit: last },
  });
  const noTrunc = bool(p, 'no-trunc');
  const now = Date.now();
  const view = rows.map((r) => ({
    ID: noTrunc ? r.Id : r.Id.slice(0, 12),
    Image: r.Image,
    Command: JSON.stringify(noTrunc ? r.Command : truncate(r.Command, 20)),
    CreatedAt: new Date(r.Created * 1000).toISOString(),
    RunningFor: timeAgo(r.Created * 1000, now),
    Ports: portsText(r.Ports),
    State: r.State,
    Status: r.Status,
    Names: r.Names.map((n) => n.replace(/^\//, '')).join(','),
    Labels: Object.entries(r.Labels).map(([k, v]) => `${k}=${v}`).join(','),
    Mounts: r.Mounts.map((m) => m.Name || m.Destination).join(','),
    Networks: Object.keys(r.NetworkSettings.Networks).join(','),
    Size: r.SizeRw === undefined ? '0B' : `${humanSizeWithPrecision(r.SizeRw, 3)} (virtual ${humanSizeWithPrecision(r.SizeRootFs ?? 0, 3)})`,
  }));
  if (bool(p, 'quiet') && !fmt) {
    process.stdout.write(view.map((v) => `${v.ID}\n`).join(''));
    return 0;
  }
  process.stdout.write(
    formatList(fmt, view, {
      defaultTable: `table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}${bool(p, 'size') ? '\t{{.Size}}' : ''}`,
      headers: { ID: 'CONTAINER ID', RunningFor: 'CREATED', CreatedAt: 'CREATED AT' },
      rowType: '*formatter.ContainerContext',
    }),
  );
  return 0;
}

const simple =
  (cmd: string, path: (id: string) => string, query: (p: import('../../lib/flags.js').Parsed) => Record<string, string | number | undefined> = () => ({}), flags: import('../../lib/flags.js').FlagSpec[] = [], method = 'POST', concurrent = false) =>
  async (argv: string[]): Promise<number> => {
    const usage = `tsswarm ${cmd} [OPTIONS] CONTAINER [CONTAINER...]`;
    const p = parse(argv, usage, flags);
    if (!p) return 0;
    needArgs(p, 1, cmd, usage);
    const c = client();
    return (concurrent ? eachArgConcurrently : eachArg)(p.args, async (a) => {
      await c.call(path(enc(a)), { method, query: query(p) });
      return a;
    });
  };

const timeFlag = { name: 'time', short: 't', type: 'int' as const, description: 'Seconds to wait before killing the container' };
const sigFlag = { name: 'signal', short: 's', type: 'string' as const, description: 'Signal to send to the container' };

export const start = async (argv: string[]): Promise<number> => {
  const usage = 'tsswarm start [OPTIONS] CONTAINER [CONTAINER...]';
  const p = parse(argv, usage, [
    { name: 'attach', short: 'a', type: 'bool', description: 'Attach STDOUT/STDERR and forward signals' },
    { name: 'interactive', short: 'i', type: 'bool', description: "Attach container's STDIN" },
    { name: 'detach-keys', type: 'string', description: 'Override the key sequence for detaching a container' },
  ]);
  if (!p) return 0;
  needArgs(p, 1, 'start', usage);
  const c = client();
  if (bool(p, 'attach') || bool(p, 'interactive')) {
    let info: AttachInfo;
    try {
      info = await c.call<AttachInfo>(`/containers/${enc(p.args[0]!)}/json`);
    } catch (e) {
      if (e instanceof DaemonError) throw new ExitError(`Error response from daemon: ${e.message}`, 1);
      throw e;
    }
    if (info.State.Running) throw new ExitError(`Error response from daemon: container ${p.args[0]!} is already running`, 1);
    return attachSession(c, info, { stdin: bool(p, 'interactive') && info.Config.OpenStdin, detachKeys: str(p, 'detach-keys') ?? DEFAULT_DETACH_KEYS, start: true });
  }
  return eachArg(p.args, async (a) => {
    await c.call(`/containers/${enc(a)}/start`, { method: 'POST' });
    return a;
  });
};
export const stop = simple('stop', (id) => `/containers/${id}/stop`, (p) => ({ t: p.flags.time as number | undefined, signal: str(p, 'signal') }), [timeFlag, sigFlag], 'POST', true);
export const restart = simple('restart', (id) => `/containers/${id}/restart`, (p) => ({ t: p.flags.time as number | undefined, signal: str(p, 'signal') }), [timeFlag, sigFlag]);
export const kill = simple('kill', (id) => `/containers/${id}/kill`, (p) => ({ signal: str(p, 'signal') }), [sigFlag]);
export const pause = simple('pause', (id) => `/containers/${id}/pause`);
export const unpause = simple('unpause', (id) => `/containers/${id}/unpause`);
export const rm = simple(
  'rm',
  (id) => `/containers/${id}`,
  (p) => ({ force: bool(p, 'force') ? 1 : undefined, v: bool(p, 'volumes') ? 1 : undefined }),
  [
    { name: 'force', short: 'f', type: 'bool', description: 'Force the removal of a running container (uses SIGKILL)' },
    { name: 'volumes', short: 'v', type: 'bool', description: 'Remove anonymous volumes associated with the container' },
  ],
  'DELETE',
  true,
);

export async function wait(argv: string[]): Promise<number> {
  const usage = 'tsswarm wait CONTAINER [CONTAINER...]';
  const p = parse(argv, usage, []);
  if (!p) return 0;
  needArgs(p, 1, 'wait', usage);
  const c = client();
  return eachArg(p.args, async (a) => {
    const r = await c.call<{ StatusCode: number }>(`/containers/${enc(a)}/wait`, { method: 'POST' });
    return String(r.StatusCode);
  });
}

/** --since/--until: a duration ago ("10m"), unix seconds, or an RFC 3339 time. */
function timeArg(v: string | undefined, flag: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isFinite(t)) return t / 1000;
  try {
    return (Date.now() - parseDuration(v) / 1e6) / 1000;
  } catch {
    throw new FlagError(`invalid argument "${v}" for "${flag}" flag: expected a duration (10m), unix seconds or an RFC 3339 time`);
  }
}

export async function logs(argv: string[]): Promise<number> {
  const usage = 'tsswarm logs [OPTIONS] CONTAINER';
  const p = parse(argv, usage, [
    { name: 'follow', short: 'f', type: 'bool', description: 'Follow log output' },
    { name: 'tail', short: 'n', type: 'string', description: 'Number of lines to show from the end of the logs (default "all")' },
    { name: 'timestamps', short: 't', type: 'bool', description: 'Show timestamps' },
    { name: 'since', type: 'string', description: 'Show logs since timestamp or relative (e.g. 42m)' },
    { name: 'until', type: 'string', description: 'Show logs before a timestamp or relative (e.g. 42m)' },
  ]);
  if (!p) return 0;
  needArgs(p, 1, 'logs', usage);
  const tail = str(p, 'tail');
  if (tail !== undefined && tail !== 'all' && !/^\d+$/.test(tail)) throw new FlagError(`invalid argument "${tail}" for "-n, --tail" flag: expected a number or "all"`);
  const res = await client().raw(`/containers/${enc(p.args[0]!)}/logs`, {
    query: {
      stdout: 1,
      stderr: 1,
      follow: bool(p, 'follow') ? 1 : undefined,
      timestamps: bool(p, 'timestamps') ? 1 : undefined,
      tail,
      since: timeArg(str(p, 'since'), '--since'),
      until: timeArg(str(p, 'until'), '--until'),
    },
  });
  if ((res.statusCode ?? 0) >= 400) await body(res);
  await demux(res);
  return 0;
}

export async function inspect(argv: string[]): Promise<number> {
  const usage = 'tsswarm inspect [OPTIONS] NAME|ID [NAME|ID...]';
  const p = parse(argv, usage, [
    { name: 'format', short: 'f', type: 'string', description: 'Format output using a custom template' },
    { name: 'type', type: 'string', description: 'Only inspect objects of the given type (container, image, network, volume, node, service, task, secret, config)' },
  ]);
  if (!p) return 0;
  needArgs(p, 1, 'inspect', usage);
  const c = client();
  const type = str(p, 'type');
  const paths: Record<string, (n: string) => string> = {
    container: (n) => `/containers/${n}/json`,
    image: (n) => `/images/${n}/json`,
    network: (n) => `/networks/${n}`,
    volume: (n) => `/volumes/${n}`,
    // Swarm objects (managers only): looked for after the local ones, as Docker does.
    service: (n) => `/services/${n}`,
    task: (n) => `/tasks/${n}`,
    node: (n) => `/nodes/${n}`,
    secret: (n) => `/secrets/${n}`,
    config: (n) => `/configs/${n}`,
  };
  const swarmKinds = new Set(['service', 'task', 'node', 'secret', 'config']);
  const kinds = type ? [type] : Object.keys(paths);
  if (type && !paths[type]) throw new FlagError(`invalid argument "${type}" for "--type" flag: expected one of ${Object.keys(paths).join(', ')}`);
  const items: unknown[] = [];
  let code = 0;
  for (const a of p.args) {
    let found: unknown;
    for (const k of kinds) {
      try {
        found = await c.call(paths[k]!(enc(a)));
        break;
      } catch (e) {
        // Not found; or, searching every type, a swarm type on a node that is no manager (503).
        const skip = e instanceof DaemonError && (e.status === 404 || (!type && swarmKinds.has(k) && e.status === 503));
        if (!skip) throw e;
      }
    }
    if (found === undefined) {
      process.stderr.write(`Error: No such object: ${a}\n`);
      code = 1;
    } else items.push(found);
  }
  if (items.length) process.stdout.write(formatInspect(str(p, 'format'), items));
  return code;
}

export async function exec(argv: string[]): Promise<number> {
  const usage = 'tsswarm exec [OPTIONS] CONTAINER COMMAND [ARG...]';
  const p = parse(
    argv,
    usage,
    [
      { name: 'interactive', short: 'i', type: 'bool', description: 'Keep STDIN open even if not attached' },
      { name: 'tty', short: 't', type: 'bool', description: 'Allocate a pseudo-TTY' },
      { name: 'detach', short: 'd', type: 'bool', description: 'Detached mode: run command in the background' },
      { name: 'env', short: 'e', type: 'list', description: 'Set environment variables' },
      { name: 'user', short: 'u', type: 'string', description: 'Username or UID (format: <name|uid>[:<group|gid>])' },
      { name: 'workdir', short: 'w', type: 'string', description: 'Working directory inside the container' },
    ],
    { stopAtPositional: true, positionalsBeforeStop: 2 },
  );
  if (!p) return 0;
  needArgs(p, 2, 'exec', usage);
  const [container, ...cmd] = p.args as [string, ...string[]];
  const c = client();
  const wd = str(p, 'workdir');
  if (wd !== undefined && !wd.startsWith('/')) throw new FlagError(`invalid argument "${wd}" for "-w, --workdir" flag: the working directory must be an absolute path`);
  const interactive = bool(p, 'interactive');
  const tty = bool(p, 'tty');
  if (interactive && tty && !process.stdin.isTTY) throw new ExitError('the input device is not a TTY', 1);
  let created: { Id: string };
  try {
    created = await c.call<{ Id: string }>(`/containers/${enc(container)}/exec`, {
      method: 'POST',
      body: { Cmd: cmd, Env: list(p, 'env'), User: str(p, 'user') ?? '', WorkingDir: wd ?? '', AttachStdin: interactive, AttachStdout: true, AttachStderr: true, Tty: tty },
    });
  } catch (e) {
    if (e instanceof DaemonError) throw new ExitError(`Error response from daemon: ${e.message}`, e.status === 404 ? 1 : 126);
    throw e;
  }
  if (!bool(p, 'detach') && (interactive || tty)) {
    // Hijacked: our stdin to the process, its output back raw (tty) or framed; Docker's exit code.
    const { runSession, termSize } = await import('../interactive.js');
    const size = tty ? termSize() : undefined;
    const h = await hijackCall(c, `/exec/${created.Id}/start`, { stdin: interactive ? 1 : undefined, h: size?.h, w: size?.w }, 126);
    const resize = (rows: number, cols: number): void => void c.call(`/exec/${created.Id}/resize`, { method: 'POST', query: { h: rows, w: cols } }).catch(() => undefined);
    await runSession(h, { framed: !tty, stdin: interactive, rawMode: tty && interactive, ...(tty ? { resize } : {}) });
    const info = await c.call<{ ExitCode: number | null }>(`/exec/${created.Id}/json`);
    return info.ExitCode ?? 0;
  }
  if (bool(p, 'detach')) {
    // The daemon starts it and answers at once; a stream closed by our exit would kill the process.
    await c.call(`/exec/${created.Id}/start`, { method: 'POST', body: { Detach: true, Tty: tty } });
    return 0;
  }
  const res = await c.rawStream(`/exec/${created.Id}/start`, interactive ? process.stdin : undefined, { stdin: interactive ? 1 : undefined });
  if ((res.statusCode ?? 0) >= 400) await body(res);
  await demux(res);
  const info = await c.call<{ ExitCode: number | null }>(`/exec/${created.Id}/json`);
  return info.ExitCode ?? 0;
}

export async function top(argv: string[]): Promise<number> {
  const usage = 'tsswarm top CONTAINER [ps OPTIONS]';
  // Everything after the container goes to ps (`top c -o pid,comm`, `top c aux`), as with Docker.
  const p = parse(argv, usage, [], { stopAtPositional: true, positionalsBeforeStop: 1 });
  if (!p) return 0;
  needArgs(p, 1, 'top', usage);
  const psArgs = p.args.slice(1).join(' ');
  const r = await client().call<{ Titles: string[]; Processes: string[][] }>(`/containers/${enc(p.args[0]!)}/top`, { query: { ps_args: psArgs || undefined } });
  process.stdout.write(tabwrite([r.Titles, ...r.Processes].map((row) => row.join('\t') + '\n').join('')));
  return 0;
}

interface StatsBody {
  id: string;
  name: string;
  memory_stats: { usage?: number; limit?: number; stats?: Record<string, number> };
  pids_stats: { current?: number };
  cpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
  blkio_stats: { io_service_bytes_recursive: { op: string; value: number }[] | null };
}

/** One row of `stats`, computed as the Docker CLI does from a stats body with its previous sample. */
function statsRow(s: StatsBody): Record<string, string> {
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
  const sysDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats.system_cpu_usage ?? 0);
  const online = s.cpu_stats.online_cpus || 1;
  const cpu = sysDelta > 0 && cpuDelta > 0 && s.precpu_stats.system_cpu_usage ? (cpuDelta / sysDelta) * online * 100 : 0;
  // Docker leaves the page cache out of the usage: inactive_file (v2) or total_inactive_file (v1).
  const st = s.memory_stats.stats ?? {};
  const cache = st.total_inactive_file ?? st.inactive_file ?? 0;
  const raw = s.memory_stats.usage ?? 0;
  const mem = cache < raw ? raw - cache : raw;
  const limit = s.memory_stats.limit ?? 0;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    rx += n.rx_bytes;
    tx += n.tx_bytes;
  }
  let rd = 0;
  let wr = 0;
  for (const b of s.blkio_stats.io_service_bytes_recursive ?? []) {
    if (b.op.toLowerCase() === 'read') rd += b.value;
    else if (b.op.toLowerCase() === 'write') wr += b.value;
  }
  const id = s.id.slice(0, 12);
  return {
    Container: id,
    ID: id,
    Name: s.name.replace(/^\//, ''),
    CPUPerc: `${cpu.toFixed(2)}%`,
    MemUsage: `${bytesSize(mem)} / ${bytesSize(limit)}`,
    MemPerc: `${(limit > 0 ? (mem / limit) * 100 : 0).toFixed(2)}%`,
    NetIO: `${humanSizeWithPrecision(rx, 3)} / ${humanSizeWithPrecision(tx, 3)}`,
    BlockIO: `${humanSizeWithPrecision(rd, 3)} / ${humanSizeWithPrecision(wr, 3)}`,
    PIDs: String(s.pids_stats.current ?? 0),
  };
}

export async function stats(argv: string[]): Promise<number> {
  const usage = 'tsswarm stats [OPTIONS] [CONTAINER...]';
  const p = parse(argv, usage, [
    { name: 'no-stream', type: 'bool', description: 'Disable streaming stats and only pull the first result' },
    { name: 'all', short: 'a', type: 'bool', description: 'Show all containers (default shows just running)' },
    { name: 'format', type: 'string', description: 'Format output using a custom template' },
    { name: 'no-trunc', type: 'bool', description: 'Do not truncate output' },
  ]);
  if (!p) return 0;
  const c = client();
  const named = p.args;
  const frame = async (): Promise<string> => {
    const ids = named.length ? named : (await c.call<Summary[]>('/containers/json', { query: { all: bool(p, 'all') ? 1 : undefined } })).map((s) => s.Id);
    // Each one-shot body carries two samples ~0.5 s apart (precpu_stats), so CPU % is real.
    const bodies = await Promise.all(ids.map((id) => c.call<StatsBody>(`/containers/${enc(id)}/stats`, { query: { stream: 0 } })));
    const rows = bodies.map(statsRow);
    if (bool(p, 'no-trunc')) for (const [i, r] of rows.entries()) r.ID = r.Container = bodies[i]!.id;
    return formatList(str(p, 'format'), rows, {
      defaultTable: 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}',
      headers: { ID: 'CONTAINER ID', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS' },
    });
  };
  if (bool(p, 'no-stream')) {
    process.stdout.write(await frame());
    return 0;
  }
  // Streaming until interrupted: a TTY is redrawn in place (clear screen, cursor home) like Docker.
  const tty = process.stdout.isTTY === true;
  for (;;) {
    const started = Date.now();
    const out = await frame();
    process.stdout.write(tty ? `\x1b[2J\x1b[H${out}` : out);
    await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - started))));
  }
}

export async function rename(argv: string[]): Promise<number> {
  const usage = 'tsswarm rename CONTAINER NEW_NAME';
  const p = parse(argv, usage, []);
  if (!p) return 0;
  needArgs(p, 2, 'rename', usage);
  await client().call(`/containers/${enc(p.args[0]!)}/rename`, { method: 'POST', query: { name: p.args[1] } });
  return 0;
}

export async function port(argv: string[]): Promise<number> {
  const usage = 'tsswarm port CONTAINER [PRIVATE_PORT[/PROTO]]';
  const p = parse(argv, usage, []);
  if (!p) return 0;
  needArgs(p, 1, 'port', usage);
  const info = await client().call<{ NetworkSettings: { Ports: Record<string, { HostIp: string; HostPort: string }[] | null> } }>(`/containers/${enc(p.args[0]!)}/json`);
  const want = p.args[1] ? (p.args[1].includes('/') ? p.args[1] : `${p.args[1]}/tcp`) : undefined;
  const lines: string[] = [];
  for (const [k, binds] of Object.entries(info.NetworkSettings.Ports)) {
    if (want && k !== want) continue;
    for (const b of binds ?? []) lines.push(want ? `${b.HostIp}:${b.HostPort}` : `${k} -> ${b.HostIp}:${b.HostPort}`);
  }
  if (want && lines.length === 0) throw new Error(`Error: No public port '${want}' published for ${p.args[0]}`);
  process.stdout.write(lines.map((l) => l + '\n').join(''));
  return 0;
}
