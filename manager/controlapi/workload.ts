// The control API's workload verbs: services, tasks, secrets, configs and swarm networks. Runs on the
// leader (followers forward the same calls); specs are validated here, at the boundary, with errors
// naming the key path; every change is one store transaction, so nothing is ever half-created.
import {
  ConfigSpecSchema,
  parseSpec,
  SecretSpecSchema,
  ServiceSpecSchema,
  type Config,
  type ConfigSpec,
  type Secret,
  type SecretSpec,
  type Service,
  type ServiceSpec,
  type Task,
  type TaskSpec,
} from '../../api/swarm.js';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../../lib/errors.js';
import { randomName } from '../../agent/containers/names.js';
import { newId } from '../ca/certs.js';
import { allocatePorts, publishesOnMesh } from '../allocator/allocator.js';
import { allocateNetwork, VXLAN_OPTION, type AllocatedNetwork } from '../allocator/networks.js';
import { isLive, modeOf, specDigest, taskView, type ServiceObject, type TaskObject } from '../orchestrator/model.js';
import { validatePlacement } from '../scheduler/index.js';
import type { NodeObject } from '../objects.js';
import type { ReplicatedStore } from '../store/replicated.js';
import type { StoredObject, Table } from '../store/types.js';

/** Seals secret data under the cluster's data key (AES-256-GCM), bound to the secret's ID. */
export interface DataBox {
  seal(aad: string, plain: Buffer): string;
  open(aad: string, sealed: string): Buffer;
}

export type Filters = Record<string, string[]>;

export interface SecretObject extends StoredObject {
  Spec: Omit<SecretSpec, 'Data'> & { Name: string };
  /** The data, sealed; never in the clear in the raft log or snapshots. */
  Sealed: string;
}

export interface ConfigObject extends StoredObject {
  Spec: ConfigSpec & { Name: string };
}

export interface NetworkObject extends StoredObject {
  Spec: { Name: string; Labels: Record<string, string>; Driver: string; Attachable: boolean; Internal: boolean; Ingress: boolean; IPAM?: unknown; Options: Record<string, string> };
  /** The allocator's decisions: subnet and gateway, and the VXLAN ID (Docker's swarm Network fields). */
  IPAMOptions?: { Driver: { Name: string }; Configs: { Subnet: string; Gateway: string }[] };
  DriverState?: { Name: string; Options: Record<string, string> };
}

export interface WorkloadApi {
  createService(spec: unknown): Promise<{ ID: string; Warnings: string[] | null }>;
  updateService(ref: string, version: number, spec: unknown, rollback: boolean): Promise<{ Warnings: string[] | null }>;
  removeService(ref: string): Promise<void>;
  getService(ref: string, status: boolean): Promise<Service>;
  listServices(filters: Filters, status: boolean): Promise<Service[]>;
  getTask(ref: string): Promise<Task>;
  listTasks(filters: Filters): Promise<Task[]>;
  createSecret(spec: unknown): Promise<{ ID: string }>;
  updateSecret(ref: string, version: number, spec: unknown): Promise<void>;
  removeSecret(ref: string): Promise<void>;
  getSecret(ref: string): Promise<Secret>;
  listSecrets(filters: Filters): Promise<Secret[]>;
  createConfig(spec: unknown): Promise<{ ID: string }>;
  updateConfig(ref: string, version: number, spec: unknown): Promise<void>;
  removeConfig(ref: string): Promise<void>;
  getConfig(ref: string): Promise<Config>;
  listConfigs(filters: Filters): Promise<Config[]>;
  createNetwork(spec: unknown): Promise<{ Id: string; Warning: string }>;
  removeNetwork(ref: string): Promise<void>;
  getNetwork(ref: string): Promise<Record<string, unknown>>;
  listNetworks(): Promise<Record<string, unknown>[]>;
}

