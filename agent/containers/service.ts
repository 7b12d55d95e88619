// The container service behind `/containers/*`: records, lifecycle through the runtime, networking
// at start, exit handling (restart policies, --rm), healthchecks, and reconciliation at daemon start.
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hostname as hostName } from 'node:os';
import { DomainError, conflict, invalid, notFound } from '../../lib/errors.js';
import { RecordStore } from '../store/records.js';
import type { Logger } from '../../lib/log.js';
import { signalReaches } from '../../runtime/signal-disposition.js';
import { runConfig, type ImageStore } from '../../image/index.js';
import { RuntimeError, SpecError, tweakCapabilities, DEFAULT_CAPABILITIES, type AttachConnection, type ContainerRuntime, type ExitStatus } from '../../runtime/index.js';
import { NetworkError, type NetworkManager } from '../../network/manager.js';
import type { VolumeService } from '../volumes/service.js';
import type { ContainerCreateBody } from './create-config.js';
import { NameIndex, newId, randomName, validateName } from './names.js';
import { decideRestart } from './restart-policy.js';
import { applyProbe, initialHealth, nextProbeDelay, resolveHealthcheck, type ResolvedHealthcheck } from './health.js';
import { isActive, validateRecord, type ContainerRecord } from './record.js';
import { cgroupPathOfContainer, containerSpec, resolveUser, specResources } from './spec.js';
import { planUpdate, UpdateError, type UpdateBody } from './update.js';
import { CgroupError, type CgroupResources } from '../../runtime/cgroups/index.js';
import { createVolumes, planMounts } from './mounts.js';
import { Timelines } from './timeline.js';
import { containerConfig, imageHealth, mergeEnv, mergeHealth } from './create-defaults.js';
import { SHUTDOWN_MARK, exitCodeAtLoad, nextAtLoad } from './reconcile.js';
import { RestartTimers } from './restart-timers.js';
import { AttachWaiters } from './attach-waiters.js';
import { runProbe } from './health-runner.js';
import { connectNetworks, writeNameFiles } from './network-wiring.js';
import { EventBus } from '../events.js';
import { parseSignal } from '../../lib/signals.js';

export interface ContainerServiceDeps {
  dataRoot: string;
  /** Containers' cgroups go under this (the daemon's --cgroup-parent). */
  cgroupParent?: string;
  images: ImageStore;
  runtime: ContainerRuntime;
  volumes: VolumeService;
  network: NetworkManager;
  log: Logger;
  /** The daemon's event bus; a service of its own when absent (unit tests). */
  bus?: EventBus;
}

/** How a standalone container joins an attachable swarm overlay this node does not have yet. */
export interface SwarmNetworks {
  /** The node's side of the overlay made, and the container's address on it; undefined outside a swarm. */
  attach(network: string, containerId: string, containerName: string): Promise<{ gateway: string; network: string; ip: string } | undefined>;
  detach(containerId: string): void;
  /** Whether a network (by local name) is the node's side of a swarm network. */
  isSwarmNetwork(name: string): boolean;
}

interface Running {
  /** Resolves after the exit has been recorded (state saved, network released). */
  exited: Promise<void>;
  stoppedByUser: boolean;
  startedMs: number;
  healthTimer?: NodeJS.Timeout;
}

const now = (): string => new Date().toISOString();

/** The limits a HostConfig had before a refused update, to write back (a lifted pids limit as -1). */
function undoResources(h: ContainerRecord['HostConfig']): CgroupResources {
  const r = specResources(h);
  return { ...(r.memory ? { memory: r.memory } : {}), ...(r.cpu ? { cpu: r.cpu } : {}), pids: { limit: h.PidsLimit ? h.PidsLimit : -1 } };
}



export interface ConsoleSize {
  height: number;
  width: number;
}
const ZERO_TIME = '0001-01-01T00:00:00Z';

export class ContainerService {
  readonly events = new EventEmitter();
  /** The daemon's Docker event stream (GET /events); every service publishes to this one bus. */
  readonly bus: EventBus;
  private readonly store: RecordStore<ContainerRecord>;
  private readonly names = new NameIndex('container');
  private readonly running = new Map<string, Running>();
  private readonly restartTimers = new RestartTimers();
  private readonly locks = new Map<string, Promise<unknown>>();
  private shuttingDown = false;
  /**
   * Kernel and file clean-up still running after an exit (network release, runtime state): the exit
   * is reported without waiting for it; the next start or removal of the container waits instead.
   */
  private readonly cleanups = new Map<string, Promise<void>>();
  /** Every clean-up or removal still running in the background, for settle(). */
  private readonly background = new Set<Promise<void>>();
  private readonly tl: Timelines;
  /** Attach requests for containers not running yet: served at the next start, before the process runs. */
  private readonly attachWaiters: AttachWaiters;
  /** Terminal size for a container's next start (resize before start, or run -t's size). */
  private readonly consoleSizes = new Map<string, ConsoleSize>();

  constructor(private readonly d: ContainerServiceDeps) {
    this.bus = d.bus ?? new EventBus();
    this.store = new RecordStore<ContainerRecord>(join(d.dataRoot, 'containers'), { validate: validateRecord });
    this.events.setMaxListeners(0);
    this.attachWaiters = new AttachWaiters(this.events);
    this.tl = new Timelines(d.log, process.env.TSSWARM_LOG_LEVEL === 'debug');
  }

