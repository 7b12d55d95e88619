// Exec sessions (`docker exec`): the registry of exec instances and their lifecycle — create against
// a running container, start (detached or with streams the caller wires), resize, inspect, and the
// recorded exit code kept for a while so `exec inspect` can read it.
import { randomBytes } from 'node:crypto';
import { conflict, invalid, notFound } from '../../lib/errors.js';
import type { ContainerRuntime, ExecHandle } from '../../runtime/index.js';
import type { ImageStore } from '../../image/index.js';
import type { ContainerRecord } from './record.js';
import { resolveUser } from './spec.js';

/** What `POST /containers/{id}/exec` asks for (Docker's ExecConfig, the fields this engine uses). */
export interface ExecConfig {
  Cmd: string[];
  Env?: string[] | null | undefined;
  User?: string | null | undefined;
  WorkingDir?: string | null | undefined;
  AttachStdin?: boolean | null | undefined;
  AttachStdout?: boolean | null | undefined;
  AttachStderr?: boolean | null | undefined;
  Tty?: boolean | null | undefined;
  Privileged?: boolean | null | undefined;
}

export interface ExecInstance {
  id: string;
  containerId: string;
  config: ExecConfig;
  running: boolean;
  exitCode: number | null;
  pid: number;
  handle?: ExecHandle;
  /** A resize before the start: the terminal's first size. */
  size?: { height: number; width: number };
}

export interface ExecProcess {
  args: string[];
  env?: string[];
  cwd?: string;
  user?: { uid: number; gid: number };
}

/** Docker's `GET /exec/{id}/json`. */
export interface ExecInspect {
  ID: string;
  ContainerID: string;
  Running: boolean;
  ExitCode: number | null;
  Pid: number;
  ProcessConfig: { entrypoint: string | undefined; arguments: string[]; tty: boolean };
}

export interface ExecServiceDeps {
  runtime: ContainerRuntime;
  images: ImageStore;
  resolve(ref: string): ContainerRecord;
}

/** How long a finished exec stays inspectable: long enough for a client to ask, bounded for memory. */
const KEEP_FINISHED_MS = 5 * 60_000;

export class ExecService {
  private readonly execs = new Map<string, ExecInstance>();

  constructor(private readonly d: ExecServiceDeps) {}

  /** Registers an exec in a running container; a paused or stopped one is a conflict. */
  create(ref: string, config: ExecConfig): string {
    const c = this.d.resolve(ref);
    if (c.State.Status === 'paused') throw conflict(`Container ${c.Id} is paused, unpause the container before exec`);
    if (c.State.Status !== 'running') throw conflict(`Container ${c.Id} is not running`);
    const id = randomBytes(32).toString('hex');
    this.execs.set(id, { id, containerId: c.Id, config, running: false, exitCode: null, pid: 0 });
    return id;
  }

  get(id: string): ExecInstance {
    const x = this.execs.get(id);
    if (!x) throw notFound(`No such exec instance: ${id}`);
    return x;
  }

  inspect(id: string): ExecInspect {
    const x = this.get(id);
    return { ID: x.id, ContainerID: x.containerId, Running: x.running, ExitCode: x.exitCode, Pid: x.pid, ProcessConfig: { entrypoint: x.config.Cmd[0], arguments: x.config.Cmd.slice(1), tty: x.config.Tty ?? false } };
  }

  /** Resizes a running exec's terminal, or remembers the size for its start. Without a tty: nothing. */
  resize(id: string, size: { height: number; width: number }): void {
    const x = this.get(id);
    if (!x.config.Tty) return;
    if (x.handle) x.handle.resize(size.height, size.width);
    else x.size = size;
  }

  /**
   * The process an exec start runs (env merged over the container's, user resolved in its image); an
   * exec that was started already is a conflict.
   */
  prepare(id: string): { x: ExecInstance; container: ContainerRecord; proc: ExecProcess } {
    const x = this.get(id);
    if (x.running || x.exitCode !== null) throw conflict(`exec ${x.id} has already been started`);
    const c = this.d.resolve(x.containerId);
    const cfg = x.config;
    const env = [...(cfg.Env ?? [])];
    const proc: ExecProcess = { args: cfg.Cmd };
    if (env.length) proc.env = mergeEnvList(c.Config.Env, env);
    if (cfg.WorkingDir) proc.cwd = cfg.WorkingDir;
    if (cfg.User) {
      try {
        proc.user = resolveUser(cfg.User, this.d.images.lowerDirs(c.Image));
      } catch (err) {
        throw invalid(`exec: ${(err as Error).message}`);
      }
    }
    return { x, container: c, proc };
  }

  /** Runs the prepared process; the caller wires the handle's streams, then awaits ended(). */
  async launch(x: ExecInstance, proc: ExecProcess, opts: { terminal?: boolean; consoleSize?: { height: number; width: number } } = {}): Promise<ExecHandle> {
    const h = await this.d.runtime.exec(x.containerId, proc, opts);
    x.running = true;
    x.handle = h;
    return h;
  }

  /** `exec -d`: runs with no streams attached and records the exit in the background. */
  async startDetached(id: string): Promise<void> {
    const { x, proc } = this.prepare(id);
    const h = await this.launch(x, proc);
    h.stdout?.resume();
    h.stderr?.resume();
    h.stdin?.end();
    void h.wait().then(
      (r) => {
        x.running = false;
        x.exitCode = r.exitCode;
        this.forgetLater(x);
      },
      () => {
        x.running = false;
      },
    );
  }

  /** Waits for the exec's process and all its output to end, and records the exit for inspect. */
  async ended(x: ExecInstance, h: ExecHandle): Promise<{ exitCode: number; error?: string }> {
    // Listening for 'end' before the wait: the output may well end before the process is reaped.
    const outDone = Promise.all([h.stdout ? streamEnd(h.stdout) : undefined, h.stderr ? streamEnd(h.stderr) : undefined]);
    const r = await h.wait();
    await outDone;
    x.running = false;
    x.exitCode = r.exitCode;
    return r;
  }

  /** Drops a finished exec after a while (kept meanwhile so `exec inspect` can read its exit code). */
  forgetLater(x: ExecInstance): void {
    setTimeout(() => this.execs.delete(x.id), KEEP_FINISHED_MS).unref();
  }
}

function streamEnd(s: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    s.once('end', () => resolve());
    s.once('close', () => resolve());
  });
}

function mergeEnvList(base: string[], extra: string[]): string[] {
  const m = new Map<string, string>();
  for (const v of [...base, ...extra]) m.set(v.split('=')[0]!, v);
  return [...m.values()];
}