export const WORKLOAD_METHODS = [
  'createService',
  'updateService',
  'removeService',
  'getService',
  'listServices',
  'getTask',
  'listTasks',
  'createSecret',
  'updateSecret',
  'removeSecret',
  'getSecret',
  'listSecrets',
  'createConfig',
  'updateConfig',
  'removeConfig',
  'getConfig',
  'listConfigs',
  'createNetwork',
  'removeNetwork',
  'getNetwork',
  'listNetworks',
] as const;

/** Docker's rule for service, secret, config and network names. */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const MAX_SECRET_BYTES = 500 * 1024;

function checkName(name: string, what: string): void {
  if (!NAME.test(name) || name.length > 63) throw new InvalidArgumentError(`invalid name "${name}" for a ${what}: names are 1-63 characters of [a-zA-Z0-9_.-], starting with a letter or digit`);
}

function checkVersion(o: StoredObject, version: number, what: string): void {
  if (version !== o.Version.Index) throw new ConflictError(`update out of sequence: ${what} ${o.ID} is at version ${o.Version.Index}, the update was made from version ${version}`);
}

const labelsMatch = (labels: Record<string, string> | null | undefined, want: string[]): boolean =>
  want.every((w) => {
    const i = w.indexOf('=');
    return i < 0 ? labels?.[w] !== undefined : labels?.[w.slice(0, i)] === w.slice(i + 1);
  });

/** Docker's name filter matches a prefix of the name; id filters a prefix of the ID. */
function matchCommon(o: { ID: string; Spec?: { Name?: string; Labels?: Record<string, string> | null } }, f: Filters): boolean {
  if (f.id?.length && !f.id.some((v) => o.ID.startsWith(v))) return false;
  if (f.name?.length && !f.name.some((v) => (o.Spec?.Name ?? '').startsWith(v))) return false;
  if (f.label?.length && !labelsMatch(o.Spec?.Labels, f.label)) return false;
  return true;
}

/** The registry credentials a spec carries to its nodes (--with-registry-auth) never leave the managers' API. */
function hideAuth(spec: ServiceSpec): ServiceSpec {
  return { ...spec, TaskTemplate: hideTaskAuth(spec.TaskTemplate) };
}

function hideTaskAuth(spec: TaskSpec): TaskSpec {
  if (!('PullOptions' in spec.ContainerSpec)) return spec;
  const { PullOptions: _p, ...cs } = spec.ContainerSpec;
  return { ...spec, ContainerSpec: cs as TaskSpec['ContainerSpec'] };
}

/** Prefix of a registry credential sealed under the data key (the raft log never holds it in the clear). */
export const SEALED_AUTH = 'sealed:';
export const registryAuthAad = (serviceId: string): string => `registry-auth:${serviceId}`;

/** The X-Registry-Auth value a container spec carries (--with-registry-auth), sealed or not. */
export function registryAuthOf(cs: object | undefined): string | undefined {
  return (cs as { PullOptions?: { RegistryAuth?: string } } | undefined)?.PullOptions?.RegistryAuth;
}

/**
 * The registry credentials a spec is stored with. Brought ones are sealed under the cluster's data key,
 * bound to the service; the same ones as the current spec keep its sealed form (a fresh seal would
 * differ and start a rolling update for nothing). An update that brings none keeps the service's
 * (Docker's default, registryAuthFrom=spec): clients send back the spec they read, which never shows them.
 */
function storedAuth(spec: ServiceSpec, cur: ServiceSpec | undefined, serviceId: string, box: DataBox): ServiceSpec {
  const brought = registryAuthOf(spec.TaskTemplate.ContainerSpec);
  const before = registryAuthOf(cur?.TaskTemplate.ContainerSpec);
  let auth: string | undefined;
  if (brought === undefined) auth = 'PullOptions' in spec.TaskTemplate.ContainerSpec ? undefined : before;
  else if (brought.startsWith(SEALED_AUTH)) auth = brought;
  else {
    const aad = registryAuthAad(serviceId);
    const same = before?.startsWith(SEALED_AUTH) && box.open(aad, before.slice(SEALED_AUTH.length)).toString('utf8') === brought;
    auth = same ? before : SEALED_AUTH + box.seal(aad, Buffer.from(brought, 'utf8'));
  }
  if (auth === brought) return spec;
  const cs = { ...spec.TaskTemplate.ContainerSpec, PullOptions: { RegistryAuth: auth } } as TaskSpec['ContainerSpec'];
  return { ...spec, TaskTemplate: { ...spec.TaskTemplate, ContainerSpec: cs } };
}

