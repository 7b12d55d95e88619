// Engine API: /containers/* and /exec/*.
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { ApiError, HANDLED, badRequest, conflict, sendJson, type Router, truthy } from './router.js';
import type { Engine } from '../engine.js';
import { parseCreateBody, describeIssues } from '../../api/containers.js';
import { inspectView, summaryView, type LiveInfo } from '../../api/container-view.js';
import { LineReader, follow, frame, openLog, readEntries, render, type LogQuery } from '../containers/logs.js';
import type { ContainerRecord } from '../containers/record.js';
import { matchLabels, matchName, parseFilters, checkFilterKeys, type Filters } from '../../lib/filters.js';
import { statusText } from '../../lib/units.js';
import { TopError, dirSize, dockerStats, sample, top as topOf, type DockerStats, type Sample } from '../containers/stats.js';
import { RunSession } from '../containers/run-session.js';
import { EXTRA_LIST_FILTERS, matchesExtra, resolveExtraFilters } from '../containers/list-filters.js';
import { watchStop } from '../containers/stop-watch.js';
import type { ExecInstance, ExecProcess, ExecService } from '../containers/exec-service.js';
import { atLeast } from './api-version.js';
import { CONTAINER_HEADER, STATUS_STREAM, type RunStatus } from '../../api/run-protocol.js';
import { MULTIPLEXED_STREAM, RAW_STREAM, bridge, hijack, parseDetachKeys, wantsUpgrade } from './hijack.js';


function live(e: Engine, c: ContainerRecord): LiveInfo {
  return { endpoints: e.network.endpoints(c.Id), ports: e.network.ports(c.Id), imageName: c.Config.Image };
}

/**
 * The files and layers behind a container, as Docker's inspect names them (its clients read
 * LogPath for `logs`, tools read GraphDriver.Data.MergedDir for the root filesystem).
 */
function containerFiles(e: Engine, c: ContainerRecord): Record<string, unknown> {
  const dir = e.containers.dir(c.Id);
  let lower = '';
  try {
    lower = e.images.lowerDirs(c.Image).join(':');
  } catch {
    // The image was removed with --force: the container keeps running on its layers, unnamed here.
  }
  return {
    LogPath: e.containers.logPath(c.Id),
    ResolvConfPath: join(dir, 'resolv.conf'),
    HostnamePath: join(dir, 'hostname'),
    HostsPath: c.HostConfig.NetworkMode === 'host' ? '/etc/hosts' : join(dir, 'hosts'),
    GraphDriver: { Name: 'overlay2', Data: { LowerDir: lower, MergedDir: join(dir, 'rootfs'), UpperDir: join(dir, 'upper'), WorkDir: join(dir, 'work') } },
  };
}

/**
 * The create body as the client's API version means it. Up to 1.24 the client removes a `--rm`
 * container itself (on the "die" event) and stops listening at "destroy": a daemon-side removal
 * would end its wait while its own DELETE is still in flight ("error removing container: context
 * canceled"), so, as dockerd does, AutoRemove is dropped for those clients.
 */
function createBodyFor(apiVersion: string, body: ReturnType<typeof parseCreateBody>): ReturnType<typeof parseCreateBody> {
  if (atLeast(apiVersion, '1.25') || !body.HostConfig?.AutoRemove) return body;
  return { ...body, HostConfig: { ...body.HostConfig, AutoRemove: false } };
}

/** The list filters; a bad one is a FilterError (kind invalid: 400). */
function filtersOf(q: URLSearchParams): Filters {
  const f = parseFilters(q.get('filters'));
  checkFilterKeys(f, ['id', 'name', 'label', 'status', 'ancestor', 'exited', 'network', 'health', ...EXTRA_LIST_FILTERS]);
  return f;
}

function matches(c: ContainerRecord, f: Filters): boolean {
  if (f.id && !f.id.some((p) => c.Id.startsWith(p))) return false;
  if (f.name && !matchName(c.Name, f.name)) return false;
  if (f.label && !matchLabels(c.Config.Labels, f.label)) return false;
  if (f.status && !f.status.includes(c.State.Status)) return false;
  if (f.exited && !(c.State.Status === 'exited' && f.exited.includes(String(c.State.ExitCode)))) return false;
  if (f.ancestor && !f.ancestor.some((a) => a === c.Config.Image || c.Image.startsWith(a) || c.Image === `sha256:${a}`)) return false;
  if (f.network && !f.network.some((n) => n in c.Networks || c.HostConfig.NetworkMode === n)) return false;
  if (f.health && !f.health.includes(c.State.Health?.Status ?? 'none')) return false;
  return true;
}

