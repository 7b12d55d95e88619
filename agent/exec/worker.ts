// The node's worker: what the dispatcher assigns becomes containers, through one TaskRunner per task
// over the executor contract (controller.ts). Statuses go back in batches. A task the managers no
// longer assign has its container removed; after a daemon restart the task containers still running
// are adopted (by their task label), and the ones the first full assignment does not name are removed.
import type { Task, TaskState } from '../../api/swarm.js';
import type { PortMapping } from '../../api/ports.js';
import { LABELS } from '../../api/swarm.js';
import { OverlayStateSchema, type Assignment, type LogsRequest, type OverlayState, type TaskLogEntry, type TaskStatusUpdate } from '../../manager/protocol.js';
import { streamTaskLogs } from './task-logs.js';
import type { Logger } from '../../lib/log.js';
import type { ContainerService } from '../containers/service.js';
import type { EventBus } from '../events.js';
import { TaskRunner, type RunnerDeps } from './task-runner.js';
import { TaskFiles } from './task-files.js';

export type AssignedTask = Task & { ServiceAnnotations?: { Name?: string } };

/** A task's address on a swarm network, as the manager allocated it (Docker's NetworkAttachment). */
export interface TaskAttachment {
  Network: { ID: string; Spec: { Name: string; Internal?: boolean }; DriverState?: { Options: Record<string, string> }; IPAMOptions?: { Configs?: { Subnet: string; Gateway: string }[] } };
  Addresses: string[];
}

/** The node's network service as the worker uses it for swarm networks. */
export interface OverlayHost {
  /**
   * The local network tasks use for egress and name resolution (Docker's docker_gwbridge role); made if
   * missing. `internal`: for a task whose overlays are all `--internal` — names, but no way out.
   */
  gateway(internal?: boolean): Promise<string>;
  /** The node's side of a swarm network, made if missing; returns its local name. */
  ensure(att: TaskAttachment): Promise<string>;
  /** Connects a created (not yet started) task container to a swarm network at its allocated address. */
  connect(containerId: string, containerName: string, network: string, ip: string, aliases: string[]): Promise<void>;
  /** Programmes an overlay's peers, names and VIPs (see NetworkManager.programmeOverlay). */
  programme(network: string, st: OverlayState): Promise<void>;
  /** The routing mesh on this node (ingress network): its endpoint and published ports; undefined removes it. */
  ingress(network: string, mesh: OverlayState['ingress']): Promise<void>;
  /** Removes this node's side of swarm networks no task uses any more, except those in `keep`. */
  prune(keep: ReadonlySet<string>): Promise<void>;
}

export interface WorkerDeps {
  /** Swarm networks on this node (absent: tasks get the default bridge only). */
  overlays?: OverlayHost;
  containers: ContainerService;
  events: EventBus;
  /** Pulls an image that is not present (with the task's registry auth, if any). */
  ensureImage: (ref: string, registryAuth: string | undefined) => Promise<void>;
  node: () => { ID: string; Hostname: string };
  /** Where task tmpfs mounts live (under the daemon's exec root). */
  filesRoot: string;
  /** The host ports a container got (reported as the task's PortStatus). */
  hostPorts?: (containerId: string) => readonly PortMapping[];
  log: Logger;
}

export class Worker {
  private readonly runners = new Map<string, TaskRunner>();
  readonly secrets = new Map<string, { name: string; data: Buffer }>();
  readonly configs = new Map<string, { name: string; data: Buffer; templated?: boolean }>();
  /** What the managers say about each swarm network this node's tasks use. */
  private readonly overlayStates = new Map<string, OverlayState>();
  private send: ((u: TaskStatusUpdate[]) => boolean) | undefined;
  private readonly outbox = new Map<string, TaskStatusUpdate>();
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly files: TaskFiles;
  private readonly deps: RunnerDeps;

  constructor(private readonly d: WorkerDeps) {
    this.files = new TaskFiles(d.filesRoot);
    this.deps = {
      containers: d.containers,
      events: d.events,
      ensureImage: d.ensureImage,
      files: this.files,
      node: d.node,
      secret: (id) => this.secrets.get(id),
      config: (id) => this.configs.get(id),
      ...(d.overlays ? { overlays: d.overlays } : {}),
      reprogramme: (ids) => this.reprogramme(ids),
      report: (u) => this.queue(u),
      ...(d.hostPorts ? { hostPorts: d.hostPorts } : {}),
      log: d.log,
    };
  }

  /** The session is up: statuses flow through `send` (every runner's last status is sent again). */
  attach(send: (u: TaskStatusUpdate[]) => boolean): void {
    this.send = send;
    for (const r of this.runners.values()) if (r.last) this.outbox.set(r.id, r.last);
    this.flushSoon();
  }

  detach(): void {
    this.send = undefined;
  }

  private queue(u: TaskStatusUpdate): void {
    this.outbox.set(u.taskId, u);
    this.flushSoon();
  }

