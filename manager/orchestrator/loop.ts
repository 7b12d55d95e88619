// The leader's orchestration loop: one pass at a time, each reading the store, planning with the
// pure parts (reconcile, allocator, scheduler, reaper) and writing the result as ONE transaction. A
// pass runs after every store change to services, tasks, nodes or the cluster (coalesced), and at the
// plan's wake-up time. Level-triggered: a pass that lost a race (a concurrent status write made its
// transaction out of sequence) is simply run again from the fresh state.
import { newId } from '../ca/certs.js';
import type { ClusterObject, NodeObject } from '../objects.js';
import type { ReplicatedStore, Tx } from '../store/replicated.js';
import type { Watch } from '../store/watch.js';
import { allocateTasks, publishesOnMesh } from '../allocator/allocator.js';
import { PassNetworks } from '../allocator/attachments.js';
import { allocateNetwork, INGRESS_SUBNET, VXLAN_OPTION } from '../allocator/networks.js';
import type { NetworkObject } from '../controlapi/workload.js';
import { awaitsPlacement, fromNodeObject, fromTask, matchesConstraints, occupiesNode, parseConstraints, schedule, type Constraint } from '../scheduler/index.js';
import { isLive, type ServiceObject, type TaskObject } from './model.js';
import { reap } from './reaper.js';
import { reconcile, type UpdaterMemory } from './reconcile.js';

export interface LoopOptions {
  store: ReplicatedStore;
  clusterId: string;
  log: (event: string, fields: Record<string, unknown>) => void;
  now?: () => number;
}

export interface PassResult {
  created: number;
  updated: number;
  deleted: number;
  assigned: number;
  /** Services whose update status the pass changed (an update began, paused, rolled back or ended). */
  services: number;
}

export class OrchestratorLoop {
  private watch: Watch | undefined;
  private running = false;
  private passing = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly updaters = new Map<string, UpdaterMemory>();
  private readonly now: () => number;
  /** Resolvers of `settled()`: called when a pass finds nothing to do. */
  private idle: (() => void)[] = [];

  constructor(private readonly o: LoopOptions) {
    this.now = o.now ?? Date.now;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.watch = this.o.store.watch({ tables: ['services', 'tasks', 'nodes', 'cluster'] });
    void this.follow(this.watch);
    this.kick();
  }

  stop(): void {
    this.running = false;
    this.watch?.close();
    this.watch = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.updaters.clear();
  }

  private async follow(w: Watch): Promise<void> {
    for (;;) {
      const e = await w.next();
      if (!e) break;
      this.kick();
    }
    // A watch closed by a snapshot restore (not by stop): start over from the restored state.
    if (this.running && this.watch === w) {
      this.watch = this.o.store.watch({ tables: ['services', 'tasks', 'nodes', 'cluster'] });
      void this.follow(this.watch);
      this.kick();
    }
  }

  /** Asks for a pass; passes never overlap, and many kicks during one make one more. */
  kick(): void {
    if (!this.running) return;
    if (this.passing) {
      this.again = true;
      return;
    }
    this.passing = true;
    setImmediate(() => void this.loop());
  }

  /** Resolves once a pass finds nothing to do (tests and benches). */
  settled(): Promise<void> {
    return new Promise((resolve) => {
      this.idle.push(resolve);
      this.kick();
    });
  }

  private async loop(): Promise<void> {
    try {
      for (;;) {
        this.again = false;
        let r: PassResult | undefined;
        try {
          r = await this.pass();
        } catch (e) {
          this.o.log('orchestrator.pass_failed', { error: (e as Error).message });
          this.again = true;
          await new Promise((res) => setTimeout(res, 50));
        }
        if (r && r.created + r.updated + r.deleted + r.services === 0 && !this.again) {
          for (const f of this.idle.splice(0)) f();
        }
        if (!this.again || !this.running) break;
      }
    } finally {
      this.passing = false;
    }
  }