function publicTask(t: TaskObject): Task {
  const v = taskView(t);
  return { ...v, Spec: hideTaskAuth(v.Spec) };
}

export class WorkloadControl implements WorkloadApi {
  constructor(
    private readonly store: ReplicatedStore,
    private readonly box: DataBox,
    private readonly now: () => number = Date.now,
  ) {}

  private get view() {
    return this.store.view;
  }

  private resolve<T>(table: Table, ref: string, what: string): T {
    return this.view.resolve(table, ref, what) as unknown as T;
  }

  // ---- services ----

  private validateService(raw: unknown, current?: ServiceObject): { spec: ServiceSpec; ports: ReturnType<typeof allocatePorts> } {
    const spec = parseSpec(ServiceSpecSchema, raw, 'service spec');
    if (!spec.Mode) spec.Mode = { Replicated: { Replicas: 1 } };
    if (spec.Mode.Replicated && spec.Mode.Replicated.Replicas === undefined) spec.Mode.Replicated.Replicas = 1;
    if (spec.Mode.ReplicatedJob) spec.Mode.ReplicatedJob = { TotalCompletions: spec.Mode.ReplicatedJob.TotalCompletions ?? 1, MaxConcurrent: spec.Mode.ReplicatedJob.MaxConcurrent ?? spec.Mode.ReplicatedJob.TotalCompletions ?? 1 };
    if (!spec.Name) spec.Name = randomName((n) => this.view.byName('services', n) !== undefined);
    checkName(spec.Name, 'service');
    validatePlacement(spec.TaskTemplate.Placement, 'TaskTemplate.Placement');
    // Docker's API moved service networks into the task template; accept both, keep one.
    if (spec.Networks?.length && !spec.TaskTemplate.Networks?.length) spec.TaskTemplate.Networks = spec.Networks;
    delete spec.Networks;
    for (const [i, n] of (spec.TaskTemplate.Networks ?? []).entries()) {
      const net = this.view.resolve('networks', n.Target, 'network');
      spec.TaskTemplate.Networks![i] = { ...n, Target: net.ID };
    }
    for (const [i, s] of (spec.TaskTemplate.ContainerSpec.Secrets ?? []).entries()) {
      if (!this.view.get('secrets', s.SecretID)) throw new NotFoundError(`TaskTemplate.ContainerSpec.Secrets[${i}]: secret not found: ${s.SecretName} (${s.SecretID})`);
    }
    for (const [i, c] of (spec.TaskTemplate.ContainerSpec.Configs ?? []).entries()) {
      if (!this.view.get('configs', c.ConfigID)) throw new NotFoundError(`TaskTemplate.ContainerSpec.Configs[${i}]: config not found: ${c.ConfigName} (${c.ConfigID})`);
    }
    const targets = new Set<string>();
    for (const s of spec.TaskTemplate.ContainerSpec.Secrets ?? []) {
      if (targets.has(s.File.Name)) throw new InvalidArgumentError(`TaskTemplate.ContainerSpec.Secrets: target ${s.File.Name} is used twice`);
      targets.add(s.File.Name);
    }
    if (current) {
      if (current.Spec.Name !== spec.Name) throw new InvalidArgumentError(`renaming services is not supported (${current.Spec.Name} → ${spec.Name})`);
      if (modeOf(current.Spec) !== modeOf(spec)) throw new InvalidArgumentError(`service mode change is not allowed (${modeOf(current.Spec)} → ${modeOf(spec)})`);
    }
    const others = (this.view.list('services') as ServiceObject[]).filter((s) => s.ID !== current?.ID);
    const ports = allocatePorts(
      // A port published before keeps its number when the update leaves it unnumbered.
      spec,
      others,
    );
    return { spec, ports };
  }