  private flushSoon(): void {
    if (this.flushTimer || !this.send) return;
    // Statuses of a burst (a whole assignment starting) travel as one message.
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      if (!this.send || this.outbox.size === 0) return;
      const batch = [...this.outbox.values()];
      if (this.send(batch)) this.outbox.clear();
    }, 10);
    this.flushTimer.unref();
  }

  assign(kind: 'complete' | 'incremental', changes: readonly Assignment[]): void {
    const tasks = new Map<string, AssignedTask>();
    const removed = new Set<string>();
    if (kind === 'complete') {
      this.secrets.clear();
      this.configs.clear();
    }
    const networks = new Set<string>();
    for (const c of changes) {
      if (c.kind === 'network') {
        if (c.action === 'remove') {
          const gone = this.overlayStates.get(c.id);
          this.overlayStates.delete(c.id);
          if (gone?.ingress) void this.d.overlays?.ingress(gone.name, undefined).catch(() => undefined);
          void this.prune();
        } else if (c.network) {
          const st = OverlayStateSchema.safeParse(c.network);
          if (st.success) this.overlayStates.set(c.id, st.data);
        }
        networks.add(c.id);
        continue;
      }
      if (c.kind === 'secret' || c.kind === 'config') {
        const map = c.kind === 'secret' ? this.secrets : this.configs;
        if (c.action === 'remove') map.delete(c.id);
        else map.set(c.id, { name: c.name ?? c.id, data: Buffer.from(c.data ?? '', 'base64'), ...(c.kind === 'config' && c.templating === 'golang' ? { templated: true } : {}) });
        continue;
      }
      if (c.kind !== 'task') continue;
      if (c.action === 'remove') removed.add(c.id);
      else if (c.task) tasks.set(c.id, c.task as unknown as AssignedTask);
    }
    if (kind === 'complete') for (const id of this.runners.keys()) if (!tasks.has(id)) removed.add(id);
    for (const [id, t] of tasks) {
      let r = this.runners.get(id);
      if (!r) {
        r = new TaskRunner(t, this.deps);
        this.runners.set(id, r);
      } else r.update(t);
      r.kick();
    }
    const disposed: Promise<void>[] = [];
    for (const id of removed) {
      const r = this.runners.get(id);
      if (!r) continue;
      this.runners.delete(id);
      disposed.push(r.dispose());
    }
    // A node with no more endpoints on a swarm network removes its side of it.
    if (disposed.length && this.d.overlays) void Promise.all(disposed).then(() => this.prune());
    if (kind === 'complete') void this.removeStrays(new Set(tasks.keys()));
    if (networks.size) void this.reprogramme([...networks]);
  }

  /** Removes this node's side of swarm networks neither a task nor the managers need here any more. */
  private async prune(): Promise<void> {
    const keep = new Set([...this.overlayStates.values()].map((s) => s.name));
    await this.d.overlays?.prune(keep).catch((e: Error) => this.d.log.warn('cannot remove unused swarm networks', { err: e }));
  }

  /** Applies the managers' picture of these swarm networks to the ones this node has. */
  async reprogramme(ids: readonly string[]): Promise<void> {
    const o = this.d.overlays;
    if (!o) return;
    for (const id of ids) {
      const st = this.overlayStates.get(id);
      if (!st) continue;
      try {
        // The ingress network exists on every node of the mesh, task or not.
        if (st.network) await o.ensure({ Network: st.network as unknown as TaskAttachment['Network'], Addresses: [] });
        if (st.ingress) await o.ingress(st.name, st.ingress);
      } catch (e) {
        this.d.log.warn('cannot set up the routing mesh', { network: st.name, err: e as Error });
      }
      await o.programme(st.name, st).catch((e: Error) => {
        // Not made here yet (no task of it prepared): programmed when the first one is.
        if (!/not found/.test(e.message)) this.d.log.warn('cannot programme a swarm network', { network: st.name, err: e });
      });
    }
  }

  /** Task containers (and task files) of tasks no longer assigned: left from before a restart or a leave. */
  private async removeStrays(keep: Set<string>): Promise<void> {
    for (const c of this.d.containers.list()) {
      const id = c.Config.Labels?.[LABELS.taskId];
      if (!id || keep.has(id)) continue;
      await this.d.containers.remove(c.Id, { force: true, volumes: false }).catch((e: Error) => this.d.log.warn('cannot remove a stray task container', { container: c.Id, err: e }));
    }
    for (const id of await this.files.present()) if (!keep.has(id)) await this.files.release(id).catch(() => undefined);
  }

  /** Leaving the swarm: every task container and task file goes. */
  async leave(): Promise<void> {
    const all = [...this.runners.values()];
    this.runners.clear();
    await Promise.all(all.map((r) => r.dispose()));
    await this.removeStrays(new Set());
    for (const st of this.overlayStates.values()) if (st.ingress) await this.d.overlays?.ingress(st.name, undefined).catch(() => undefined);
    this.overlayStates.clear();
    await this.prune();
    this.secrets.clear();
    this.configs.clear();
  }

  /** This node's share of `service logs`. */
  logs(req: LogsRequest, emit: (entries: TaskLogEntry[]) => void, cancelled: Promise<void>): Promise<void> {
    return streamTaskLogs(this.d.containers, req, emit, cancelled);
  }

  /** Task states this node holds, for `info` and tests. */
  states(): Record<string, TaskState | undefined> {
    return Object.fromEntries([...this.runners].map(([id, r]) => [id, r.last?.status.State]));
  }
}