  /** One pass; exposed for deterministic tests. */
  async pass(): Promise<PassResult> {
    const view = this.o.store.view;
    const now = this.now();
    const iso = new Date(now).toISOString();
    const services = view.list('services') as ServiceObject[];
    const stored = view.list('tasks') as TaskObject[];
    const nodes = view.list('nodes') as NodeObject[];
    const cluster = view.get('cluster', this.o.clusterId) as ClusterObject | undefined;
    const limit = cluster?.Spec.Orchestration.TaskHistoryRetentionLimit ?? 5;

    const plan = reconcile({
      now,
      services,
      tasks: stored,
      nodes,
      eligible: eligibility(),
      newId,
      updaters: this.updaters,
    });
    if (this.timer) clearTimeout(this.timer);
    if (plan.wakeAt !== undefined && this.running) {
      this.timer = setTimeout(() => this.kick(), Math.max(0, plan.wakeAt - now) + 5);
      this.timer.unref();
    }

    // The tasks as they will be after this pass: stored, changed by the plan, created, then allocated.
    const next = new Map<string, TaskObject>(stored.map((t) => [t.ID, t]));
    const touched = new Set<string>();
    const created = new Set<string>();
    for (const t of plan.update) {
      next.set(t.ID, t);
      touched.add(t.ID);
    }
    for (const t of plan.create) {
      next.set(t.ID, t);
      created.add(t.ID);
    }
    // Overlay addresses: the ingress network once, services' VIPs, then each task's addresses as it
    // leaves `new` (released with the task, since what is in use is read from the store).
    const networks = view.list('networks') as unknown as NetworkObject[];
    let ingress: NetworkObject | undefined;
    if (!networks.some((n) => n.Spec.Ingress) && cluster) {
      ingress = ingressNetwork(networks, cluster);
      networks.push({ ...ingress, Version: { Index: 0 }, CreatedAt: iso, UpdatedAt: iso } as NetworkObject);
    }
    const servicesNext = new Map<string, ServiceObject>(services.map((s) => [s.ID, s]));
    for (const s of plan.services) servicesNext.set(s.ID, s);
    const changedServices = new Map<string, ServiceObject>(plan.services.map((s) => [s.ID, s]));
    const nets = new PassNetworks(networks, [...servicesNext.values()], [...next.values()], nodes);
    // The routing mesh: once a service publishes an ingress port, every node gets an ingress address.
    const nodeChanges: NodeObject[] = [];
    if (nets.ingress && [...servicesNext.values()].some(publishesOnMesh)) {
      for (const n of nodes) {
        if (n.IngressAddr) continue;
        const addr = nets.ingressAddr();
        if (addr) nodeChanges.push({ ...n, IngressAddr: addr });
      }
    }
    for (const s of servicesNext.values()) {
      const vips = nets.virtualIPs(s);
      if (!vips) continue;
      const withVips = { ...s, Endpoint: { ...s.Endpoint, VirtualIPs: vips } };
      servicesNext.set(s.ID, withVips);
      changedServices.set(s.ID, withVips);
    }
    for (const t of allocateTasks([...next.values()], iso)) {
      const svc = servicesNext.get(t.ServiceID);
      const attached = svc && !t.NetworksAttachments ? { ...t, NetworksAttachments: nets.attachments(svc) } : t;
      next.set(t.ID, attached);
      if (!created.has(t.ID)) touched.add(t.ID);
    }

    // Scheduling: pending tasks (of live desire) onto nodes, given what the nodes hold.
    const endpoint = new Map(services.map((s) => [s.ID, s.Spec.EndpointSpec]));
    const all = [...next.values()];
    const pending = all.filter((t) => awaitsPlacement(t) && isLive(t));
    let assigned = 0;
    if (pending.length > 0) {
      const result = schedule({
        nodes: nodes.map(fromNodeObject),
        placed: all.filter((t) => !t.Attachment && occupiesNode(t) && t.DesiredState !== 'remove').map((t) => fromTask(t, endpoint.get(t.ServiceID))),
        pending: pending.map((t) => fromTask(t, endpoint.get(t.ServiceID))),
      });
      for (const a of result.assigned) {
        const t = next.get(a.taskId)!;
        next.set(t.ID, { ...t, NodeID: a.nodeId, Status: { Timestamp: iso, State: 'assigned', Message: 'scheduler assigned task to node' } });
        if (!created.has(t.ID)) touched.add(t.ID);
        assigned++;
      }
      for (const u of result.unassigned) {
        const t = next.get(u.taskId)!;
        if (t.Status.Err === u.reason) continue;
        next.set(t.ID, { ...t, Status: { ...t.Status, Timestamp: t.Status.Timestamp, Message: 'pending task scheduling', Err: u.reason } });
        if (!created.has(t.ID)) touched.add(t.ID);
      }
    }

    const deleted = reap([...next.values()].filter((t) => !created.has(t.ID)), nodes, limit);
    const deletedSet = new Set(deleted);
    const servicesChanged = [...changedServices.values()];
    const total = created.size + touched.size + deleted.length + servicesChanged.length + (ingress ? 1 : 0) + nodeChanges.length;
    if (total === 0) return { created: 0, updated: 0, deleted: 0, assigned: 0, services: 0 };
    await this.o.store.update((tx: Tx) => {
      if (ingress) tx.create('networks', ingress);
      for (const n of nodeChanges) tx.update('nodes', n);
      for (const s of servicesChanged) tx.update('services', s);
      for (const id of created) tx.create('tasks', next.get(id)!);
      for (const id of touched) if (!deletedSet.has(id)) tx.update('tasks', next.get(id)!);
      for (const id of deleted) tx.delete('tasks', id);
    });
    if (created.size || deleted.length || servicesChanged.length) {
      this.o.log('orchestrator.pass', { created: created.size, updated: touched.size, deleted: deleted.length, assigned, services: servicesChanged.length });
    }
    return { created: created.size, updated: touched.size, deleted: deleted.length, assigned, services: servicesChanged.length };
  }
}