  async createService(raw: unknown): Promise<{ ID: string; Warnings: string[] | null }> {
    const checked = this.validateService(raw);
    const id = newId();
    const spec = storedAuth(checked.spec, undefined, id, this.box);
    const ports = checked.ports;
    const obj = { ID: id, Spec: spec, Endpoint: { Spec: spec.EndpointSpec ?? { Mode: 'vip' }, ...(ports.length ? { Ports: ports } : {}) }, ...(spec.Mode?.ReplicatedJob || spec.Mode?.GlobalJob ? { JobIteration: { Index: 0 } } : {}) };
    await this.store.update((tx) => tx.create('services', obj));
    return { ID: id, Warnings: null };
  }

  async updateService(ref: string, version: number, raw: unknown, rollback: boolean): Promise<{ Warnings: string[] | null }> {
    const cur = this.resolve<ServiceObject>('services', ref, 'service');
    checkVersion(cur, version, 'service');
    const at = new Date(this.now()).toISOString();
    let next: ServiceObject;
    if (rollback) {
      if (!cur.PreviousSpec) throw new InvalidArgumentError(`service ${cur.Spec.Name} does not have a previous spec to roll back to`);
      const { ports } = this.validateService(cur.PreviousSpec, cur);
      next = { ...cur, Spec: cur.PreviousSpec, PreviousSpec: cur.Spec, Endpoint: { ...cur.Endpoint, Spec: cur.PreviousSpec.EndpointSpec ?? { Mode: 'vip' }, Ports: ports }, UpdateStatus: { State: 'rollback_started', StartedAt: at, Message: 'manually requested rollback' } };
    } else {
      const checked = this.validateService(raw, cur);
      const spec = storedAuth(checked.spec, cur.Spec, cur.ID, this.box);
      const ports = checked.ports;
      const changed = specDigest(spec.TaskTemplate) !== specDigest(cur.Spec.TaskTemplate);
      next = { ...cur, Spec: spec, PreviousSpec: cur.Spec, Endpoint: { ...cur.Endpoint, Spec: spec.EndpointSpec ?? { Mode: 'vip' }, Ports: ports } };
      if (changed) next.UpdateStatus = { State: 'updating', StartedAt: at, Message: 'update in progress' };
      const job = spec.Mode?.ReplicatedJob || spec.Mode?.GlobalJob;
      // A job runs again when its spec changes or it is forced (`service update --force`).
      if (job && (changed || (spec.TaskTemplate.ForceUpdate ?? 0) !== (cur.Spec.TaskTemplate.ForceUpdate ?? 0))) {
        next.JobIteration = { Index: (cur.JobIteration?.Index ?? 0) + 1 };
        delete next.UpdateStatus;
      }
    }
    await this.store.update((tx) => tx.update('services', next));
    return { Warnings: null };
  }

  async removeService(ref: string): Promise<void> {
    const s = this.resolve<ServiceObject>('services', ref, 'service');
    await this.store.update((tx) => tx.delete('services', s.ID));
  }

  private serviceView(s: ServiceObject, status: boolean): Service {
    const { JobIteration, ...rest } = s;
    const out: Service = { ...rest, Spec: hideAuth(s.Spec), ...(s.PreviousSpec ? { PreviousSpec: hideAuth(s.PreviousSpec) } : {}), Endpoint: s.Endpoint };
    if (JobIteration) out.JobStatus = { JobIteration };
    if (status) {
      const tasks = this.view.tasksOf({ serviceId: s.ID }) as TaskObject[];
      const nodes = new Map(this.view.list('nodes').map((n) => [n.ID, n as unknown as NodeObject]));
      // Tasks on a down node are not counted as running (Docker's CLI does the same).
      const running = tasks.filter((t) => t.Status.State === 'running' && t.DesiredState === 'running' && nodes.get(t.NodeID ?? '')?.Status.State !== 'down').length;
      const completed = tasks.filter((t) => t.Status.State === 'complete' && (!JobIteration || t.JobIteration?.Index === JobIteration.Index)).length;
      const mode = modeOf(s.Spec);
      let desired = 0;
      if (mode === 'replicated') desired = s.Spec.Mode?.Replicated?.Replicas ?? 1;
      else if (mode === 'global') desired = tasks.filter((t) => isLive(t) && t.NodeID && nodes.get(t.NodeID)?.Status.State !== 'down').length;
      else if (mode === 'replicated-job') desired = Math.min(s.Spec.Mode?.ReplicatedJob?.MaxConcurrent ?? 1, Math.max(0, (s.Spec.Mode?.ReplicatedJob?.TotalCompletions ?? 1) - completed));
      else desired = tasks.filter((t) => isLive(t) && t.Status.State !== 'complete').length;
      out.ServiceStatus = { RunningTasks: running, DesiredTasks: desired, CompletedTasks: completed };
    }
    return out;
  }

