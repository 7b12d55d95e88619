// The runtime driver: OCI bundle in, running container out. Used in-process by the engine daemon,
// the benchmark and the tsswarm-runtime CLI. The work between clone and exec is done by tsbox.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
// Sync fs calls on purpose for the state dir (small files on /run): on the hot path of every start,
// a thread-pool round trip costs more than the call itself.
import {
  closeSync,
  constants as fsc,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  unlinkSync,
  watch,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { lookupSignal } from '../lib/signals.js';
import { isAbsolute, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { detectCgroups, runcDeviceRules } from './cgroups/index.js';
import type { CgroupManager, CgroupResources, CgroupStats } from './cgroups/types.js';
import { RuntimeError, notFound } from './errors.js';
import type { ContainerRuntime } from './runtime.js';
import { hostInfo, tsboxPath } from './host.js';
import { ATTACH_FILE, connectAttach, type AttachConnection } from './attach.js';
import { buildCreatePlan, buildExecPlan, encodePlan, rootfsPath, seccompDirectives, type PlanContext } from './plan.js';
import { SpecError, parseSpec, validateSpec, type Spec, type SpecProcess } from './spec.js';
import {
  EXIT_FILE,
  FIFO_FILE,
  PAUSED_FILE,
  STATE_FILE,
  isAlive,
  parseExit,
  processStart,
  readExit,
  readRecord,
  type ContainerRecord,
  type ExitStatus,
  type OciState,
  type Status,
} from './state.js';

export const DEFAULT_ROOT = '/run/tsswarm-runtime';
/** JSON {"lower":[top…bottom],"upper":dir,"work":dir}: mount an overlay as the root. */
export const OVERLAY_ANNOTATION = 'run.tsswarm.rootfs.overlay';
/** "true": run a tiny init as PID 1 that reaps zombies and forwards signals. */
export const INIT_ANNOTATION = 'run.tsswarm.init';

export interface OverlayRoot {
  /** Top-most first, as in overlayfs' lowerdir. */
  lower: string[];
  upper: string;
  work: string;
}

export interface RuntimeOptions {
  /** State directory root (runc's --root). */
  root?: string;
  /** Defaults to the host's (detectCgroups()); null runs without cgroups. */
  cgroups?: CgroupManager | null;
  tsbox?: string;
}

export interface CreateOptions {
  bundle: string;
  /** Use this spec instead of reading bundle/config.json. */
  spec?: Spec;
  pidFile?: string;
  /**
   * "log" (default): the monitor writes stdout/stderr as json lines to logPath.
   * "inherit": the container gets this process's stdin/stdout/stderr (the CLI, like runc).
   */
  stdio?: 'log' | 'inherit';
  /** Default <root>/<id>/container.log. */
  logPath?: string;
  /**
   * With stdio "log": "pipe" gives a writable stdin (CreateResult.stdin); "attach": the monitor holds
   * a stdin pipe fed by attach clients (Docker's OpenStdin); default none.
   */
  stdin?: 'null' | 'pipe' | 'attach';
  /** With stdin "attach": close it when the first client that wrote to it detaches (Docker's StdinOnce). */
  stdinOnce?: boolean;
  /**
   * The monitor listens on <state dir>/attach (Runtime.attach). Default: when the process has a
   * terminal or stdin is "attach", which are reachable no other way.
   */
  attachSocket?: boolean;
  /**
   * With a terminal and stdio "inherit": the pty master is sent (SCM_RIGHTS) to the unix socket at this
   * absolute path, which must be listening already, as runc's --console-socket.
   */
  consoleSocket?: string;
  rootfs?: OverlayRoot;
  init?: boolean;
  /** Keep a pipe from the monitor to learn of the exit at once (default true). */
  watchExit?: boolean;
}

export interface CreateResult {
  id: string;
  pid: number;
  stdin?: Writable;
}

export interface ExecOptions {
  /** "pipe" (default): ExecHandle.stdout/stderr/stdin streams; "inherit": this process's stdio. */
  stdio?: 'pipe' | 'inherit';
  /** A pty of the container's devpts: stdout carries its output (no stderr), stdin goes to it. */
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
}

export interface ExecHandle {
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
  /** Exit code (128+n for a signal); `error` explains a failure before exec (code 126/127). */
  wait(): Promise<{ exitCode: number; error?: string }>;
  kill(signal?: NodeJS.Signals | number): void;
  /** Sets the window size of the exec's terminal (no-op without one). */
  resize(rows: number, cols: number): void;
  /**
   * Host pid of the exec'd process once it has started (for runc's exec --pid-file); 0 if it failed
   * before exec or was already gone.
   */
  pid(): Promise<number>;
}

const STDIN_FD = 6;
const ID_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const NS_TYPES = ['user', 'ipc', 'uts', 'net', 'pid', 'cgroup', 'mnt'];

interface RawExit {
  exitCode: number;
  signal: number;
  finishedAt: string;
  statusLost?: boolean;
}

export class Runtime implements ContainerRuntime {
  readonly root: string;
  private readonly tsbox: string;
  private cgroupsOpt: CgroupManager | null | undefined;
  private readonly exits = new Map<string, Promise<RawExit | undefined>>();

  constructor(opts: RuntimeOptions = {}) {
    this.root = opts.root ?? DEFAULT_ROOT;
    this.tsbox = opts.tsbox ?? tsboxPath();
    this.cgroupsOpt = opts.cgroups;
  }

  /** Lazily, so a Runtime that only reads state never touches cgroupfs. */
  get cgroups(): CgroupManager | null {
    if (this.cgroupsOpt === undefined) this.cgroupsOpt = detectCgroups();
    return this.cgroupsOpt;
  }

  dir(id: string): string {
    if (!ID_RE.test(id)) throw new RuntimeError(`invalid container id ${JSON.stringify(id)}: use [a-zA-Z0-9][a-zA-Z0-9_.-]*`);
    return join(this.root, id);
  }

  // ---------------------------------------------------------------- create

  async create(id: string, opts: CreateOptions): Promise<CreateResult> {
    const dir = this.dir(id);
    const bundle = opts.bundle;
    let spec: Spec;
    if (opts.spec) {
      spec = validateSpec(opts.spec);
    } else {
      const path = join(bundle, 'config.json');
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        throw new RuntimeError(`${path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
      }
      spec = parseSpec(text, path);
    }
    const annotations = spec.annotations ?? {};
    const overlay = opts.rootfs ?? parseOverlayAnnotation(annotations[OVERLAY_ANNOTATION]);
    const init = opts.init ?? annotations[INIT_ANNOTATION] === 'true';
    checkPaths(spec, bundle, overlay);
    const cgroupPath = this.cgroups ? cgroupPathOf(spec, id) : null;
    const resources = toCgroupResources(spec);
    const stdio = opts.stdio ?? 'log';
    const logPath = stdio === 'log' ? (opts.logPath ?? join(dir, 'container.log')) : null;
    const terminal = spec.process?.terminal === true;
    const attachStdin = opts.stdin === 'attach' && stdio === 'log';
    const attachSocket = stdio === 'log' && (opts.attachSocket ?? (terminal || attachStdin));
    const ctx: PlanContext = {
      id,
      stateDir: dir,
      bundle,
      ...(overlay ? { overlay } : {}),
      cgroupProcs: cgroupPath !== null ? this.cgroups!.procsFiles(cgroupPath) : [],
      host: hostInfo(),
      stdio,
      // A pipe for stdin goes on fd 6, not 0: Node destroys a child's stdin stream when it exits,
      // and the tsbox we spawn exits as soon as the monitor is detached.
      stdin: stdio === 'inherit' ? 'inherit' : opts.stdin === 'pipe' ? STDIN_FD : attachStdin ? 'monitor' : 'null',
      ...(logPath ? { logPath } : {}),
      ...(attachSocket ? { attach: join(dir, ATTACH_FILE) } : {}),
      ...(opts.consoleSocket !== undefined ? { consoleSocket: opts.consoleSocket } : {}),
      ...(attachStdin && opts.stdinOnce ? { stdinOnce: true } : {}),
      init,
    };
    const plan = encodePlan(buildCreatePlan(spec, ctx));
    // Everything above only reads; from here on, whatever we make is undone if a step fails.

    mkdirSync(this.root, { recursive: true, mode: 0o711 });
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new RuntimeError(`container ${JSON.stringify(id)} already exists`, 1, 'EEXIST');
      throw err;
    }
    let cgroupMade = false;
    let pid = 0;
    try {
      if (cgroupPath !== null) {
        await this.cgroups!.create(cgroupPath, resources);
        cgroupMade = true;
      }
      const watchExit = opts.watchExit ?? true;
      const std = stdio === 'inherit' ? 'inherit' : 'ignore';
      const stdioOpt: StdioOptions = [std, std, std, 'pipe', 'pipe', watchExit ? 'pipe' : 'ignore'];
      if (opts.stdin === 'pipe' && stdio === 'log') stdioOpt.push('pipe');
      const child = spawn(this.tsbox, ['create', '3', '4', ...(watchExit ? ['5'] : [])], { stdio: stdioOpt });
      const report = collect(fdStream(child, 4));
      const exitPipe = watchExit ? collect(fdStream(child, 5)) : undefined;
      const exited = childExit(child);
      fdStream(child, 3).end(plan);
      const text = await Promise.race([report, exited.then(() => report)]);
      const m = /^ok (\d+) (\d+)\n/.exec(text);
      if (!m) {
        const status = await exited;
        throw reportError(text, status, `create ${id}`);
      }
      pid = Number(m[1]);
      const monitorPid = Number(m[2]);
      if (exitPipe) {
        this.exits.set(
          id,
          exitPipe.then(
            (t) => (t.trim() ? parseExit(t) : undefined),
            () => undefined,
          ),
        );
      }
      const record: ContainerRecord = {
        id,
        bundle,
        rootfs: rootfsPath(spec, bundle),
        pid,
        pidStart: processStart(pid) ?? 0,
        monitorPid,
        monitorStart: processStart(monitorPid) ?? 0,
        created: new Date().toISOString(),
        cgroupPath,
        annotations,
        logPath,
        process: spec.process!,
        init,
        ...(spec.linux?.seccomp ? { seccomp: spec.linux.seccomp } : {}),
      };
      writeFileSync(join(dir, STATE_FILE), JSON.stringify(record));
      if (opts.pidFile) writeFileSync(opts.pidFile, String(pid));
      const stdin = opts.stdin === 'pipe' && stdio === 'log' ? fdStream(child, STDIN_FD) : undefined;
      return { id, pid, ...(stdin ? { stdin } : {}) };
    } catch (err) {
      if (pid > 0) killQuietly(pid, 'SIGKILL');
      this.exits.delete(id);
      if (cgroupMade) await this.cgroups!.destroy(cgroupPath!).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  // ---------------------------------------------------------------- lifecycle

  async start(id: string): Promise<void> {
    const dir = this.dir(id);
    const st = await this.status(id);
    if (st.status !== 'created') throw new RuntimeError(`cannot start container ${id} in state ${st.status}`, 1, 'ESTATE');
    const fifo = join(dir, FIFO_FILE);
    let fd: number;
    try {
      // Non-blocking: succeeds only while the init holds the fifo open, so a dead init fails fast.
      fd = openSync(fifo, fsc.O_WRONLY | fsc.O_NONBLOCK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENXIO') throw new RuntimeError(`cannot start container ${id}: its init has exited`, 1, 'ESTATE');
      if (code === 'ENOENT') throw new RuntimeError(`container ${id} has already been started`, 1, 'ESTATE');
      throw err;
    }
    try {
      unlinkSync(fifo);
      writeSync(fd, '1');
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Connects to the monitor's attach socket (created with a terminal, stdin "attach" or
   * attachSocket): output from now on, stdin, resize. Connected before start, nothing is missed.
   */
  async attach(id: string): Promise<AttachConnection> {
    return connectAttach(join(this.dir(id), ATTACH_FILE));
  }

  async state(id: string): Promise<OciState> {
    const { rec, status } = await this.status(id);
    return {
      ociVersion: '1.0.2',
      id,
      status,
      pid: status === 'stopped' ? 0 : rec.pid,
      bundle: rec.bundle,
      rootfs: rec.rootfs,
      created: rec.created,
      owner: '',
      ...(Object.keys(rec.annotations).length ? { annotations: rec.annotations } : {}),
    };
  }

  private async status(id: string): Promise<{ rec: ContainerRecord; status: Status }> {
    const dir = this.dir(id);
    let rec: ContainerRecord;
    try {
      rec = readRecord(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        if (existsSync(dir)) return { rec: placeholder(id), status: 'creating' };
        throw notFound(id);
      }
      throw err;
    }
    let status: Status;
    if (existsSync(join(dir, EXIT_FILE)) || !isAlive(rec.pid, rec.pidStart)) status = 'stopped';
    else if (existsSync(join(dir, PAUSED_FILE))) status = 'paused';
    else if (existsSync(join(dir, FIFO_FILE))) status = 'created';
    else status = 'running';
    return { rec, status };
  }

  async kill(id: string, signal: NodeJS.Signals | number = 'SIGTERM', opts: { all?: boolean } = {}): Promise<void> {
    const { rec, status } = await this.status(id);
    if (status === 'stopped' || status === 'creating') throw new RuntimeError(`cannot kill container ${id}: it is ${status}`, 1, 'ESTATE');
    const sig = signal;
    if (opts.all && rec.cgroupPath !== null && this.cgroups) {
      for (const p of await this.cgroups.pids(rec.cgroupPath)) killQuietly(p, sig);
    } else {
      process.kill(rec.pid, sig);
    }
    // A frozen task only acts on SIGKILL once thawed.
    if (status === 'paused' && (sig === 'SIGKILL' || sig === 9)) await this.resume(id);
  }

  /** Waits for the init to exit; returns its status (and whether the cgroup saw an OOM kill). */
  /**
   * `onMonitorLost` is called when the monitor is found dead while the init lives (its exit pipe
   * closed with no exit record): the container runs on, and its exit status will be lost.
   */
  async wait(id: string, opts: { onMonitorLost?: () => void } = {}): Promise<ExitStatus> {
    const dir = this.dir(id);
    let rec: ContainerRecord;
    try {
      rec = readRecord(dir);
    } catch (err) {
      throw (err as NodeJS.ErrnoException).code === 'ENOENT' ? notFound(id) : err;
    }
    let raw = await this.exits.get(id);
    if (!raw && !readExit(dir) && !isAlive(rec.monitorPid, rec.monitorStart) && isAlive(rec.pid, rec.pidStart)) opts.onMonitorLost?.();
    raw ??= await waitForExitFile(dir, rec);
    let oomKilled = false;
    if (rec.cgroupPath !== null && this.cgroups) {
      oomKilled = (await this.cgroups.oomKills(rec.cgroupPath).catch(() => 0)) > 0;
    }
    return { ...raw, oomKilled };
  }

  async delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    const dir = this.dir(id);
    const { rec, status } = await this.status(id);
    if (status !== 'stopped') {
      if (!opts.force && status !== 'creating') throw new RuntimeError(`cannot delete container ${id} that is not stopped: ${status}`, 1, 'ESTATE');
      if (status !== 'creating') {
        killQuietly(rec.pid, 'SIGKILL');
        if (status === 'paused' && rec.cgroupPath !== null) await this.cgroups?.thaw(rec.cgroupPath).catch(() => undefined);
        await this.wait(id);
      }
    }
    this.exits.delete(id);
    if (rec.cgroupPath !== null && this.cgroups) await this.cgroups.destroy(rec.cgroupPath);
    rmSync(dir, { recursive: true, force: true });
  }

  async pause(id: string): Promise<void> {
    const { rec, status } = await this.status(id);
    if (status !== 'running' && status !== 'created') throw new RuntimeError(`cannot pause container ${id}: it is ${status}`, 1, 'ESTATE');
    if (rec.cgroupPath === null || !this.cgroups) throw new RuntimeError(`cannot pause container ${id}: it has no cgroup`);
    await this.cgroups.freeze(rec.cgroupPath);
    writeFileSync(join(this.dir(id), PAUSED_FILE), '');
  }

  async resume(id: string): Promise<void> {
    const { rec, status } = await this.status(id);
    if (status !== 'paused') throw new RuntimeError(`cannot resume container ${id}: it is ${status}`, 1, 'ESTATE');
    await this.cgroups!.thaw(rec.cgroupPath!);
    rmSync(join(this.dir(id), PAUSED_FILE), { force: true });
  }

  /**
   * Kills whatever is left in a cgroup and removes it: for a box whose state record never got written
   * (its creator died first), which delete() cannot find. Idempotent.
   */
  async sweepCgroup(path: string): Promise<void> {
    if (this.cgroups && (await this.cgroups.exists(path))) await this.cgroups.destroy(path);
  }

  /** Changes a live container's cgroup limits (docker update); validated by the backend before writing. */
  async update(id: string, resources: CgroupResources): Promise<void> {
    const { rec, status } = await this.status(id);
    if (status === 'stopped') throw new RuntimeError(`cannot update container ${id}: it is stopped`, 1, 'ESTATE');
    if (rec.cgroupPath === null || !this.cgroups) throw new RuntimeError(`cannot update container ${id}: it has no cgroup`);
    await this.cgroups.update(rec.cgroupPath, resources);
  }

  async stats(id: string): Promise<CgroupStats> {
    const { rec } = await this.status(id);
    if (rec.cgroupPath === null || !this.cgroups) throw new RuntimeError(`container ${id} has no cgroup`);
    return this.cgroups.stats(rec.cgroupPath);
  }

  /** Host PIDs of every process in the container. */
  async ps(id: string): Promise<number[]> {
    const { rec, status } = await this.status(id);
    if (status === 'stopped') return [];
    if (rec.cgroupPath !== null && this.cgroups) return (await this.cgroups.pids(rec.cgroupPath)).sort((a, b) => a - b);
    return [rec.pid];
  }

  async list(): Promise<OciState[]> {
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: OciState[] = [];
    for (const n of names.sort()) {
      if (!ID_RE.test(n)) continue;
      try {
        out.push(await this.state(n));
      } catch {
        // Deleted while we looked.
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- exec

  /** Runs a process in a running container: all its namespaces and its cgroup. */
  async exec(id: string, proc: Partial<SpecProcess> & { args: string[] }, opts: ExecOptions = {}): Promise<ExecHandle> {
    const { rec, status } = await this.status(id);
    if (status !== 'running' && status !== 'created') throw new RuntimeError(`cannot exec in container ${id}: it is ${status}`, 1, 'ESTATE');
    // The container's own terminal is not the exec's: only opts decide whether it gets one.
    const { consoleSize: _size, ...base } = rec.process;
    const terminal = opts.terminal === true;
    const merged = validateSpec({
      ociVersion: '1.0.2',
      root: { path: rec.rootfs },
      process: { ...base, ...proc, user: proc.user ?? rec.process.user, terminal, ...(terminal && opts.consoleSize ? { consoleSize: opts.consoleSize } : {}) },
    }).process!;
    const namespaces = NS_TYPES.filter((t) => {
      try {
        return readlinkSync(`/proc/${rec.pid}/ns/${t}`) !== readlinkSync(`/proc/self/ns/${t}`);
      } catch {
        return false;
      }
    });
    const cgroupProcs = rec.cgroupPath !== null && this.cgroups ? this.cgroups.procsFiles(rec.cgroupPath) : [];
    const plan = encodePlan([...buildExecPlan({ process: merged }, { pid: rec.pid, namespaces, cgroupProcs }), ...seccompDirectives(rec.seccomp)]);
    const s = opts.stdio ?? 'pipe';
    // fd 5: "ROWS COLS\n" lines for the terminal's size.
    const child = spawn(this.tsbox, ['exec', '3', '4', ...(terminal ? ['5'] : [])], { stdio: [s, s, s, 'pipe', 'pipe', ...(terminal ? ['pipe' as const] : [])] });
    const report = collect(fdStream(child, 4));
    const exited = childExit(child);
    fdStream(child, 3).end(plan);
    const resizer = terminal ? fdStream(child, 5) : undefined;
    resizer?.on('error', () => undefined);
    return {
      stdin: child.stdin,
      stdout: child.stdout,
      stderr: child.stderr,
      kill: (sig = 'SIGTERM') => {
        child.kill(sig);
      },
      resize: (rows, cols) => {
        if (resizer && !resizer.destroyed && child.exitCode === null) resizer.write(`${Math.trunc(rows)} ${Math.trunc(cols)}\n`);
      },
      pid: async () => {
        // tsbox forks the process and does not report its pid: find tsbox's child. It exists from the
        // fork until tsbox reaps it, so look while the report is still open (it ends at exec).
        let done = false;
        const ended = report.then(
          (t) => t,
          () => 'E',
        );
        void ended.then(() => (done = true));
        for (;;) {
          const last = done;
          const found = child.pid ? childOf(child.pid) : 0;
          if (found) return (await ended).startsWith('E') ? 0 : found;
          if (last || child.exitCode !== null) return 0;
          await new Promise((r) => setTimeout(r, 2));
        }
      },
      wait: async () => {
        const [code, text] = await Promise.all([exited, report]);
        const m = /^E(\d+) ([^]*)$/.exec(text);
        return m ? { exitCode: Number(m[1]), error: m[2]! } : { exitCode: code };
      },
    };
  }
}

// ---------------------------------------------------------------- helpers

function placeholder(id: string): ContainerRecord {
  return {
    id,
    bundle: '',
    rootfs: '',
    pid: 0,
    pidStart: 0,
    monitorPid: 0,
    monitorStart: 0,
    created: '',
    cgroupPath: null,
    annotations: {},
    logPath: null,
    process: { args: ['?'], cwd: '/', user: { uid: 0, gid: 0 } },
    init: false,
  };
}

/** Extra fds (3+) of a child spawned with 'pipe': Node types them loosely; they are sockets. */
function fdStream(child: ChildProcess, fd: number): Readable & Writable {
  const s = (child.stdio as unknown as (Readable & Writable)[])[fd];
  if (!s) throw new Error(`tsbox fd ${fd} was not set up`);
  return s;
}

function collect(stream: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString()));
    stream.on('close', () => resolve(Buffer.concat(chunks).toString()));
    stream.on('error', reject);
  });
}

/** Resolves with the exit code (128+n for a signal); rejects if the binary cannot be started. */
function childExit(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    child.on('error', (err) => reject(new RuntimeError(`cannot run tsbox: ${err.message}`)));
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? (signalNumber(signal) ?? 0) : 0)));
  });
}

function signalNumber(sig: NodeJS.Signals): number | undefined {
  return lookupSignal(sig);
}

function reportError(text: string, status: number, what: string): RuntimeError {
  const m = /^err (\d+) ([^]*?)\n?$/.exec(text);
  if (m) return new RuntimeError(`${what}: ${m[2]}`, Number(m[1]));
  return new RuntimeError(`${what}: tsbox exited with status ${status} without a report${text ? `: ${text.trim()}` : ''}`);
}

/** A child process of `ppid`, or 0. */
function childOf(ppid: number): number {
  // The kernel's own list (CONFIG_PROC_CHILDREN); tsbox is single-threaded, so its main task has them.
  try {
    const first = readFileSync(`/proc/${ppid}/task/${ppid}/children`, 'utf8').trim().split(' ')[0];
    return first ? Number(first) : 0;
  } catch {
    // Kernel without the file: scan /proc below.
  }
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
      // Fields after the parenthesised command name, which may itself hold spaces: state ppid …
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) return Number(n);
    } catch {
      // Gone meanwhile.
    }
  }
  return 0;
}

function killQuietly(pid: number, sig: NodeJS.Signals | number): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

function parseOverlayAnnotation(v: string | undefined): OverlayRoot | undefined {
  if (v === undefined) return undefined;
  let o: unknown;
  try {
    o = JSON.parse(v);
  } catch {
    throw new SpecError(`annotations.${OVERLAY_ANNOTATION}`, 'not valid JSON');
  }
  const r = o as Partial<OverlayRoot>;
  if (!Array.isArray(r.lower) || !r.lower.every((x) => typeof x === 'string') || typeof r.upper !== 'string' || typeof r.work !== 'string') {
    throw new SpecError(`annotations.${OVERLAY_ANNOTATION}`, 'must be {"lower":[dirs],"upper":dir,"work":dir}');
  }
  return { lower: r.lower, upper: r.upper, work: r.work };
}

/** Filesystem facts a spec relies on, checked before anything is created. */
function checkPaths(spec: Spec, bundle: string, overlay: OverlayRoot | undefined): void {
  const isDir = (p: string) => statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
  const root = rootfsPath(spec, bundle);
  if (!isDir(root)) throw new SpecError('root.path', `${root} does not exist or is not a directory`);
  if (overlay) {
    for (const [i, p] of overlay.lower.entries()) if (!isDir(p)) throw new SpecError(`rootfs.lower[${i}]`, `${p} is not a directory`);
    if (!isDir(overlay.upper)) throw new SpecError('rootfs.upper', `${overlay.upper} is not a directory`);
    if (!isDir(overlay.work)) throw new SpecError('rootfs.work', `${overlay.work} is not a directory`);
  }
  for (const [i, m] of (spec.mounts ?? []).entries()) {
    const bind = m.type === 'bind' || m.type === 'rbind' || m.options?.includes('bind') || m.options?.includes('rbind');
    if (!bind || !m.source) continue;
    const src = isAbsolute(m.source) ? m.source : join(bundle, m.source);
    if (!existsSync(src)) throw new SpecError(`mounts[${i}].source`, `${src} does not exist`);
  }
  for (const [i, ns] of (spec.linux?.namespaces ?? []).entries()) {
    if (ns.path && !existsSync(ns.path)) throw new SpecError(`linux.namespaces[${i}].path`, `${ns.path} does not exist`);
  }
}

export function cgroupPathOf(spec: Spec, id: string): string {
  const p = spec.linux?.cgroupsPath;
  if (!p) return `tsswarm/${id}`;
  if (p.includes(':')) throw new SpecError('linux.cgroupsPath', `systemd cgroup paths are not supported: ${JSON.stringify(p)}`);
  const rel = p.replace(/^\/+/, '').replace(/\/+$/, '');
  if (!rel || rel.split('/').some((c) => c === '..' || c === '.')) throw new SpecError('linux.cgroupsPath', `invalid path ${JSON.stringify(p)}`);
  return rel;
}

export function toCgroupResources(spec: Spec): CgroupResources {
  const r = spec.linux?.resources;
  const out: CgroupResources = {};
  // As runc: the spec's device rules, then its default allow list and linux.devices, on deny-all.
  out.devices = runcDeviceRules(r?.devices, spec.linux?.devices);
  if (!r) return out;
  if (r.memory) {
    out.memory = {
      ...(r.memory.limit !== undefined ? { limit: r.memory.limit } : {}),
      ...(r.memory.swap !== undefined ? { swap: r.memory.swap } : {}),
      ...(r.memory.reservation !== undefined ? { reservation: r.memory.reservation } : {}),
    };
  }
  if (r.cpu) {
    out.cpu = {
      ...(r.cpu.shares !== undefined ? { shares: r.cpu.shares } : {}),
      ...(r.cpu.quota !== undefined ? { quota: r.cpu.quota } : {}),
      ...(r.cpu.period !== undefined ? { period: r.cpu.period } : {}),
      ...(r.cpu.cpus !== undefined ? { cpus: r.cpu.cpus } : {}),
      ...(r.cpu.mems !== undefined ? { mems: r.cpu.mems } : {}),
    };
  }
  if (r.pids) out.pids = { limit: r.pids.limit };
  return out;
}

/** When we did not start the container (another process did), learn of its exit from the state dir. */
async function waitForExitFile(dir: string, rec: ContainerRecord): Promise<RawExit> {
  for (;;) {
    const got = readExit(dir);
    if (got) return got;
    if (!isAlive(rec.monitorPid, rec.monitorStart) && !isAlive(rec.pid, rec.pidStart)) {
      const again = readExit(dir);
      if (again) return again;
      // The monitor was killed before it could record anything: the status is lost.
      return { exitCode: 255, signal: 0, finishedAt: new Date().toISOString(), statusLost: true };
    }
    await new Promise<void>((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        watcher.close();
        resolve();
      };
      const watcher = watch(dir, (_ev, name) => {
        if (name === EXIT_FILE) finish();
      });
      watcher.on('error', finish);
      // Also look again now and then: the monitor may die without writing.
      const timer = setTimeout(finish, 1000);
      if (existsSync(join(dir, EXIT_FILE))) finish();
    });
  }
}
