// One task on this node, driven toward the state the managers want: accepted → preparing (image,
// secret and config files, container) → ready → starting → running (healthy, when it has a
// healthcheck) → complete | failed, or shutdown when told to stop. Steps run one at a time; the
// container's exit and health are watched beside them. Each state change is reported once.
import type { PortConfig, TaskState } from '../../api/swarm.js';
import type { PortMapping } from '../../api/ports.js';
import type { TaskStatusUpdate } from '../../manager/protocol.js';
import type { Logger } from '../../lib/log.js';
import { NotFoundError } from '../../lib/errors.js';
import type { ContainerService } from '../containers/service.js';
import type { EventBus } from '../events.js';
import { containerBody, containerName, DEFAULT_STOP_GRACE_NS, templateContext } from './container-body.js';
import { ContainerTaskController } from './controller.js';
import type { FileItem, TaskFiles } from './task-files.js';
import { expand } from './template.js';
import type { AssignedTask, OverlayHost, TaskAttachment } from './worker.js';

export interface RunnerDeps {
  containers: ContainerService;
  events: EventBus;
  ensureImage: (ref: string, registryAuth: string | undefined) => Promise<void>;
  files: TaskFiles;
  node: () => { ID: string; Hostname: string };
  secret: (id: string) => { name: string; data: Buffer } | undefined;
  config: (id: string) => { name: string; data: Buffer; templated?: boolean } | undefined;
  report: (u: TaskStatusUpdate) => void;
  log: Logger;
  overlays?: OverlayHost;
  /** Re-applies the swarm networks' peers, names and VIPs (after a task container joined them). */
  reprogramme: (networkIds: readonly string[]) => Promise<void>;
  /** The host ports a container got (for a host-mode port without a number: the one chosen). */
  hostPorts?: (containerId: string) => readonly PortMapping[];
}

const ORDER: TaskState[] = ['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running', 'complete', 'shutdown', 'failed', 'rejected'];
const rank = (s: TaskState): number => ORDER.indexOf(s);
const terminal = (s: TaskState): boolean => rank(s) >= rank('complete');