  async getService(ref: string, status: boolean): Promise<Service> {
    return this.serviceView(this.resolve<ServiceObject>('services', ref, 'service'), status);
  }

  async listServices(filters: Filters, status: boolean): Promise<Service[]> {
    const mode = filters.mode;
    return (this.view.list('services') as ServiceObject[])
      .filter((s) => matchCommon(s, filters) && (!mode?.length || mode.includes(modeOf(s.Spec))))
      .sort((a, b) => (a.Spec.Name ?? '').localeCompare(b.Spec.Name ?? ''))
      .map((s) => this.serviceView(s, status));
  }

  // ---- tasks ----

  async getTask(ref: string): Promise<Task> {
    const t = this.view.get('tasks', ref) ?? this.view.list('tasks', (x) => x.ID.startsWith(ref))[0];
    if (!t) throw new NotFoundError(`task ${ref} not found`);
    return publicTask(t as unknown as TaskObject);
  }

  async listTasks(f: Filters): Promise<Task[]> {
    const services = f.service?.map((r) => {
      try {
        return this.view.resolve('services', r, 'service').ID;
      } catch {
        return r;
      }
    });
    const nodes = f.node?.map((r) => {
      try {
        return this.view.resolve('nodes', r, 'node').ID;
      } catch {
        return r;
      }
    });
    const svc = new Map((this.view.list('services') as ServiceObject[]).map((s) => [s.ID, s]));
    const names = new Map([...svc.values()].map((s) => [s.ID, s.Spec.Name ?? '']));
    // Docker's CLI asks for `_up-to-date` tasks while it shows progress: those running the current spec.
    const upToDate = f['_up-to-date']?.includes('true');
    return (this.view.list('tasks') as unknown as TaskObject[])
      .filter((t) => {
        if (t.Attachment) return false;
        if (f.id?.length && !f.id.some((v) => t.ID.startsWith(v))) return false;
        if (services?.length && !services.includes(t.ServiceID)) return false;
        if (nodes?.length && !nodes.includes(t.NodeID ?? '')) return false;
        if (f['desired-state']?.length && !f['desired-state'].includes(t.DesiredState === 'ready' ? 'running' : t.DesiredState)) return false;
        // As SwarmKit: a task's labels are its service's (that is how `stack ps` finds a stack's tasks).
        if (f.label?.length && !labelsMatch({ ...(svc.get(t.ServiceID)?.Spec.Labels ?? {}), ...t.Labels }, f.label)) return false;
        if (upToDate) {
          const s = svc.get(t.ServiceID);
          if (!s || t.SpecDigest !== specDigest(s.Spec.TaskTemplate)) return false;
        }
        if (f.name?.length) {
          const n = `${names.get(t.ServiceID) ?? ''}.${t.Slot ?? t.NodeID}`;
          if (!f.name.some((v) => n.startsWith(v))) return false;
        }
        return true;
      })
      .sort((a, b) => (a.CreatedAt < b.CreatedAt ? -1 : a.CreatedAt > b.CreatedAt ? 1 : 0))
      .map(publicTask);
  }

  // ---- secrets and configs ----

