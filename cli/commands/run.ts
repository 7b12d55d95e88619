// `tsswarm run` and `tsswarm create`: create (+ start, + attach and wait unless -d).
import { RUN_FLAGS, CREATE_FLAGS, buildRunOptions, defaultRunFlagsIo } from '../run-flags.js';
import { ExitError, parse, str } from './base.js';
import { FlagError, type Parsed } from '../../lib/flags.js';
import { clientHost } from '../../api/daemon.js';
import { ConnectError, postRun, type RunReply } from '../run-client.js';
import { CONTAINER_HEADER, type RunStatus } from '../../api/run-protocol.js';
import type { Client } from '../client.js';
import type { ContainerCreateBody } from '../../api/containers.js';

/** Docker's smallest memory limit (agent/containers/create-config.ts MIN_MEMORY; not imported to keep zod out of the CLI). */
const MIN_MEMORY = 6 * 1024 * 1024;

const RUN_USAGE = 'tsswarm run [OPTIONS] IMAGE [COMMAND] [ARG...]';
const CREATE_USAGE = 'tsswarm create [OPTIONS] IMAGE [COMMAND] [ARG...]';

/** Checks the daemon would make in Docker's CLI too, so the message names the flag. */
function checkFlags(p: Parsed, b: ContainerCreateBody): void {
  const mem = b.HostConfig?.Memory;
  if (mem !== undefined && mem !== 0 && mem < MIN_MEMORY) {
    throw new FlagError(`invalid argument "${str(p, 'memory') ?? mem}" for "-m, --memory" flag: minimum memory limit allowed is 6MB`);
  }
}

/**
 * Docker's CLI (runStartContainerErr) derives run's exit code from the daemon's message: the command
 * could not be found 127, could not be run 126, any other failure 125.
 */
export function startErrorCode(msg: string): number {
  if (/executable file not found|no such file or directory/.test(msg)) return 127;
  if (/permission denied|exec format error|cannot run executable/.test(msg)) return 126;
  return 125;
}

/** Creates the container; a daemon refusal exits 125 as Docker does. */
export async function createContainer(c: Client, b: ContainerCreateBody, name: string | undefined): Promise<string> {
  const { DaemonError } = await import('../client.js');
  try {
    const r = await c.call<{ Id: string; Warnings?: string[] }>('/containers/create', { method: 'POST', body: b, query: { name } });
    for (const w of r.Warnings ?? []) process.stderr.write(`WARNING: ${w}\n`);
    return r.Id;
  } catch (e) {
    if (e instanceof DaemonError) throw new ExitError(e.message, 125);
    throw e;
  }
}

export async function create(argv: string[]): Promise<number> {
  const p = parse(argv, CREATE_USAGE, CREATE_FLAGS, { stopAtPositional: true });
  if (!p) return 0;
  const o = buildRunOptions(p, defaultRunFlagsIo(), 'create');
  checkFlags(p, o.body);
  const { Client } = await import('../client.js');
  const id = await createContainer(new Client(), o.body, o.name);
  process.stdout.write(`${id}\n`);
  return 0;
}

/**
 * One request does create, start, attach and wait (POST /containers/run, agent/api/run-protocol.ts),
 * over a bare socket (run-client.ts): the module that knows node:http is loaded only to start a
 * daemon when none answers. TSSWARM_TIMING=1 prints where the time went (CLI and daemon) to stderr.
 */
export default async function run(argv: string[]): Promise<number> {
  const tEntry = performance.now();
  const p = parse(argv, RUN_USAGE, RUN_FLAGS, { stopAtPositional: true });
  if (!p) return 0;
  const o = buildRunOptions(p, defaultRunFlagsIo(), 'run');
  checkFlags(p, o.body);
  const timing = process.env.TSSWARM_TIMING === '1';
  const qs = new URLSearchParams();
  if (o.name !== undefined) qs.set('name', o.name);
  if (o.detach) qs.set('detach', '1');
  if (timing) qs.set('timings', '1');
  const host = clientHost();
  if (!o.detach && (o.interactive || o.tty)) return runInteractive(host, qs, o.body, o.interactive, o.tty);
  let tFirstFrame = 0;
  const onFrame = (stream: number, data: Buffer): void => {
    tFirstFrame ||= performance.now();
    (stream === 2 ? process.stderr : process.stdout).write(data);
  };
  const tFlags = performance.now();
  let r: RunReply;
  try {
    r = await postRun(host, qs.toString(), o.body, onFrame);
  } catch (e) {
    if (!(e instanceof ConnectError)) throw e;
    // No daemon: the shared client starts one when it may (or explains), then once more.
    const { Client } = await import('../client.js');
    await new Client(host).call('/_ping');
    r = await postRun(host, qs.toString(), o.body, onFrame);
  }
  const tDone = performance.now();
  if (r.kind === 'error') throw new ExitError(r.message, startErrorCode(r.message));
  if (r.kind === 'created') {
    for (const w of r.warnings) process.stderr.write(`WARNING: ${w}\n`);
    process.stdout.write(`${r.id}\n`);
    return 0;
  }
  if (timing) {
    const ms = (x: number): number => Math.round(x * 10) / 10;
    const cli = { nodeStartAndModules: ms(tEntry), flags: ms(tFlags - tEntry), request: ms(tDone - tFlags), ...(tFirstFrame ? { firstOutputAfter: ms(tFirstFrame - tFlags) } : {}) };
    process.stderr.write(`tsswarm: timings ${JSON.stringify({ cli, daemon: r.status.Timings ?? {} })}\n`);
  }
  return r.status.StatusCode;
}

/**
 * `run -i` / `run -t`: POST /containers/run on a hijacked connection (run-protocol.ts); our stdin goes
 * to the container, a tty's size follows ours, Ctrl-P Ctrl-Q detaches.
 */
async function runInteractive(host: string, qs: URLSearchParams, body: ContainerCreateBody, interactive: boolean, tty: boolean): Promise<number> {
  const { hijackRequest, runSession, termSize, HijackRefused } = await import('../interactive.js');
  if (interactive && tty && !process.stdin.isTTY) throw new ExitError('the input device is not a TTY', 1);
  if (interactive) qs.set('stdin', '1');
  const size = tty ? termSize() : undefined;
  if (size) {
    qs.set('h', String(size.h));
    qs.set('w', String(size.w));
  }
  const path = `/v1.41/containers/run?${qs.toString()}`;
  let h;
  try {
    try {
      h = await hijackRequest(host, path, body);
    } catch (e) {
      if (!(e instanceof ConnectError)) throw e;
      const { Client } = await import('../client.js');
      await new Client(host).call('/_ping');
      h = await hijackRequest(host, path, body);
    }
  } catch (e) {
    if (e instanceof HijackRefused) throw new ExitError(e.message, startErrorCode(e.message));
    throw e;
  }
  const id = h.headers[CONTAINER_HEADER] ?? '';
  let status: RunStatus | undefined;
  const { Client } = await import('../client.js');
  const c = new Client(host);
  await runSession(h, {
    framed: true,
    stdin: interactive,
    rawMode: tty && interactive,
    ...(tty && id ? { resize: (rows: number, cols: number) => void c.call(`/containers/${id}/resize`, { method: 'POST', query: { h: rows, w: cols } }).catch(() => undefined) } : {}),
    onStatus: (p) => {
      status = JSON.parse(p.toString('utf8')) as RunStatus;
    },
  });
  if (!status) throw new ExitError('the daemon ended the session without the exit status (did the daemon stop?)', 125);
  if (status.Detached) return 0;
  return status.StatusCode;
}