/** Starts a streaming response of Docker's raw-stream media type. */
export function streamHead(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'application/vnd.docker.multiplexed-stream' });
  res.flushHeaders();
}

const ExecCreateSchema = z.object({
  Cmd: z.array(z.string()).min(1, { message: 'No exec command specified' }),
  Env: z.array(z.string()).nullish(),
  User: z.string().nullish(),
  WorkingDir: z.string().nullish(),
  AttachStdin: z.boolean().nullish(),
  AttachStdout: z.boolean().nullish(),
  AttachStderr: z.boolean().nullish(),
  Tty: z.boolean().nullish(),
  Privileged: z.boolean().nullish(),
});

export function containerRoutes(router: Router, e: Engine): void {
  const cs = e.containers;
  const execs = e.execs;

  router
    .get('/containers/json', async ({ query }) => {
      const all = truthy(query.get('all'));
      const f = filtersOf(query);
      const extra = resolveExtraFilters(f, (ref) => cs.resolve(ref));
      let list = cs.list().filter((c) => (all || f.status || f.exited ? true : c.State.Status === 'running' || c.State.Status === 'paused' || c.State.Status === 'restarting') && matches(c, f) && matchesExtra(c, extra));
      const limit = Number(query.get('limit') ?? -1);
      if (limit > 0) list = list.slice(0, limit);
      const nowMs = Date.now();
      const withSize = truthy(query.get('size'));
      return Promise.all(list.map(async (c) => {
        const v: ReturnType<typeof summaryView> & { SizeRw?: number; SizeRootFs?: number } = summaryView(c, live(e, c));
        if (withSize) {
          // Docker: SizeRw is the writable layer, SizeRootFs that plus the image.
          const rec = e.images.resolve(c.Image);
          v.SizeRw = await dirSize(join(cs.dir(c.Id), 'upper'));
          v.SizeRootFs = v.SizeRw + (rec ? e.images.imageSize(rec) : 0);
        }
        const s = c.State.Status;
        v.Status = statusText(
          {
            Running: s === 'running' || s === 'paused' || s === 'restarting',
            Paused: s === 'paused',
            Restarting: s === 'restarting',
            RemovalInProgress: s === 'removing',
            ExitCode: c.State.ExitCode,
            StartedAt: c.State.StartedAt,
            FinishedAt: c.State.FinishedAt,
            ...(c.State.Health ? { Health: { Status: c.State.Health.Status } } : {}),
          },
          nowMs,
        );
        return v;
      }));
    })
    .post('/containers/create', async ({ query, json, res, apiVersion }) => {
      const body = createBodyFor(apiVersion, parseCreateBody(await json()));
      const out = await cs.create(body, query.get('name') ?? undefined);
      sendJson(res, 201, out);
      return HANDLED;
    })
    .post('/containers/run', async ({ query, json, req, res }) => run(e, parseCreateBody(await json()), query, req, res))
    .post('/containers/prune', async () => {
      const deleted: string[] = [];
      for (const c of cs.list()) {
        if (c.State.Status !== 'exited' && c.State.Status !== 'created' && c.State.Status !== 'dead') continue;
        await cs.remove(c.Id, {});
        deleted.push(c.Id);
      }
      return { ContainersDeleted: deleted, SpaceReclaimed: 0 };
    })
    .get('/containers/{id}/json', async ({ params }) => {
      const c = cs.resolve(params.id!);
      return { ...inspectView(c, live(e, c)), ...containerFiles(e, c) };
    })
    .post('/containers/{id}/start', async ({ params, res }) => {
      const started = await cs.start(params.id!);
      if (!started) {
        res.writeHead(304).end();
        return HANDLED;
      }
      return undefined;
    })
    .post('/containers/{id}/stop', async ({ params, query, res }) => {
      const t = query.get('t');
      const stopped = await cs.stop(params.id!, t !== null && t !== '' ? Number(t) : undefined, query.get('signal') ?? undefined);
      if (!stopped) {
        res.writeHead(304).end();
        return HANDLED;
      }
      return undefined;
    })
    .post('/containers/{id}/restart', async ({ params, query }) => {
      const t = query.get('t');
      await cs.restart(params.id!, t !== null && t !== '' ? Number(t) : undefined, query.get('signal') ?? undefined);
      return undefined;
    })
    .post('/containers/{id}/kill', async ({ params, query }) => {
      await cs.kill(params.id!, query.get('signal') || 'SIGKILL');
      return undefined;
    })
    .post('/containers/{id}/pause', async ({ params }) => {
      await cs.pause(params.id!);
      return undefined;
    })
    .post('/containers/{id}/unpause', async ({ params }) => {
      await cs.unpause(params.id!);
      return undefined;
    })
    .post('/containers/{id}/rename', async ({ params, query }) => {
      const name = query.get('name');
      if (!name) throw badRequest('rename: the new name is required (query parameter name)');
      await cs.rename(params.id!, name);
      return undefined;
    })
    .delete('/containers/{id}', async ({ params, query }) => {
      await cs.remove(params.id!, { force: truthy(query.get('force')), volumes: truthy(query.get('v')) });
      return undefined;
    })
    .post('/containers/{id}/wait', async ({ params, query, res }) => {
      const c = cs.resolve(params.id!);
      const cond = query.get('condition') || 'not-running';
      if (cond !== 'not-running' && cond !== 'next-exit' && cond !== 'removed') throw badRequest(`invalid condition: "${cond}" (expected not-running, next-exit or removed)`);
      const done = cs.waitExit(c.Id, cond);
      // Headers now, so a client can start the container knowing the wait is in place.
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      const code = await done;
      res.end(JSON.stringify({ StatusCode: code, Error: null }) + '\n');
      return HANDLED;
    })
    .get('/containers/{id}/logs', async ({ params, query, res, req }) => logs(e, params.id!, query, req, res))
    .post('/containers/{id}/attach', async ({ params, query, res, req }) => attach(e, params.id!, query, req, res))
    .post('/containers/{id}/resize', async ({ params, query }) => {
      await cs.resize(params.id!, consoleSize(query, true)!);
      return undefined;
    })
    .post('/exec/{id}/resize', async ({ params, query }) => {
      execs.resize(params.id!, consoleSize(query, true)!);
      return undefined;
    })
    .get('/containers/{id}/top', async ({ params, query }) => {
      const c = cs.resolve(params.id!);
      if (c.State.Status !== 'running' && c.State.Status !== 'paused') throw conflict(`Container ${c.Id} is not running`);
      const pids = await e.runtime.ps(c.Id);
      try {
        return await topOf(query.get('ps_args') ?? '', pids);
      } catch (err) {
        // Docker answers a failing ps or an unusable output with a 500 carrying the reason.
        if (err instanceof TopError) throw new ApiError(500, err.message);
        throw err;
      }
    })
    .get('/containers/{id}/stats', async ({ params, query, req, res }) => {
      const c = cs.resolve(params.id!);
      const name = `/${c.Name}`;
      const stream = !['0', 'false'].includes(query.get('stream') ?? '1');
      const oneShot = truthy(query.get('one-shot'));
      const up = (): boolean => {
        const s = cs.resolve(c.Id).State.Status;
        return s === 'running' || s === 'paused';
      };
      const empty = (): DockerStats => ({
        read: new Date().toISOString(), preread: '0001-01-01T00:00:00Z', id: c.Id, name,
        pids_stats: {}, memory_stats: {}, cpu_stats: { cpu_usage: { total_usage: 0 } }, precpu_stats: { cpu_usage: { total_usage: 0 } },
        blkio_stats: { io_service_bytes_recursive: null },
      });
      const take = (): Promise<Sample> => sample(() => e.runtime.stats(c.Id));
      const frameOf = async (cur: Sample, prev: Sample | undefined): Promise<DockerStats> => dockerStats(c.Id, name, cs.resolve(c.Id).State.Pid, cur, prev);
      if (!stream) {
        if (!up()) return empty();
        // Like Docker (unless one-shot), two samples so precpu_stats makes a CPU % possible.
        const first = await take();
        if (oneShot) return frameOf(first, undefined);
        await new Promise((r) => setTimeout(r, 500));
        return frameOf(await take(), first);
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      let closed = false;
      req.on('close', () => (closed = true));
      let prev: Sample | undefined;
      while (!closed) {
        if (!up()) {
          res.write(JSON.stringify(empty()) + '\n');
          break;
        }
        const cur = await take().catch(() => undefined);
        if (!cur) break;
        res.write(JSON.stringify(await frameOf(cur, prev)) + '\n');
        prev = cur;
        await new Promise((r) => setTimeout(r, 1000));
      }
      res.end();
      return HANDLED;
    })
    .post('/containers/{id}/exec', async ({ params, json, res }) => {
      cs.resolve(params.id!);
      const r = ExecCreateSchema.safeParse((await json()) ?? {});
      if (!r.success) throw badRequest(`invalid exec config: ${describeIssues(r.error)}`);
      sendJson(res, 201, { Id: execs.create(params.id!, r.data) });
      return HANDLED;
    })
    .post('/exec/{id}/start', async ({ params, query, req, res, json }) => {
      execs.prepare(params.id!);
      // Docker's body {"Detach": true}: start it and answer at once (the CLI's exec -d). Only a JSON
      // body is read here: otherwise the body is the process's stdin.
      const detach = /application\/json/.test(req.headers['content-type'] ?? '') && ((await json()) as { Detach?: unknown } | null)?.Detach === true;
      if (detach) {
        await execs.startDetached(params.id!);
        return undefined;
      }
      const { x, proc } = execs.prepare(params.id!);
      // Docker's clients say what to attach when creating the exec, not when starting it.
      const withStdin = x.config.AttachStdin === true;
      if (x.config.Tty || wantsUpgrade(req)) return execHijacked(execs, x, proc, query, req, res);
      const h = await execs.launch(x, proc);
      streamHead(res);
      h.stdout?.on('data', (b: Buffer) => res.write(frame('stdout', b)));
      h.stderr?.on('data', (b: Buffer) => res.write(frame('stderr', b)));
      if (withStdin && h.stdin) req.pipe(h.stdin);
      else {
        req.resume();
        h.stdin?.end();
      }
      res.on('close', () => {
        if (x.running) h.kill('SIGKILL');
      });
      const r = await execs.ended(x, h);
      if (r.error) res.write(frame('stderr', Buffer.from(`tsswarm: exec failed: ${r.error.trim()}\n`)));
      res.end();
      execs.forgetLater(x);
      return HANDLED;
    })
    .get('/exec/{id}/json', async ({ params }) => execs.inspect(params.id!));
}

/** h and w (rows, columns) from the query; `required`: a 400 when missing. */
function consoleSize(q: URLSearchParams, required = false): { height: number; width: number } | undefined {
  const h = q.get('h');
  const w = q.get('w');
  if ((h === null || w === null) && !required) return undefined;
  const height = Number(h);
  const width = Number(w);
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 0 || width < 0 || height > 65535 || width > 65535) {
    throw badRequest(`invalid terminal size h=${h ?? ''} w=${w ?? ''}: expected rows and columns (0-65535)`);
  }
  return { height, width };
}