  async createSecret(raw: unknown): Promise<{ ID: string }> {
    const spec = parseSpec(SecretSpecSchema, raw, 'secret spec');
    checkName(spec.Name, 'secret');
    const data = Buffer.from(spec.Data ?? '', 'base64');
    if (data.length === 0) throw new InvalidArgumentError(`secret ${spec.Name}: Data is empty (base64 of 1 byte to ${MAX_SECRET_BYTES / 1024} KiB)`);
    if (data.length > MAX_SECRET_BYTES) throw new InvalidArgumentError(`secret ${spec.Name}: ${data.length} bytes is over the limit of ${MAX_SECRET_BYTES} bytes`);
    if (this.view.byName('secrets', spec.Name)) throw new ConflictError(`rpc error: code = AlreadyExists desc = secret ${spec.Name} already exists`);
    const id = newId();
    const { Data: _d, ...rest } = spec;
    const obj = { ID: id, Spec: { ...rest, Labels: spec.Labels ?? {} }, Sealed: this.box.seal(`secret:${id}`, data) };
    await this.store.update((tx) => tx.create('secrets', obj));
    return { ID: id };
  }

  /** Only labels change; the data of a secret is immutable (Docker's rule). */
  async updateSecret(ref: string, version: number, raw: unknown): Promise<void> {
    const cur = this.resolve<SecretObject>('secrets', ref, 'secret');
    checkVersion(cur, version, 'secret');
    const spec = parseSpec(SecretSpecSchema, raw, 'secret spec');
    if (spec.Name !== cur.Spec.Name) throw new InvalidArgumentError('only updates to Labels are allowed (Name differs)');
    if (spec.Data !== undefined && !this.box.open(`secret:${cur.ID}`, cur.Sealed).equals(Buffer.from(spec.Data, 'base64'))) {
      throw new InvalidArgumentError('only updates to Labels are allowed (Data differs)');
    }
    await this.store.update((tx) => tx.update('secrets', { ...cur, Spec: { ...cur.Spec, Labels: spec.Labels ?? {} } }));
  }

  private usedBy(kind: 'secret' | 'config', id: string): string[] {
    return (this.view.list('services') as ServiceObject[])
      .filter((s) => (kind === 'secret' ? s.Spec.TaskTemplate.ContainerSpec.Secrets?.some((x) => x.SecretID === id) : s.Spec.TaskTemplate.ContainerSpec.Configs?.some((x) => x.ConfigID === id)))
      .map((s) => s.Spec.Name ?? s.ID);
  }

  async removeSecret(ref: string): Promise<void> {
    const s = this.resolve<SecretObject>('secrets', ref, 'secret');
    const users = this.usedBy('secret', s.ID);
    if (users.length) throw new InvalidArgumentError(`rpc error: code = InvalidArgument desc = secret '${s.Spec.Name}' is in use by the following service${users.length > 1 ? 's' : ''}: ${users.join(', ')}`);
    await this.store.update((tx) => tx.delete('secrets', s.ID));
  }

  async getSecret(ref: string): Promise<Secret> {
    const s = this.resolve<SecretObject>('secrets', ref, 'secret');
    return { ID: s.ID, Version: s.Version, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt, Spec: s.Spec };
  }

  async listSecrets(f: Filters): Promise<Secret[]> {
    return (this.view.list('secrets') as SecretObject[]).filter((s) => matchCommon(s, f)).map((s) => ({ ID: s.ID, Version: s.Version, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt, Spec: s.Spec }));
  }

  async createConfig(raw: unknown): Promise<{ ID: string }> {
    const spec = parseSpec(ConfigSpecSchema, raw, 'config spec');
    checkName(spec.Name, 'config');
    const size = Buffer.from(spec.Data ?? '', 'base64').length;
    if (size > MAX_SECRET_BYTES) throw new InvalidArgumentError(`config ${spec.Name}: ${size} bytes is over the limit of ${MAX_SECRET_BYTES} bytes`);
    if (this.view.byName('configs', spec.Name)) throw new ConflictError(`rpc error: code = AlreadyExists desc = config ${spec.Name} already exists`);
    const id = newId();
    await this.store.update((tx) => tx.create('configs', { ID: id, Spec: { ...spec, Labels: spec.Labels ?? {}, Data: spec.Data ?? '' } }));
    return { ID: id };
  }