  dir(id: string): string {
    return join(this.d.dataRoot, 'containers', id);
  }
  logPath(id: string): string {
    return join(this.dir(id), `${id}-json.log`);
  }

  // ------------------------------------------------------------------ lookup

  resolve(ref: string): ContainerRecord {
    const id = this.names.resolve(ref);
    const c = this.store.get(id);
    if (!c) throw notFound(`No such container: ${ref}`);
    return c;
  }
  tryGet(id: string): ContainerRecord | undefined {
    return this.store.get(id);
  }
  list(): ContainerRecord[] {
    return this.store.all().sort((a, b) => b.Created.localeCompare(a.Created));
  }
  isRunning(id: string): boolean {
    return this.running.has(id);
  }
  uptimeMs(id: string): number | undefined {
    const r = this.running.get(id);
    return r ? Date.now() - r.startedMs : undefined;
  }

  /** Serialises lifecycle operations per container. */
  private locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.locks.set(id, tail);
    void tail.then(() => {
      if (this.locks.get(id) === tail) this.locks.delete(id);
    });
    return next;
  }

  /**
   * Persists a record. State changes the daemon re-derives from the runtime at start (running,
   * exited, health) are written without fsync; the record made by create is written durably.
   */
  private save(c: ContainerRecord, durable = false): Promise<void> {
    return this.store.put(c.Id, c, { durable });
  }

  /** Resolves when no removal or post-exit clean-up runs in the background any more. */
  async settle(): Promise<void> {
    while (this.background.size) await Promise.allSettled([...this.background]);
  }

  /** True while something runs in the background (other objects' API calls then wait: see daemon.ts). */
  get busy(): boolean {
    return this.background.size > 0;
  }

  private track(p: Promise<void>): Promise<void> {
    const t = p.catch((e: Error) => this.d.log.warn('background clean-up failed', { err: e }));
    this.background.add(t);
    void t.then(() => this.background.delete(t));
    return p;
  }

  /** Timings of a container's steps so far (when a timeline was started for it), see timeline.ts. */
  timings(id: string): Record<string, number> | undefined {
    return this.tl.snapshot(id);
  }

  // ------------------------------------------------------------------ create

  /** Attachable swarm overlays for standalone containers (set by the daemon when it runs a swarm node). */
  private swarmNetworks: SwarmNetworks | undefined;

  setSwarmNetworks(s: SwarmNetworks): void {
    this.swarmNetworks = s;
  }

  async create(body: ContainerCreateBody, nameArg: string | undefined, opts: { timeline?: boolean } = {}): Promise<{ Id: string; Warnings: string[] }> {
    const t0 = performance.now();
    const imageRef = body.Image!;
    const img = this.d.images.get(imageRef);
    const rc = await runConfig(this.d.images, img.id);
    const lowerDirs = this.d.images.lowerDirs(img.id);
    const h = body.HostConfig ?? {};

    // Everything that can be refused is checked before anything is made.
    const env = mergeEnv(rc.Env, body.Env ?? []);
    let entrypoint: string[] | null = body.Entrypoint ?? (rc.Entrypoint.length ? rc.Entrypoint : null);
    if (entrypoint && entrypoint.length === 1 && entrypoint[0] === '') entrypoint = null;
    const cmd = body.Cmd ?? (body.Entrypoint !== undefined ? [] : rc.Cmd);
    const argv = [...(entrypoint ?? []), ...cmd];
    if (argv.length === 0) throw invalid('No command specified (the image has no CMD or ENTRYPOINT; give a command after the image name)');
    const user = body.User ?? rc.User;
    try {
      resolveUser(user, lowerDirs);
    } catch (e) {
      throw invalid(`Config.User: ${(e as Error).message}`);
    }
    try {
      tweakCapabilities(DEFAULT_CAPABILITIES, h.CapAdd ?? [], h.CapDrop ?? []);
    } catch (e) {
      throw invalid(`HostConfig.${(e as Error).message.replace(/^capAdd/, 'CapAdd').replace(/^capDrop/, 'CapDrop')}`);
    }
    const mode = !h.NetworkMode || h.NetworkMode === 'default' ? 'bridge' : h.NetworkMode;
    const networks: ContainerRecord['Networks'] = {};
    let id: string | undefined;
    let name: string | undefined;
    let attached = false;
    if (mode.startsWith('container:')) {
      this.resolve(mode.slice('container:'.length));
    } else if (mode !== 'host' && mode !== 'none') {
      let local = true;
      try {
        this.d.network.inspectNetwork(mode);
      } catch (e) {
        if (!(e instanceof NetworkError && e.kind === 'not-found')) throw e;
        local = false;
      }
      // The node's side of a swarm network is not for direct use: a standalone container gets its
      // address from the managers, like a task.
      if (local && this.swarmNetworks?.isSwarmNetwork(mode)) local = false;
      const ep = body.NetworkingConfig?.EndpointsConfig?.[mode];
      if (local) {
        networks[mode] = { Aliases: ep?.Aliases ?? [], ...(ep?.IPAMConfig?.IPv4Address ? { IPv4Address: ep.IPAMConfig.IPv4Address } : {}) };
      } else {
        // Not a network of this node: an attachable swarm overlay, if the managers have one of that name.
        id = newId();
        name = nameArg ? validateName(nameArg) : randomName((n) => this.names.hasName(n));
        const att = await this.swarmNetworks?.attach(mode, id, name).catch((e: Error) => {
          throw notFound(`network ${mode} not found here, and the swarm refused it: ${e.message}`);
        });
        if (!att) throw notFound(`network ${mode} not found (HostConfig.NetworkMode; create it with: tsswarm network create ${mode})`);
        attached = true;
        // The gateway bridge first (egress and names), then the overlay at the managers' address.
        networks[att.gateway] = { Aliases: [] };
        networks[att.network] = { Aliases: ep?.Aliases ?? [], IPv4Address: att.ip };
      }
    }
    const healthcheck = mergeHealth(body.Healthcheck, imageHealth(rc.Healthcheck ?? null));
    if (healthcheck) {
      try {
        resolveHealthcheck(healthcheck);
      } catch (e) {
        throw invalid(`Healthcheck: ${(e as Error).message}`);
      }
    }
    const plan = planMounts(body, rc.Volumes);

    id ??= newId();
    this.tl.begin(id, t0, opts.timeline ?? false);
    this.tl.mark(id, 'create.validate');
    name ??= nameArg ? validateName(nameArg) : randomName((n) => this.names.hasName(n));
    try {
      this.names.add(id, name);
    } catch (e) {
      if (attached) this.swarmNetworks?.detach(id);
      throw e;
    }
    const dir = this.dir(id);
    let created: string[] = [];
    try {
      const vols = await createVolumes(plan, this.d.volumes, lowerDirs, id);
      created = vols.created;
      // --network host: the host's name, as Docker does.
      const hostname = body.Hostname || (mode === 'host' ? hostName() : id.slice(0, 12));
      const config = containerConfig(body, rc, { hostname, user, env, cmd, entrypoint, healthcheck });
      parseSignal(config.StopSignal);
      const rec: ContainerRecord = {
        Id: id,
        Name: name,
        Created: now(),
        Image: img.id,
        Path: argv[0]!,
        Args: argv.slice(1),
        Config: config,
        HostConfig: { ...h, NetworkMode: mode },
        Networks: networks,
        State: { Status: 'created', Pid: 0, ExitCode: 0, Error: '', OOMKilled: false, StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME },
        RestartCount: 0,
        RestartDelayMs: 0,
        ManuallyStopped: false,
        Mounts: plan.mounts,
      };
      this.tl.mark(id, 'create.volumes');
      // Independent steps, each waiting on the disk: concurrently.
      const files = (async () => {
        await mkdir(join(dir, 'rootfs'), { recursive: true, mode: 0o700 });
        await Promise.all([mkdir(join(dir, 'upper')), mkdir(join(dir, 'work')), writeFile(this.logPath(id), '', { flag: 'a', mode: 0o640 })]);
      })();
      await Promise.all([files, this.d.images.acquire(img.id, id), this.save(rec, true)]);
      this.tl.mark(id, 'create.filesImageRecord');
    } catch (err) {
      this.tl.flush(id, 'container create failed');
      this.names.remove(id);
      if (attached) this.swarmNetworks?.detach(id);
      for (const m of plan.mounts) if (m.Name) this.d.volumes.release(m.Name, id);
      for (const n of created) await this.d.volumes.remove(n, { force: true }).catch(() => undefined);
      await this.d.images.release(id).catch(() => undefined);
      await this.store.delete(id).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    this.d.log.info('container created', { id, name, image: imageRef });
    const made = this.store.get(id);
    if (made) this.publish(made, 'create');
    return { Id: id, Warnings: [] };
  }

  /** A container event with Docker's attributes: the labels, image and name, then the extras. */
  private publish(c: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.bus.publish('container', action, c.Id, { ...(c.Config.Labels ?? {}), image: c.Config.Image, name: c.Name, ...extra });
  }

  // ------------------------------------------------------------------ start

  /** Returns false when it was already running (the API answers 304). */
  start(ref: string): Promise<boolean> {
    const c0 = this.resolve(ref);
    this.tl.mark(c0.Id, 'api.toStart');
    return this.locked(c0.Id, async () => {
      const c = this.resolve(c0.Id);
      if (c.State.Status === 'running' || c.State.Status === 'paused') return false;
      if (c.State.Status === 'removing') throw conflict(`container ${c.Name} is marked for removal and cannot be started`);
      this.cancelRestart(c.Id);
      c.ManuallyStopped = false;
      await this.startLocked(c);
      return true;
    });
  }

  private async startLocked(c: ContainerRecord): Promise<void> {
    const id = c.Id;
    // The previous run's network and runtime state must be gone before this one makes its own.
    await this.cleanups.get(id);
    const dir = this.dir(id);
    const h = c.HostConfig;
    const mode = h.NetworkMode ?? 'bridge';
    let netns: string | undefined;
    if (mode === 'host') netns = 'host';
    else if (mode.startsWith('container:')) {
      const other = this.resolve(mode.slice('container:'.length));
      if (other.State.Status !== 'running') throw conflict(`cannot join network of a non running container: ${other.Name}`);
      netns = `/proc/${other.State.Pid}/ns/net`;
    }
    const hostname = c.Config.Hostname + (c.Config.Domainname ? `.${c.Config.Domainname}` : '');
    // create made the directories; a start after a crash or an upgrade may find them missing.
    if (!existsSync(join(dir, 'work'))) {
      await mkdir(join(dir, 'rootfs'), { recursive: true, mode: 0o700 });
      await mkdir(join(dir, 'upper'), { recursive: true });
      await mkdir(join(dir, 'work'), { recursive: true });
    }
    // The spec bind-mounts these three, so they must exist before the runtime checks its paths;
    // hosts and resolv.conf get their content once the network is connected.
    await Promise.all([writeFile(join(dir, 'hostname'), `${c.Config.Hostname}\n`), writeFile(join(dir, 'hosts'), ''), writeFile(join(dir, 'resolv.conf'), '')]);
    const lowerDirs = this.d.images.lowerDirs(c.Image);
    this.tl.mark(id, 'start.dirsFiles');
    let spec;
    try {
      spec = containerSpec(c, { lowerDirs, dir, ...(netns ? { netns } : {}), cgroupParent: this.d.cgroupParent ?? 'tsswarm' });
    } catch (e) {
      if (e instanceof SpecError) throw invalid(e.message);
      throw e;
    }
    if (c.Config.Tty && spec.process) {
      spec.process.terminal = true;
      const size = this.consoleSizes.get(id);
      if (size) spec.process.consoleSize = size;
    }
    this.consoleSizes.delete(id);
    this.tl.mark(id, 'start.spec');
    // A runtime state left by a crash between create and start would block the id.
    if (existsSync(this.d.runtime.dir(id))) await this.d.runtime.delete(id, { force: true }).catch(() => undefined);
    let made = false;
    try {
      const box = await this.d.runtime.create(id, {
        bundle: dir,
        spec,
        logPath: this.logPath(id),
        rootfs: { lower: lowerDirs, upper: join(dir, 'upper'), work: join(dir, 'work') },
        init: h.Init ?? false,
        // Always: attach, resize and stdin reach a running container through its monitor's socket.
        attachSocket: true,
        stdin: c.Config.OpenStdin ? 'attach' : 'null',
        stdinOnce: c.Config.StdinOnce === true,
      });
      made = true;
      this.tl.mark(id, 'runtime.create');
      // Attach requests made before the start connect now, while the process waits on its exec fifo.
      await this.attachWaiters.serve(id, () => this.d.runtime.attach(id).catch(() => undefined));
      const pid = box.pid;
      if (!netns) await connectNetworks(this.d.network, c, pid);
      this.tl.mark(id, 'network.connect');
      await writeNameFiles(this.d.network, c, dir, hostname, netns === 'host');
      this.tl.mark(id, 'start.hostsResolv');
      await this.d.runtime.start(id);
      this.tl.mark(id, 'runtime.start');
      c.State = { ...c.State, Status: 'running', Pid: pid, ExitCode: 0, Error: '', OOMKilled: false, StartedAt: now(), FinishedAt: ZERO_TIME };
      const hc = c.Config.Healthcheck ? resolveHealthcheck(c.Config.Healthcheck) : undefined;
      if (hc) c.State.Health = initialHealth();
      else delete c.State.Health;
      await this.save(c);
      this.tl.mark(id, 'start.save');
      this.watch(c, hc);
      this.d.log.info('container started', { id, name: c.Name, pid });
      this.publish(c, 'start');
    } catch (err) {
      await this.d.network.releaseContainer(id).catch(() => undefined);
      if (made) await this.d.runtime.delete(id, { force: true }).catch(() => undefined);
      // The driver prefixes "create ID: "; the container's name is said below.
      const msg = (err instanceof Error ? err.message : String(err)).replace(`create ${id}: `, '');
      c.State = { ...c.State, Status: c.State.Status === 'restarting' ? 'exited' : c.State.Status === 'created' ? 'created' : 'exited', Pid: 0, Error: msg, ExitCode: err instanceof RuntimeError && (err.exitCode === 126 || err.exitCode === 127) ? err.exitCode : 128 };
      await this.save(c);
      if (err instanceof NetworkError) throw new DomainError(err.kind, msg);
      if (err instanceof DomainError) throw err;
      if (err instanceof RuntimeError || err instanceof SpecError) throw new DomainError('internal', `failed to start container ${c.Name}: ${msg}`);
      throw err;
    }
  }

  /** Follows a started (or re-attached) container until it exits. */
  private watch(c: ContainerRecord, hc: ResolvedHealthcheck | undefined, startedMs = Date.now()): void {
    const id = c.Id;
    const r: Running = { exited: Promise.resolve(), stoppedByUser: false, startedMs };
    const onMonitorLost = (): void => {
      // The keeper (runtime/native/tsbox.c) goes on logging; only the exit status is out of reach.
      this.d.log.warn('container monitor died; the container runs on, its exit status will be lost', { id, name: c.Name });
      this.publish(c, 'monitor-lost');
    };
    r.exited = this.d.runtime.wait(id, { onMonitorLost }).then(
      (st) => this.onExit(id, r, st),
      (err: unknown) => this.onExit(id, r, { exitCode: 255, signal: 0, finishedAt: now(), oomKilled: false }, err),
    );
    this.running.set(id, r);
    if (hc) this.scheduleProbe(id, r, hc, hc.startPeriodMs > 0 ? Math.min(hc.startIntervalMs, hc.intervalMs) : hc.intervalMs);
  }

  private async onExit(id: string, r: Running, st: ExitStatus, err?: unknown): Promise<void> {
    if (r.healthTimer) clearTimeout(r.healthTimer);
    this.tl.mark(id, 'running');
    const exitCode = st.signal ? 128 + st.signal : st.exitCode;
    // Releasing the network (deleting a veth waits for RCU grace periods in the kernel: ~15 ms), the
    // cgroup and the runtime state is not needed to report the exit, so it runs behind the report.
    const cleanup = this.cleanUpAfterExit(id);
    this.running.delete(id);
    const c = this.store.get(id);
    if (!c) return cleanup;
    const ranForMs = Date.now() - r.startedMs;
    c.State = {
      ...c.State,
      Status: 'exited',
      Pid: 0,
      ExitCode: exitCode,
      OOMKilled: st.oomKilled,
      FinishedAt: st.finishedAt || now(),
      ...(err ? { Error: String((err as Error).message ?? err) } : {}),
      ...(st.statusLost ? { Error: 'the container outlived its monitor: its exit status is lost (recorded as 255)' } : {}),
    };
    const decision = decideRestart(
      c.HostConfig.RestartPolicy as Parameters<typeof decideRestart>[0],
      { restartCount: c.RestartCount, delayMs: c.RestartDelayMs },
      { exitCode, ranForMs, stoppedByUser: r.stoppedByUser, daemonShutdown: this.shuttingDown },
    );
    c.RestartDelayMs = decision.next.delayMs;
    if (decision.restart && !c.HostConfig.AutoRemove) {
      c.RestartCount = decision.next.restartCount;
      c.State.Status = 'restarting';
    }
    this.d.log.info('container exited', { id, exitCode, restart: c.State.Status === 'restarting' });
    this.publish(c, 'die', { exitCode: String(exitCode) });
    this.events.emit(`exit:${id}`, exitCode);
    this.tl.mark(id, 'exit.report');
    if (c.State.Status !== 'restarting' && c.HostConfig.AutoRemove && !this.shuttingDown) {
      // Not awaited: the removal's visible part is done when removeRecord returns its promise.
      void this.removeRecord(c, true).catch((e: Error) => this.d.log.warn('auto-remove failed', { id, err: e }));
      return;
    }
    await this.save(c);
    // stop and kill resolve on `exited`: by then the container's kernel state is gone as well.
    await cleanup;
    this.tl.mark(id, 'exit.saveCleanUp');
    this.tl.flush(id, 'container timeline');
    if (c.State.Status === 'restarting') {
      this.restartTimers.schedule(id, decision.delayMs, () => {
        void this.locked(id, async () => {
          const cur = this.store.get(id);
          if (!cur || cur.State.Status !== 'restarting') return;
          await this.startLocked(cur).catch((e: Error) => this.d.log.warn('restart failed', { id, err: e }));
        });
      });
    }
  }

  /** Network release and runtime delete after an exit, in the background; see `cleanups`. */
  private cleanUpAfterExit(id: string): Promise<void> {
    // Both calls are made now, synchronously: the network manager queues operations in call order,
    // so a later connect (or publish of the same port) is applied after this release.
    const p = Promise.all([
      this.d.network.releaseContainer(id).catch((e: Error) => this.d.log.warn('network release failed', { id, err: e })),
      this.d.runtime.delete(id, { force: true }).catch((e: Error) => this.d.log.warn('runtime delete failed', { id, err: e })),
    ]).then(() => {
      this.tl.mark(id, 'cleanup.networkRuntime');
      if (this.cleanups.get(id) === p) this.cleanups.delete(id);
    });
    this.cleanups.set(id, p);
    return this.track(p);
  }

  private cancelRestart(id: string): void {
    this.restartTimers.cancel(id);
  }

  // ------------------------------------------------------------------ health

  private scheduleProbe(id: string, r: Running, hc: ResolvedHealthcheck, delayMs: number): void {
    r.healthTimer = setTimeout(() => void this.probe(id, r, hc), delayMs);
    r.healthTimer.unref();
  }

  private async probe(id: string, r: Running, hc: ResolvedHealthcheck): Promise<void> {
    if (this.running.get(id) !== r) return;
    const result = await runProbe(this.d.runtime, id, hc);
    const c = this.store.get(id);
    if (!c || this.running.get(id) !== r) return;
    const before = c.State.Health?.Status;
    c.State.Health = applyProbe(c.State.Health ?? initialHealth(), result, hc, r.startedMs);
    // Docker reports a change of health only, not every probe.
    if (c.State.Health.Status !== before && c.State.Health.Status !== 'starting') this.publish(c, `health_status: ${c.State.Health.Status}`);
    await this.save(c);
    this.scheduleProbe(id, r, hc, nextProbeDelay(c.State.Health, hc, r.startedMs, Date.now()));
  }

  // ------------------------------------------------------------------ attach, resize

  /**
   * A connection to the container's monitor (output, stdin, resize): at once when it runs, else at its
   * next start, after the runtime has created it and before its process runs, so nothing is missed.
   * Resolves undefined when the container is removed first or `cancel` is called.
   */
  attachStreams(id: string): { conn: Promise<AttachConnection | undefined>; cancel: () => void } {
    const rec = this.store.get(id);
    if (rec) this.publish(rec, 'attach');
    if (this.running.has(id)) {
      return { conn: this.d.runtime.attach(id).catch(() => undefined), cancel: () => undefined };
    }
    return this.attachWaiters.wait(id);
  }

  /** Sets the terminal size: now when running with a tty, else for the next start. */
  async resize(ref: string, size: ConsoleSize): Promise<void> {
    const c = this.resolve(ref);
    if (!c.Config.Tty) return;
    if (!this.running.has(c.Id)) {
      this.consoleSizes.set(c.Id, size);
      return;
    }
    const conn = await this.d.runtime.attach(c.Id).catch(() => undefined);
    if (!conn) return;
    conn.resize(size.height, size.width);
    conn.socket.end();
  }

  // ------------------------------------------------------------------ stop, kill, restart

  /** Returns false when it was not running (the API answers 304). */
  stop(ref: string, timeoutSec?: number, signal?: string): Promise<boolean> {
    const c0 = this.resolve(ref);
    return this.locked(c0.Id, async () => {
      const stopped = await this.stopLocked(c0.Id, timeoutSec, signal);
      if (stopped) this.publish(c0, 'stop');
      return stopped;
    });
  }

  private async stopLocked(id: string, timeoutSec?: number, signal?: string): Promise<boolean> {
    const c = this.store.get(id);
    if (!c) throw notFound(`No such container: ${id}`);
    if (c.State.Status === 'restarting') {
      this.cancelRestart(id);
      c.State.Status = 'exited';
      c.ManuallyStopped = true;
      await this.save(c);
      return true;
    }
    const r = this.running.get(id);
    if (!r) return false;
    r.stoppedByUser = true;
    c.ManuallyStopped = true;
    let sig = parseSignal(signal || c.Config.StopSignal || 'SIGTERM');
    let t = timeoutSec ?? c.Config.StopTimeout ?? 10;
    try {
      if (c.State.Status === 'paused') await this.d.runtime.resume(id).catch(() => undefined);
      // A PID 1 in its own PID namespace never receives a signal it has no handler for: waiting the
      // grace period for it is waiting for nothing. Our --init catches and forwards, so it keeps it.
      if (sig !== 9 && !c.HostConfig.Init && c.State.Pid > 0 && (await signalReaches(c.State.Pid, sig)) === false) {
        this.d.log.info('stop signal not caught by PID 1: killing at once', { id, signal: sig });
        this.publish(c, 'kill', { signal: '9', reason: `PID 1 does not catch signal ${sig}; no grace period to wait` });
        sig = 9;
        t = 0;
      }
      await this.d.runtime.kill(id, sig);
    } catch {
      // Already gone: the exit is being recorded.
    }
    let timer: NodeJS.Timeout | undefined;
    const gone = await Promise.race([
      r.exited.then(() => true),
      new Promise<boolean>((resolve) => {
        if (t < 0) return;
        timer = setTimeout(() => resolve(false), t * 1000);
      }),
    ]);
    clearTimeout(timer);
    if (!gone) {
      await this.d.runtime.kill(id, 'SIGKILL').catch(() => undefined);
      await r.exited;
    }
    return true;
  }

  kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    const c0 = this.resolve(ref);
    const sig = parseSignal(signal);
    return this.locked(c0.Id, async () => {
      const r = this.running.get(c0.Id);
      if (!r) throw conflict(`Cannot kill container: ${c0.Name}: container ${c0.Id} is not running`);
      if (sig === 9 || sig === 15 || sig === 2) {
        r.stoppedByUser = true;
      }
      await this.d.runtime.kill(c0.Id, sig);
      this.publish(c0, 'kill', { signal: String(sig) });
      if (sig === 9) await r.exited;
    });
  }

  restart(ref: string, timeoutSec?: number, signal?: string): Promise<void> {
    const c0 = this.resolve(ref);
    return this.locked(c0.Id, async () => {
      await this.stopLocked(c0.Id, timeoutSec, signal);
      const c = this.resolve(c0.Id);
      this.cancelRestart(c.Id);
      c.ManuallyStopped = false;
      await this.startLocked(c);
      this.publish(c, 'restart');
    });
  }

  pause(ref: string): Promise<void> {
    const c0 = this.resolve(ref);
    return this.locked(c0.Id, async () => {
      const c = this.resolve(c0.Id);
      if (c.State.Status === 'paused') throw conflict(`Container ${c.Id} is already paused`);
      if (c.State.Status !== 'running') throw conflict(`Container ${c.Id} is not running`);
      await this.d.runtime.pause(c.Id);
      c.State.Status = 'paused';
      await this.save(c);
      this.publish(c, 'pause');
    });
  }

  unpause(ref: string): Promise<void> {
    const c0 = this.resolve(ref);
    return this.locked(c0.Id, async () => {
      const c = this.resolve(c0.Id);
      if (c.State.Status !== 'paused') throw conflict(`Container ${c.Id} is not paused`);
      await this.d.runtime.resume(c.Id);
      c.State.Status = 'running';
      await this.save(c);
      this.publish(c, 'unpause');
    });
  }

  /**
   * docker update: the new limits go to the running container's cgroup first and are persisted only
   * once the kernel took them; if it refuses part-way, the old limits are written back.
   */
  update(ref: string, body: UpdateBody): Promise<{ Warnings: string[] }> {
    const c0 = this.resolve(ref);
    return this.locked(c0.Id, async () => {
      const c = this.resolve(c0.Id);
      let plan;
      try {
        plan = planUpdate(c.HostConfig, c.Config.Image, body);
      } catch (e) {
        if (e instanceof UpdateError) throw invalid(`Cannot update container ${c.Id}: ${e.message}`);
        throw e;
      }
      if (plan.resources && isActive(c.State.Status)) {
        try {
          await this.d.runtime.update(c.Id, plan.resources);
        } catch (e) {
          await this.d.runtime.update(c.Id, undoResources(c.HostConfig)).catch(() => undefined);
          const msg = e instanceof Error ? e.message : String(e);
          if (e instanceof CgroupError) throw invalid(`Cannot update container ${c.Id}: ${msg}`);
          throw new DomainError('internal', `Cannot update container ${c.Id}: ${msg}`);
        }
      }
      c.HostConfig = plan.hostConfig;
      await this.save(c, true);
      this.d.log.info('container updated', { id: c.Id, live: Boolean(plan.resources && isActive(c.State.Status)) });
      this.publish(c, 'update');
      return { Warnings: [] };
    });
  }

  /** Resolves with the exit code of the next exit (or the last one when `notRunning` and it is stopped). */
  waitExit(id: string, condition: 'not-running' | 'next-exit' | 'removed'): Promise<number> {
    const c = this.store.get(id);
    if (!c) return Promise.reject(notFound(`No such container: ${id}`));
    if (condition === 'not-running' && !isActive(c.State.Status) && !this.running.has(id)) return Promise.resolve(c.State.ExitCode);
    return new Promise((resolve) => {
      if (condition === 'removed') {
        let code = c.State.ExitCode;
        const onExit = (n: number): void => {
          code = n;
        };
        this.events.on(`exit:${id}`, onExit);
        this.events.once(`removed:${id}`, () => {
          this.events.off(`exit:${id}`, onExit);
          resolve(code);
        });
        return;
      }
      this.events.once(`exit:${id}`, (n: number) => resolve(n));
    });
  }

  /** Records a network to join on every start (connect), or forgets it (disconnect: undefined). */
  async setNetwork(id: string, network: string, ep: ContainerRecord['Networks'][string] | undefined): Promise<void> {
    const c = this.store.get(id);
    if (!c) throw notFound(`No such container: ${id}`);
    if (ep) c.Networks[network] = ep;
    else delete c.Networks[network];
    await this.save(c);
  }

  rename(ref: string, newName: string): Promise<void> {
    const c = this.resolve(ref);
    const n = validateName(newName);
    return this.locked(c.Id, async () => {
      const oldName = c.Name;
      this.names.rename(c.Id, n);
      c.Name = n;
      await this.save(c);
      this.publish(c, 'rename', { oldName: `/${oldName}` });
    });
  }

  // ------------------------------------------------------------------ remove

  remove(ref: string, opts: { force?: boolean; volumes?: boolean }): Promise<void> {
    const c0 = this.resolve(ref);
    return this.locked(c0.Id, async () => {
      const c = this.resolve(c0.Id);
      if (isActive(c.State.Status) || this.running.has(c.Id)) {
        if (!opts.force) {
          throw conflict(`You cannot remove a running container ${c.Id}. Stop the container before attempting removal or force remove`);
        }
        this.cancelRestart(c.Id);
        const r = this.running.get(c.Id);
        if (r) {
          r.stoppedByUser = true;
          c.ManuallyStopped = true;
          await this.d.runtime.kill(c.Id, 'SIGKILL').catch(() => undefined);
          await r.exited;
        }
      }
      if (!this.store.has(c.Id)) return;
      await this.removeRecord(c, opts.volumes ?? false);
    });
  }

  /**
   * Removes a container in two parts. At once (before the first await): it leaves the API's view —
   * name free, lookups and lists miss it, `wait --condition removed` answers. Then, in the background
   * (the returned promise): network, runtime state, volumes, files, image reference, and last the
   * record file, so a daemon that dies half-way finds the record at start and finishes the removal.
   * API calls about other objects (networks, volumes, images) wait for the background part first
   * (daemon.ts), so none of them can see what the container still holds.
   */
  private removeRecord(c: ContainerRecord, volumes: boolean): Promise<void> {
    const id = c.Id;
    c.State.Status = 'removing';
    this.cancelRestart(id);
    this.names.remove(id);
    this.store.forget(id);
    this.events.emit(`removed:${id}`);
    this.publish(c, 'destroy');
    // A standalone container on an attachable overlay gives its address back (a no-op for others).
    if (this.swarmNetworks && Object.keys(c.Networks ?? {}).some((n) => this.swarmNetworks!.isSwarmNetwork(n))) this.swarmNetworks.detach(id);
    this.consoleSizes.delete(id);
    this.tl.mark(id, 'rm.report');
    const pending = this.cleanups.get(id);
    const rest = async (): Promise<void> => {
      if (pending) await pending;
      else {
        await Promise.all([this.d.network.releaseContainer(id).catch(() => undefined), this.d.runtime.delete(id, { force: true }).catch(() => undefined)]);
      }
      this.tl.mark(id, 'rm.networkRuntime');
      for (const m of c.Mounts) {
        if (m.Type !== 'volume' || !m.Name) continue;
        this.d.volumes.release(m.Name, id);
        if (volumes && m.Anonymous) await this.d.volumes.remove(m.Name).catch((e: Error) => this.d.log.warn('volume remove failed', { name: m.Name, err: e }));
      }
      await Promise.all([rm(this.dir(id), { recursive: true, force: true }), this.d.images.release(id).catch(() => undefined)]);
      this.tl.mark(id, 'rm.filesImage');
      await this.store.delete(id);
      this.tl.mark(id, 'rm.record');
      this.d.log.info('container removed', { id, name: c.Name });
      this.tl.flush(id, 'container timeline');
    };
    return this.track(rest());
  }

  // ------------------------------------------------------------------ daemon start / stop

  /** Loads records and reconciles them with the runtime (see design §4). */
  async load(): Promise<void> {
    const { corrupt } = await this.store.load();
    for (const k of corrupt) this.d.log.warn('corrupt container record moved aside', { id: k.id, to: k.movedTo, err: k.error });
    const toStart: ContainerRecord[] = [];
    for (const c of this.store.all()) {
      try {
        this.names.add(c.Id, c.Name);
      } catch (e) {
        this.d.log.warn('container name clash at load', { id: c.Id, name: c.Name, err: e as Error });
        continue;
      }
      for (const m of c.Mounts) {
        if (m.Type === 'volume' && m.Name && this.d.volumes.has(m.Name)) this.d.volumes.acquire(m.Name, c.Id);
      }
      const wasActive = isActive(c.State.Status);
      let st: string | undefined;
      let livePid = 0;
      try {
        const state = await this.d.runtime.state(c.Id);
        st = state.status;
        livePid = state.pid;
      } catch {
        st = undefined;
      }
      if (st === 'created' || st === 'creating') {
        // A start cut short by the daemon's death (between the runtime's create and start): its box
        // waits on the exec fifo and would run as a second copy beside the next start. Kill and clean.
        await this.d.runtime.delete(c.Id, { force: true }).catch((e: Error) => this.d.log.warn('clean-up of a half-started container failed', { id: c.Id, err: e }));
        await this.d.runtime.sweepCgroup(cgroupPathOfContainer(c.Id, this.d.cgroupParent)).catch(() => undefined);
        await this.d.network.releaseContainer(c.Id).catch(() => undefined);
        this.d.log.warn('killed a container whose start the daemon did not finish', { id: c.Id, name: c.Name, runtimeStatus: st });
        c.State = { ...c.State, Status: wasActive ? 'exited' : c.State.Status, Pid: 0 };
        await this.save(c);
        st = undefined;
      } else if (st === undefined) {
        // No runtime state, yet a process may live in the container's cgroup (killed before the state
        // record was written): nothing can adopt it, so it goes.
        await this.d.runtime.sweepCgroup(cgroupPathOfContainer(c.Id, this.d.cgroupParent)).catch((e: Error) => this.d.log.warn('sweeping a leftover cgroup failed', { id: c.Id, err: e }));
      }
      if (st === 'running' || st === 'paused') {
        // Adopt: the record may predate the start (killed before it was saved), so the pid and start
        // time come from the runtime.
        if (c.State.Status === 'created' || c.State.Pid !== livePid) {
          c.State = { ...c.State, Pid: livePid, ...(c.State.Status === 'created' ? { StartedAt: now(), FinishedAt: ZERO_TIME, ExitCode: 0, Error: '' } : {}) };
          this.d.log.info('adopted a container the record did not know was started', { id: c.Id, name: c.Name, pid: livePid });
        }
        c.State.Status = st;
        const hc = c.Config.Healthcheck ? resolveHealthcheck(c.Config.Healthcheck) : undefined;
        const started = Date.parse(c.State.StartedAt);
        this.watch(c, hc, Number.isFinite(started) ? started : Date.now());
        await this.save(c);
        this.d.log.info('re-attached to container', { id: c.Id, name: c.Name });
        continue;
      }
      let runtimeExit: number | undefined;
      if (st !== undefined) {
        const ex = await this.d.runtime.wait(c.Id).catch(() => undefined);
        if (ex) runtimeExit = ex.signal ? 128 + ex.signal : ex.exitCode;
        await this.d.runtime.delete(c.Id, { force: true }).catch(() => undefined);
      }
      if (wasActive || st !== undefined) {
        await this.d.network.releaseContainer(c.Id).catch(() => undefined);
        c.State = { ...c.State, Status: 'exited', Pid: 0, ExitCode: exitCodeAtLoad(wasActive, st !== undefined, runtimeExit, c.State.ExitCode), FinishedAt: now() };
        await this.save(c);
      }
      const next = nextAtLoad(c, wasActive);
      if (next === 'start') toStart.push(c);
      else if (next === 'remove') await this.removeRecord(c, true).catch(() => undefined);
    }
    for (const c of toStart) {
      await this.locked(c.Id, () => this.startLocked(c)).catch((e: Error) => this.d.log.warn('restart at daemon start failed', { id: c.Id, err: e }));
    }
  }

  /** Daemon shutdown: stop every container (Docker without live-restore); policies resume at next start. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    this.restartTimers.cancelAll();
    await Promise.all(
      [...this.running.keys()].map(async (id) => {
        const c = this.store.get(id);
        await this.stopLocked(id).catch(() => undefined);
        if (c) {
          c.State.Error = SHUTDOWN_MARK;
          c.ManuallyStopped = false;
          await this.save(c);
        }
      }),
    );
    await this.settle();
    await this.store.flush();
  }

  /**
   * Daemon shutdown with live-restore: the containers keep running under their monitors (the next
   * daemon re-attaches in load()); only timers stop and records are flushed.
   */
  async detach(): Promise<void> {
    this.shuttingDown = true;
    this.restartTimers.cancelAll();
    for (const r of this.running.values()) if (r.healthTimer) clearTimeout(r.healthTimer);
    await this.settle();
    await this.store.flush();
  }

  /** For tests: remove every container. */
  async removeAll(): Promise<void> {
    await this.settle();
    for (const c of this.store.all()) await this.remove(c.Id, { force: true, volumes: true }).catch(() => undefined);
    await this.settle();
  }
}