function detachKeysOf(q: URLSearchParams): Buffer {
  try {
    return parseDetachKeys(q.get('detachKeys') || 'ctrl-p,ctrl-q');
  } catch (err) {
    throw badRequest((err as Error).message);
  }
}

/**
 * `/exec/{id}/start` with a tty or a hijacked connection: raw bytes with a tty (the pty merges
 * stderr), multiplexed frames without.
 */
async function execHijacked(
  execs: ExecService,
  x: ExecInstance,
  proc: ExecProcess,
  q: URLSearchParams,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<symbol> {
  const tty = x.config.Tty === true;
  const size = consoleSize(q) ?? x.size;
  const h = await execs.launch(x, proc, { terminal: tty, ...(tty && size ? { consoleSize: size } : {}) });
  const client = hijack(req, res, tty ? RAW_STREAM : MULTIPLEXED_STREAM);
  h.stdout?.on('data', (b: Buffer) => client.write(tty ? b : frame('stdout', b)));
  h.stderr?.on('data', (b: Buffer) => client.write(tty ? b : frame('stderr', b)));
  h.stdin?.on('error', () => undefined);
  if (x.config.AttachStdin === true && h.stdin) {
    const stdin = h.stdin;
    client.onInput((b) => stdin.write(b));
    client.onInputEnd(() => stdin.end());
  } else h.stdin?.end();
  void client.closed.then(() => {
    if (x.running) h.kill('SIGKILL');
  });
  const r = await execs.ended(x, h);
  if (r.error) {
    const msg = Buffer.from(`tsswarm: exec failed: ${r.error.trim()}\n`);
    client.write(tty ? msg : frame('stderr', msg));
  }
  client.end();
  return HANDLED;
}

export function logQuery(q: URLSearchParams): LogQuery {
  const tailRaw = q.get('tail');
  let tail: number | undefined;
  if (tailRaw && tailRaw !== 'all') {
    tail = Number(tailRaw);
    if (!Number.isInteger(tail) || tail < 0) throw badRequest(`invalid tail "${tailRaw}": expected a number of lines or "all"`);
  }
  const num = (k: string): number | undefined => {
    const v = q.get(k);
    if (v === null || v === '' || v === '0') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw badRequest(`invalid ${k} "${v}": expected unix seconds`);
    return n;
  };
  const stdout = truthy(q.get('stdout'));
  const stderr = truthy(q.get('stderr'));
  if (!stdout && !stderr) throw badRequest('you must choose at least one stream (stdout=1 and/or stderr=1)');
  const since = num('since');
  const until = num('until');
  return { stdout, stderr, timestamps: truthy(q.get('timestamps')), ...(tail !== undefined ? { tail } : {}), ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}) };
}