  async updateConfig(ref: string, version: number, raw: unknown): Promise<void> {
    const cur = this.resolve<ConfigObject>('configs', ref, 'config');
    checkVersion(cur, version, 'config');
    const spec = parseSpec(ConfigSpecSchema, raw, 'config spec');
    if (spec.Name !== cur.Spec.Name || (spec.Data !== undefined && spec.Data !== cur.Spec.Data)) throw new InvalidArgumentError('only updates to Labels are allowed');
    await this.store.update((tx) => tx.update('configs', { ...cur, Spec: { ...cur.Spec, Labels: spec.Labels ?? {} } }));
  }

  async removeConfig(ref: string): Promise<void> {
    const c = this.resolve<ConfigObject>('configs', ref, 'config');
    const users = this.usedBy('config', c.ID);
    if (users.length) throw new InvalidArgumentError(`rpc error: code = InvalidArgument desc = config '${c.Spec.Name}' is in use by the following service${users.length > 1 ? 's' : ''}: ${users.join(', ')}`);
    await this.store.update((tx) => tx.delete('configs', c.ID));
  }

  async getConfig(ref: string): Promise<Config> {
    const c = this.resolve<ConfigObject>('configs', ref, 'config');
    return { ID: c.ID, Version: c.Version, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Spec: c.Spec };
  }

  async listConfigs(f: Filters): Promise<Config[]> {
    return (this.view.list('configs') as ConfigObject[]).filter((c) => matchCommon(c, f)).map((c) => ({ ID: c.ID, Version: c.Version, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Spec: c.Spec }));
  }

  // ---- swarm-scoped networks (the overlay data path comes with the overlay driver) ----

  /** Network creates one at a time: each allocation must see the previous one's subnet and VNI. */
  private networkLock: Promise<unknown> = Promise.resolve();

  createNetwork(raw: unknown): Promise<{ Id: string; Warning: string }> {
    const run = this.networkLock.then(() => this.createNetworkNow(raw));
    this.networkLock = run.catch(() => undefined);
    return run;
  }

  private async createNetworkNow(raw: unknown): Promise<{ Id: string; Warning: string }> {
    const b = (raw ?? {}) as { Name?: string; Driver?: string; Labels?: Record<string, string>; Attachable?: boolean; Internal?: boolean; Ingress?: boolean; IPAM?: unknown; Options?: Record<string, string> };
    if (!b.Name) throw new InvalidArgumentError('network create: Name is required');
    checkName(b.Name, 'network');
    const driver = b.Driver || 'overlay';
    if (driver !== 'overlay') throw new InvalidArgumentError(`network ${b.Name}: driver "${driver}" is not a swarm-scoped driver (want overlay)`);
    if (this.view.byName('networks', b.Name)) throw new ConflictError(`network with name ${b.Name} already exists`);
    const id = newId();
    const spec: NetworkObject['Spec'] = { Name: b.Name, Labels: b.Labels ?? {}, Driver: driver, Attachable: !!b.Attachable, Internal: !!b.Internal, Ingress: !!b.Ingress, Options: b.Options ?? {}, ...(b.IPAM ? { IPAM: b.IPAM } : {}) };
    // Docker's `--opt encrypted` puts IPsec between the nodes. Ours has no encryption: taking the
    // option and sending clear VXLAN would tell the user their traffic is protected when it is not.
    if ('encrypted' in spec.Options) throw new InvalidArgumentError(`network ${b.Name}: --opt encrypted (IPsec between nodes) is not supported by tsswarm's overlay driver, and the network would carry clear VXLAN; leave the option out, or encrypt the underlay between the hosts (e.g. WireGuard)`);
    const mtu = spec.Options['com.docker.network.driver.mtu'];
    if (mtu !== undefined && !(/^\d+$/.test(mtu) && Number(mtu) >= 576 && Number(mtu) <= 9000)) throw new InvalidArgumentError(`network ${b.Name}: --opt com.docker.network.driver.mtu=${mtu} is not an MTU (576-9000)`);
    const want = (b.IPAM as { Config?: { Subnet?: string; Gateway?: string }[] } | undefined)?.Config?.[0] ?? {};
    const cluster = this.view.list('cluster')[0] as { DefaultAddrPool?: string[]; SubnetSize?: number } | undefined;
    const a = allocateNetwork(b.Name, { ...(want.Subnet ? { Subnet: want.Subnet } : {}), ...(want.Gateway ? { Gateway: want.Gateway } : {}) }, this.allocatedNetworks(), cluster?.DefaultAddrPool ?? ['10.0.0.0/8'], cluster?.SubnetSize ?? 24);
    const obj = {
      ID: id,
      Spec: spec,
      IPAMOptions: { Driver: { Name: 'default' }, Configs: [{ Subnet: a.Subnet, Gateway: a.Gateway }] },
      DriverState: { Name: 'overlay', Options: { [VXLAN_OPTION]: String(a.VNI) } },
    };
    await this.store.update((tx) => tx.create('networks', obj));
    return { Id: id, Warning: '' };
  }