/** Docker's `ingress` network: made by the leader once, on 10.0.0.0/24 unless that is taken. */
export function ingressNetwork(existing: readonly NetworkObject[], cluster: ClusterObject): NetworkObject {
  const taken = existing.map((n) => ({ ID: n.ID, Name: n.Spec.Name, Subnet: n.IPAMOptions?.Configs?.[0]?.Subnet ?? '0.0.0.0/32', VNI: Number(n.DriverState?.Options[VXLAN_OPTION] ?? 0) }));
  let a;
  try {
    a = allocateNetwork('ingress', { Subnet: INGRESS_SUBNET }, taken, cluster.DefaultAddrPool, cluster.SubnetSize);
  } catch {
    a = allocateNetwork('ingress', {}, taken, cluster.DefaultAddrPool, cluster.SubnetSize);
  }
  return {
    ID: newId(),
    Version: { Index: 0 },
    CreatedAt: '',
    UpdatedAt: '',
    Spec: { Name: 'ingress', Labels: {}, Driver: 'overlay', Attachable: false, Internal: false, Ingress: true, Options: {} },
    IPAMOptions: { Driver: { Name: 'default' }, Configs: [{ Subnet: a.Subnet, Gateway: a.Gateway }] },
    DriverState: { Name: 'overlay', Options: { [VXLAN_OPTION]: String(a.VNI) } },
  };
}

/**
 * May a global service's task run on this node (constraints, platforms)? The returned judge parses each
 * service's constraints and views each node once (it lives for one pass: objects do not change in it).
 */
export function eligibility(): (s: ServiceObject, n: NodeObject) => boolean {
  const constraints = new Map<ServiceObject, Constraint[] | undefined>();
  const views = new Map<NodeObject, ReturnType<typeof fromNodeObject>>();
  return (s, n) => {
    const placement = s.Spec.TaskTemplate.Placement;
    if (!constraints.has(s)) {
      let parsed: Constraint[] | undefined;
      try {
        parsed = parseConstraints(placement?.Constraints ?? []);
      } catch {
        parsed = undefined; // refused at create; a stored bad constraint matches nothing
      }
      constraints.set(s, parsed);
    }
    const cs = constraints.get(s);
    if (!cs) return false;
    let sn = views.get(n);
    if (!sn) views.set(n, (sn = fromNodeObject(n)));
    if (!matchesConstraints(sn, cs)) return false;
    const platforms = placement?.Platforms ?? [];
    if (platforms.length === 0) return true;
    return platforms.some((p) => (!p.OS || p.OS === sn.platform.os) && (!p.Architecture || p.Architecture === sn.platform.arch));
  };
}