/** Resolves when the container is no longer running (exit without a pending restart, or removal). */
function stopped(e: Engine, id: string, req: IncomingMessage): Promise<void> {
  return untilStopped(e, id, req, true);
}

async function logs(e: Engine, ref: string, q: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<symbol> {
  const c = e.containers.resolve(ref);
  const query = logQuery(q);
  const path = e.containers.logPath(c.Id);
  const fh = await openLog(path);
  streamHead(res);
  if (!fh) {
    res.end();
    return HANDLED;
  }
  try {
    const reader = new LineReader(fh);
    for (const en of await readEntries(reader, query)) res.write(render(en, query));
    if (truthy(q.get('follow'))) {
      await follow(reader, { ...query, tail: undefined } as LogQuery, (en) => res.write(render(en, query)), stopped(e, c.Id, req), path);
    }
  } finally {
    await fh.close();
  }
  res.end();
  return HANDLED;
}

/**
 * Streams output from now on until the container stops (attached before `start`, nothing is missed).
 * With stdin, a tty or a hijacked connection it goes through the container's monitor (attach socket):
 * input, raw tty bytes, detach keys; otherwise it follows the log.
 */
async function attach(e: Engine, ref: string, q: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<symbol> {
  const c = e.containers.resolve(ref);
  const stdin = truthy(q.get('stdin'));
  if (stdin || c.Config.Tty || wantsUpgrade(req)) {
    const detachKeys = detachKeysOf(q);
    if (stdin && !c.Config.OpenStdin) throw conflict(`container ${c.Name} was not created with an open stdin (-i)`);
    const { conn, cancel } = e.containers.attachStreams(c.Id);
    const client = hijack(req, res, c.Config.Tty ? RAW_STREAM : MULTIPLEXED_STREAM);
    void client.closed.then(cancel);
    const a = await conn;
    if (a) {
      const stdinOnce = (c.Config as { StdinOnce?: boolean }).StdinOnce === true;
      await bridge(a, client, { tty: c.Config.Tty, stdin, stdout: truthy(q.get('stdout')), stderr: truthy(q.get('stderr')), closeStdinAtEnd: stdin && stdinOnce, detachKeys });
    }
    client.end();
    return HANDLED;
  }
  const query: LogQuery = { stdout: truthy(q.get('stdout')), stderr: truthy(q.get('stderr')), timestamps: false };
  const path = e.containers.logPath(c.Id);
  // Opened before the container starts, so the output stays readable even after --rm deletes the file.
  const fh = await openLog(path);
  if (!fh) throw new ApiError(500, `container ${c.Name} has no log file at ${path}`);
  const { size } = await fh.stat();
  streamHead(res);
  try {
    const reader = new LineReader(fh, size);
    // Until started, "not running" must not end the stream: wait for the first exit instead.
    const done = e.containers.isRunning(c.Id) ? stopped(e, c.Id, req) : firstStop(e, c.Id, req);
    await follow(reader, query, (en) => res.write(render(en, query)), done, path);
  } finally {
    await fh.close();
  }
  res.end();
  return HANDLED;
}

/** `POST /containers/run`: see run-protocol.ts. */
async function run(e: Engine, body: ReturnType<typeof parseCreateBody>, q: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<symbol> {
  const cs = e.containers;
  const timings = truthy(q.get('timings'));
  const run = await RunSession.create(cs, body, q.get('name') ?? undefined, { timeline: timings });
  req.socket.once('close', run.stopped.cancel);
  const id = run.id;
  if (truthy(q.get('detach'))) {
    run.close();
    await run.start();
    sendJson(res, 201, run.created);
    return HANDLED;
  }
  const interactive = truthy(q.get('stdin')) || body.Tty === true;
  if (interactive) return runInteractive(e, run, body, q, req, res);
  const fh = await openLog(cs.logPath(id));
  if (!fh) {
    run.close();
    throw new ApiError(500, `container ${id} has no log file`);
  }
  try {
    const { size } = await fh.stat();
    const reader = new LineReader(fh, size);
    await run.start();
    res.writeHead(200, { 'Content-Type': 'application/vnd.docker.multiplexed-stream', [CONTAINER_HEADER]: id });
    res.flushHeaders();
    const query: LogQuery = { stdout: true, stderr: true, timestamps: false };
    await follow(reader, query, (en) => res.write(render(en, query)), run.stopped.done, cs.logPath(id));
    await run.removed;
  } finally {
    run.close();
    await fh.close();
  }
  const status: RunStatus = { StatusCode: run.firstExitCode };
  const t = timings ? cs.timings(id) : undefined;
  if (t) status.Timings = t;
  res.end(frameOf(STATUS_STREAM, Buffer.from(JSON.stringify(status))));
  return HANDLED;
}

/** `POST /containers/run` with stdin or a tty: see run-protocol.ts. */
async function runInteractive(e: Engine, run: RunSession, body: ReturnType<typeof parseCreateBody>, q: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<symbol> {
  const cs = e.containers;
  const id = run.id;
  let detachKeys: Buffer;
  let size: { height: number; width: number } | undefined;
  try {
    detachKeys = detachKeysOf(q);
    size = consoleSize(q);
  } catch (err) {
    run.close();
    await run.discard();
    throw err;
  }
  if (size) await cs.resize(id, size);
  const { conn, cancel } = cs.attachStreams(id);
  try {
    await run.start();
  } catch (err) {
    cancel();
    throw err;
  }
  const a = await conn;
  const client = hijack(req, res, MULTIPLEXED_STREAM, { [CONTAINER_HEADER]: id });
  const status: RunStatus = { StatusCode: 0 };
  let how: 'ended' | 'detached' | 'gone' = 'ended';
  if (a) {
    how = await bridge(a, client, {
      tty: body.Tty === true,
      stdin: truthy(q.get('stdin')),
      stdout: true,
      stderr: true,
      closeStdinAtEnd: body.StdinOnce === true,
      detachKeys,
      alwaysFrame: true,
    });
  }
  if (how === 'detached') status.Detached = true;
  else if (how === 'ended') {
    await Promise.race([Promise.all([run.stopped.done, run.removed]), client.closed]);
    status.StatusCode = run.lastExitCode;
  }
  run.close();
  client.write(frameOf(STATUS_STREAM, Buffer.from(JSON.stringify(status))));
  client.end();
  return HANDLED;
}

function frameOf(stream: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

/** Resolves at the container's next stop (or removal), even if it is not running yet, or when the client goes away. */
function firstStop(e: Engine, id: string, req: IncomingMessage): Promise<void> {
  return untilStopped(e, id, req, false);
}

/** Resolves at an exit without a pending restart, at removal or when the client goes away. */
function untilStopped(e: Engine, id: string, req: IncomingMessage, endIfNotRunning: boolean): Promise<void> {
  const w = watchStop(e.containers, id, endIfNotRunning);
  req.socket.once('close', w.cancel);
  return w.done;
}