  private allocatedNetworks(): AllocatedNetwork[] {
    return (this.view.list('networks') as NetworkObject[]).map((n) => ({ ID: n.ID, Name: n.Spec.Name, Subnet: n.IPAMOptions?.Configs?.[0]?.Subnet ?? '0.0.0.0/32', VNI: Number(n.DriverState?.Options[VXLAN_OPTION] ?? 0) }));
  }

  async removeNetwork(ref: string): Promise<void> {
    const n = this.resolve<NetworkObject>('networks', ref, 'network');
    if (n.Spec.Ingress && (this.view.list('services') as ServiceObject[]).some(publishesOnMesh)) {
      throw new ConflictError('rpc error: code = FailedPrecondition desc = ingress network cannot be removed because service(s) publish ports through it');
    }
    const attached = (this.view.list('tasks') as unknown as TaskObject[]).filter((t) => t.Attachment && (t as { NetworksAttachments?: { Network: { ID: string } }[] }).NetworksAttachments?.some((a) => a.Network.ID === n.ID));
    if (attached.length) throw new ConflictError(`network ${n.Spec.Name} has active endpoints (${attached.map((t) => t.ServiceName).join(', ')})`);
    const users = (this.view.list('services') as ServiceObject[]).filter((s) => s.Spec.TaskTemplate.Networks?.some((x) => x.Target === n.ID)).map((s) => s.Spec.Name);
    if (users.length) throw new ConflictError(`rpc error: code = FailedPrecondition desc = network ${n.Spec.Name} is in use by service ${users.join(', ')}`);
    await this.store.update((tx) => tx.delete('networks', n.ID));
  }

  private networkView(n: NetworkObject): Record<string, unknown> {
    return {
      Name: n.Spec.Name,
      Id: n.ID,
      Created: n.CreatedAt,
      Scope: 'swarm',
      Driver: n.Spec.Driver,
      EnableIPv6: false,
      IPAM: { Driver: 'default', Options: {}, Config: (n.IPAMOptions?.Configs ?? []).map((c) => ({ Subnet: c.Subnet, Gateway: c.Gateway })) },
      Internal: n.Spec.Internal,
      Attachable: n.Spec.Attachable,
      Ingress: n.Spec.Ingress,
      ConfigFrom: { Network: '' },
      ConfigOnly: false,
      Containers: {},
      Options: { ...n.Spec.Options, ...(n.DriverState?.Options ?? {}) },
      Labels: n.Spec.Labels,
    };
  }

  async getNetwork(ref: string): Promise<Record<string, unknown>> {
    return this.networkView(this.resolve<NetworkObject>('networks', ref, 'network'));
  }

  async listNetworks(): Promise<Record<string, unknown>[]> {
    return (this.view.list('networks') as NetworkObject[]).map((n) => this.networkView(n));
  }
}