export class TaskRunner {
  readonly id: string;
  last: TaskStatusUpdate | undefined;
  private state: TaskState;
  private controller: ContainerTaskController | undefined;
  private chain: Promise<void> = Promise.resolve();
  private pendingKick = false;
  private watching = false;
  private disposed = false;
  private adopted = false;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private task: AssignedTask,
    private readonly d: RunnerDeps,
  ) {
    this.id = task.ID;
    // The manager's view: a task we are given fresh is "assigned"; one we ran before a restart is adopted below.
    this.state = rank(task.Status.State) > rank('assigned') ? task.Status.State : 'assigned';
  }

  private get serviceName(): string {
    return this.task.ServiceAnnotations?.Name ?? this.task.ServiceID;
  }

  /** The service's host-mode ports, as the dispatcher sends them with the task. */
  private get hostModePorts(): PortConfig[] {
    return (this.task as { Endpoint?: { Ports?: PortConfig[] } }).Endpoint?.Ports ?? [];
  }

  /** The task's addresses on swarm networks. */
  private get attachments(): TaskAttachment[] {
    return (this.task as { NetworksAttachments?: TaskAttachment[] }).NetworksAttachments ?? [];
  }

  /** Docker's PortStatus: the host-mode ports as bound on this node (`service ps` shows them). */
  private portStatus(containerId: string): { PortStatus?: { Ports: PortConfig[] } } {
    const wanted = this.hostModePorts.filter((p) => p.PublishMode === 'host');
    if (!wanted.length) return {};
    const bound = this.d.hostPorts?.(containerId) ?? [];
    const Ports = wanted.map((p) => {
      const proto = p.Protocol ?? 'tcp';
      const got = bound.find((m) => m.containerPort === p.TargetPort && m.proto === proto);
      return { ...p, Protocol: proto, PublishedPort: got?.hostPort ?? p.PublishedPort ?? 0 };
    });
    return { PortStatus: { Ports } };
  }

  private get name(): string {
    return containerName(this.serviceName, this.task);
  }

  update(t: AssignedTask): void {
    this.task = t;
  }

  kick(): void {
    if (this.pendingKick) return;
    this.pendingKick = true;
    this.chain = this.chain.then(async () => {
      this.pendingKick = false;
      if (this.disposed) return;
      try {
        await this.step();
      } catch (e) {
        this.d.log.warn('task step failed', { task: this.id, err: e as Error });
      }
    });
  }

  private report(state: TaskState, message: string, extra: { err?: string; exitCode?: number } = {}): void {
    if (rank(state) < rank(this.state) || (state === this.state && !extra.err)) return;
    this.state = state;
    const c = this.controller?.inspect();
    this.last = {
      taskId: this.id,
      status: {
        Timestamp: new Date().toISOString(),
        State: state,
        Message: message,
        ...(extra.err ? { Err: extra.err } : {}),
        ...(c ? { ContainerStatus: { ContainerID: c.containerId, PID: c.pid, ExitCode: extra.exitCode ?? c.exitCode } } : {}),
        ...(c && (state === 'starting' || state === 'running') ? this.portStatus(c.containerId) : {}),
      },
    };
    this.d.report(this.last);
  }

  private ctl(): ContainerTaskController {
    if (!this.controller) this.controller = new ContainerTaskController({ containers: this.d.containers, events: this.d.events }, this.name, { Image: this.task.Spec.ContainerSpec.Image, StopTimeout: Math.ceil((this.task.Spec.ContainerSpec.StopGracePeriod ?? DEFAULT_STOP_GRACE_NS) / 1e9) });
    return this.controller;
  }

  private async step(): Promise<void> {
    const t = this.task;
    const desired = t.DesiredState;
    this.adopt();
    if (desired === 'shutdown' || desired === 'remove' || rank(desired) > rank('running')) {
      if (this.ctl().inspect()?.status === 'running') await this.ctl().shutdown();
      if (!terminal(this.state)) this.report('shutdown', 'shutdown');
      if (desired === 'remove') await this.cleanup();
      return;
    }
    if (terminal(this.state)) return; // a finished task stays finished; the manager starts a new one
    if (rank(this.state) < rank('accepted')) this.report('accepted', 'accepted');
    if (rank(this.state) < rank('ready')) {
      this.report('preparing', 'preparing');
      try {
        await this.prepare();
      } catch (e) {
        this.report('rejected', 'preparing', { err: (e as Error).message });
        return;
      }
      this.report('ready', 'prepared');
    }
    if (desired !== 'running' || rank(this.state) >= rank('starting')) return;
    this.report('starting', 'starting');
    try {
      await this.ctl().start();
    } catch (e) {
      this.report('failed', 'starting', { err: (e as Error).message });
      return;
    }
    this.watch();
    const nets = this.attachments.map((a) => a.Network.ID);
    if (nets.length) await this.d.reprogramme(nets);
    const health = this.d.containers.tryGet(this.ctl().inspect()!.containerId)?.State.Health;
    if (!health || health.Status === 'healthy') this.report('running', 'started');
  }

  /**
   * Once per runner: a container already made for this task (before a daemon restart, or a session
   * that moved to another manager) tells where the task really is.
   */
  private adopt(): void {
    if (this.adopted) return;
    this.adopted = true;
    const c = this.ctl().inspect();
    if (!c) {
      // The manager thinks it got further, but its container is gone: the task failed.
      if (rank(this.state) >= rank('preparing') && !terminal(this.state)) this.report('failed', 'container gone', { err: 'task: its container was removed' });
      return;
    }
    if (c.status === 'running' || c.status === 'paused' || c.status === 'restarting') {
      this.watch();
      if (rank(this.state) < rank('running')) {
        this.state = 'starting';
        this.report('running', 'started');
      }
    } else if (c.status === 'exited' || c.status === 'dead') {
      if (!terminal(this.state)) {
        this.state = 'starting';
        this.report(c.exitCode === 0 ? 'complete' : 'failed', 'finished', c.exitCode === 0 ? {} : { err: `task: non-zero exit (${c.exitCode})`, exitCode: c.exitCode });
      }
    } else if (c.status === 'created' && rank(this.state) < rank('ready')) {
      this.state = 'ready';
    }
  }

  private async prepare(): Promise<void> {
    const t = this.task;
    const spec = t.Spec.ContainerSpec;
    const auth = (spec as { PullOptions?: { RegistryAuth?: string } }).PullOptions?.RegistryAuth;
    try {
      await this.d.ensureImage(spec.Image, auth);
    } catch (e) {
      throw new NotFoundError(`No such image: ${spec.Image} (pull failed: ${(e as Error).message})`);
    }
    const node = this.d.node();
    const items: FileItem[] = [];
    for (const s of spec.Secrets ?? []) {
      const v = this.d.secret(s.SecretID);
      if (!v) throw new NotFoundError(`secret ${s.SecretName} (${s.SecretID}) was not sent to this node`);
      items.push({ kind: 'secret', name: s.SecretID, target: s.File.Name.startsWith('/') ? s.File.Name : `/run/secrets/${s.File.Name}`, data: v.data, uid: Number(s.File.UID), gid: Number(s.File.GID), mode: s.File.Mode });
    }
    const ctx = templateContext({ task: t, serviceName: this.serviceName, node });
    for (const c of spec.Configs ?? []) {
      const v = this.d.config(c.ConfigID);
      if (!v) throw new NotFoundError(`config ${c.ConfigName} (${c.ConfigID}) was not sent to this node`);
      if (!c.File) continue;
      let data = v.data;
      // Go-template configs are expanded per task (with env, secret and config lookups).
      if (v.templated) data = this.templated(c.ConfigID, data, ctx);
      items.push({ kind: 'config', name: c.ConfigID, target: c.File.Name.startsWith('/') ? c.File.Name : `/${c.File.Name}`, data, uid: Number(c.File.UID), gid: Number(c.File.GID), mode: c.File.Mode });
    }
    const files = await this.d.files.materialise(this.id, items);
    const body = containerBody({ task: t, serviceName: this.serviceName, node, files, hostPorts: this.hostModePorts });
    const attachments = this.attachments;
    const overlays = this.d.overlays;
    if (overlays && attachments.length) {
      // Egress and name resolution through the node's gateway bridge; the overlays are extra interfaces.
      // A task only on `--internal` overlays gets names and no egress.
      const internalOnly = attachments.every((a) => a.Network.Spec.Internal === true);
      body.HostConfig = { ...body.HostConfig, NetworkMode: await overlays.gateway(internalOnly) };
    }
    this.controller = new ContainerTaskController({ containers: this.d.containers, events: this.d.events }, this.name, body);
    await this.controller.prepare();
    if (overlays) {
      const c = this.controller.inspect()!;
      for (const a of attachments) {
        const name = await overlays.ensure(a);
        // Service names and network aliases answer with the VIP (the managers' records), not this task.
        await overlays.connect(c.containerId, this.name, name, a.Addresses[0]!.split('/')[0]!, []);
      }
    }
  }

  private templated(configId: string, data: Buffer, ctx: ReturnType<typeof templateContext>): Buffer {
    const t = this.task;
    const refs = t.Spec.ContainerSpec.Configs?.find((c) => c.ConfigID === configId);
    if (!refs) return data;
    const env = new Map((t.Spec.ContainerSpec.Env ?? []).map((e) => [e.split('=')[0]!, e.slice(e.indexOf('=') + 1)]));
    const byName = (list: { SecretName?: string; SecretID?: string; ConfigName?: string; ConfigID?: string }[] | null | undefined, name: string) => list?.find((x) => x.SecretName === name || x.ConfigName === name);
    const text = expand(data.toString('utf8'), ctx, {
      env: (n) => env.get(n) ?? '',
      secret: (n) => {
        const r = byName(t.Spec.ContainerSpec.Secrets, n);
        const v = r?.SecretID ? this.d.secret(r.SecretID) : undefined;
        if (!v) throw new NotFoundError(`config template: secret ${n} is not granted to the service`);
        return v.data.toString('utf8');
      },
      config: (n) => {
        const r = byName(t.Spec.ContainerSpec.Configs, n);
        const v = r?.ConfigID ? this.d.config(r.ConfigID) : undefined;
        if (!v) throw new NotFoundError(`config template: config ${n} is not granted to the service`);
        return v.data.toString('utf8');
      },
    }, `config ${refs.ConfigName}`);
    return Buffer.from(text);
  }

  /** Exit and health of the running container, beside the steps. */
  private watch(): void {
    if (this.watching) return;
    this.watching = true;
    const ctl = this.ctl();
    this.unsubscribe = ctl.events((e) => {
      if (e.Action === 'health_status: healthy' && this.state === 'starting') this.report('running', 'started');
      if (e.Action === 'health_status: unhealthy') {
        void ctl.terminate().then(() => this.report('failed', 'started', { err: 'task: non-zero exit (137): unhealthy container' }));
      }
    });
    void ctl.wait().then(
      (exit) => {
        this.watching = false;
        this.unsubscribe?.();
        // The task's secrets and configs go with its run: nothing of them stays once the container ended.
        void this.d.files.release(this.id).catch((e: Error) => this.d.log.warn('cannot release task files', { task: this.id, err: e }));
        if (this.disposed || terminal(this.state)) return;
        const want = this.task.DesiredState;
        if (want === 'shutdown' || want === 'remove') this.report('shutdown', 'shutdown');
        else if (exit.exitCode === 0 && !exit.error) this.report('complete', 'finished', { exitCode: 0 });
        else this.report('failed', 'started', { err: exit.error ? `task: ${exit.error}` : `task: non-zero exit (${exit.exitCode})`, exitCode: exit.exitCode });
      },
      (e: Error) => {
        this.watching = false;
        if (!(e instanceof NotFoundError)) this.d.log.warn('task wait failed', { task: this.id, err: e });
      },
    );
  }

  private async cleanup(): Promise<void> {
    this.unsubscribe?.();
    await this.ctl().remove();
    await this.d.files.release(this.id);
  }

  /** The task is no longer assigned: stop and remove its container and files. */
  async dispose(): Promise<void> {
    this.disposed = true;
    await this.chain;
    try {
      if (this.ctl().inspect()?.status === 'running') await this.ctl().shutdown();
    } catch {
      // already gone
    }
    await this.cleanup().catch((e: Error) => this.d.log.warn('task clean-up failed', { task: this.id, err: e }));
  }
}
