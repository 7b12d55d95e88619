// The node's side of swarm mode: init, join, leave and restart, the agent session every node keeps,
// and the manager a manager node runs. State lives in data-root/swarm/: state.json, certificates/
// (key 0600) and, on managers, raft/. A restarted daemon finds them and rejoins as the same node.
import { networkInterfaces } from 'node:os';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { z } from 'zod';
import { AgentSession } from '../agent/session/session.js';
import { writeFileAtomic } from '../lib/atomic.js';
import { ConflictError, InvalidArgumentError, UnavailableError, ForbiddenError, DomainError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { certInfo, createCSR, DEFAULT_CERT_EXPIRY_MS, generateKey, MIN_CERT_EXPIRY_MS, renewAt } from '../manager/ca/certs.js';
import { checkPinnedRoot, parseToken, rootDigest } from '../manager/ca/tokens.js';
import { open, parseUnlockKey, seal } from '../manager/ca/kek.js';
import type { ControlApi } from '../manager/controlapi/control.js';
import type { WorkloadApi } from '../manager/controlapi/workload.js';
import type { LogsRequest, TaskLogEntry } from '../manager/protocol.js';
import type { Worker } from '../agent/exec/worker.js';
import { clusterCall, Manager, type NodeCredentials } from '../manager/manager.js';
import type { NodeObject } from '../manager/objects.js';
import { forceNewCluster } from '../manager/force-new-cluster.js';
import { CaResponseSchema, DEFAULT_CLUSTER_PORT, DEFAULT_HEARTBEAT_MS, JoinResponseSchema, PeerSchema, RenewResponseSchema, ROUTES, type NodeDescription, type Peer, type RenewResponse } from '../manager/protocol.js';

const StateSchema = z.object({
  nodeId: z.string(),
  clusterId: z.string(),
  role: z.enum(['worker', 'manager']),
  listenAddr: z.string(),
  advertiseAddr: z.string(),
  managers: z.array(PeerSchema),
  /** Managers of an autolocked swarm keep their TLS key and the data key sealed under the unlock key. */
  autolock: z.boolean().default(false),
});
type SwarmState = z.infer<typeof StateSchema>;

export type LocalNodeState = 'inactive' | 'pending' | 'active' | 'error' | 'locked';

export const NOT_IN_SWARM =
  'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
export const LOCKED = 'Swarm is encrypted and needs to be unlocked before it can be used. Please use "docker swarm unlock" to unlock it.';
export const WORKER_NODE =
  "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.";

export interface InitRequest {
  ListenAddr?: string;
  AdvertiseAddr?: string;
  ForceNewCluster?: boolean;
  DefaultAddrPool?: string[];
  SubnetSize?: number;
  DataPathPort?: number;
  Spec?: { Dispatcher?: { HeartbeatPeriod?: number }; CAConfig?: { NodeCertExpiry?: number }; EncryptionConfig?: { AutoLockManagers?: boolean } };
}

export interface JoinRequest {
  ListenAddr?: string;
  AdvertiseAddr?: string;
  RemoteAddrs: string[];
  JoinToken: string;
  Availability?: 'active' | 'pause' | 'drain';
}

export class SwarmNode {
  private state: SwarmState | undefined;
  private creds: NodeCredentials | undefined;
  private manager: Manager | undefined;
  private session: AgentSession | undefined;
  private busy = false;
  private dataKey: Buffer | undefined;
  /** Kept in memory only while unlocked, to seal renewed keys. */
  private kek: Buffer | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private local: LocalNodeState = 'inactive';
  private error = '';

  constructor(
    private readonly dataRoot: string,
    private readonly describe: () => NodeDescription,
    private readonly log: Logger,
    /** Runs the tasks the managers assign to this node (absent: a node that only manages, in tests). */
    private readonly worker?: Worker,
  ) {}

  private get dir(): string {
    return join(this.dataRoot, 'swarm');
  }

  /** On daemon start: rejoin as the same node when swarm state exists. */
  async restore(): Promise<void> {
    let text: string;
    try {
      text = await readFile(join(this.dir, 'state.json'), 'utf8');
    } catch {
      return;
    }
    try {
      this.state = StateSchema.parse(JSON.parse(text));
      if (this.state.autolock && this.state.role === 'manager') {
        // Locked until `swarm unlock` gives the key that opens the sealed keys.
        this.local = 'locked';
        return;
      }
      await this.loadKeys(undefined);
      await this.resume();
    } catch (e) {
      this.local = 'error';
      this.error = `cannot rejoin the swarm from ${this.dir}: ${(e as Error).message}`;
      this.log.error('swarm restore failed', { err: e });
    }
  }

  /** Reads the node's TLS key and (managers) the data key, opening them with `kek` when sealed. */
  private async loadKeys(kek: Buffer | undefined): Promise<void> {
    const certs = join(this.dir, 'certificates');
    const read = async (plain: string, sealed: string, aad: string): Promise<Buffer> =>
      kek ? open(kek, await readFile(join(this.dir, sealed)), aad) : readFile(join(this.dir, plain));
    const key = (await read('certificates/key.pem', 'certificates/key.sealed', 'node-key')).toString('utf8');
    this.creds = { key, cert: await readFile(join(certs, 'cert.pem'), 'utf8'), rootCA: await readFile(join(certs, 'root.pem'), 'utf8') };
    this.dataKey = this.state!.role === 'manager' ? await read('data.key', 'data.key.sealed', 'data-key') : undefined;
  }

  /** With keys loaded: the manager (on managers) and the agent session. */
  private async resume(): Promise<void> {
    if (this.state!.role === 'manager') await this.startManager(this.state!.managers);
    this.startSession();
    this.local = 'active';
  }

  /** `swarm unlock`: the unlock key opens the sealed keys; then the node rejoins. */
  unlock(unlockKey: string): Promise<void> {
    return this.exclusive(async () => {
      if (this.local !== 'locked') throw new UnavailableError('swarm is not locked');
      const kek = parseUnlockKey(unlockKey);
      try {
        await this.loadKeys(kek);
        this.kek = kek;
      } catch (e) {
        this.creds = undefined;
        this.dataKey = undefined;
        if (e instanceof ForbiddenError) throw new InvalidArgumentError('invalid key: the unlock key does not open this node\'s sealed keys');
        throw e;
      }
      await this.resume();
    });
  }

  private async startManager(peers: Peer[]): Promise<void> {
    const s = this.state!;
    if (!this.dataKey) throw new UnavailableError('this manager has no data key: it cannot open the cluster secrets');
    this.manager = await Manager.open({
      dir: this.dir,
      nodeId: s.nodeId,
      clusterId: s.clusterId,
      listen: splitAddr(s.listenAddr, 'listen address'),
      advertiseAddr: s.advertiseAddr,
      credentials: this.creds!,
      dataKey: this.dataKey,
      peers,
      log: (event, fields) => this.log.info(event, fields),
      onLock: (lock) => void this.applyLock(lock).catch((e: Error) => this.log.error('cannot re-seal this manager\'s keys for the swarm\'s lock', { err: e })),
    });
  }

  /**
   * Autolock turned on or off, or the unlock key rotated: this manager's key and data key are sealed
   * anew under the key in force (or written in the clear). The new files are written and the state
   * saved before the old form is removed, so a crash in between leaves a node that still starts (in
   * the old form, which the next lock report then replaces).
   */
  private async applyLock(lock: { autolock: boolean; unlockKey: string }): Promise<void> {
    const s = this.state;
    if (!s || s.role !== 'manager' || !this.creds || !this.dataKey) return;
    const kek = lock.autolock ? parseUnlockKey(lock.unlockKey) : undefined;
    if (s.autolock === !!kek && (kek && this.kek ? kek.equals(this.kek) : kek === this.kek)) return;
    const certs = join(this.dir, 'certificates');
    if (kek) {
      await writeFileAtomic(join(this.dir, 'data.key.sealed'), seal(kek, this.dataKey, 'data-key'), 0o600);
      await writeFileAtomic(join(certs, 'key.sealed'), seal(kek, Buffer.from(this.creds.key), 'node-key'), 0o600);
    } else {
      await writeFileAtomic(join(this.dir, 'data.key'), this.dataKey, 0o600);
      await writeFileAtomic(join(certs, 'key.pem'), this.creds.key, 0o600);
    }
    this.kek = kek;
    this.state = { ...s, autolock: !!kek };
    await this.saveState();
    for (const f of kek ? [join(this.dir, 'data.key'), join(certs, 'key.pem')] : [join(this.dir, 'data.key.sealed'), join(certs, 'key.sealed')]) await rm(f, { force: true });
    this.log.info(kek ? 'manager keys sealed under the unlock key' : 'autolock off: manager keys kept in the clear');
  }

  /**
   * Renews this node's certificate at a random point between 50% and 80% of its life (SwarmKit's
   * window), with the same role, through the manager its session is on; retried on failure.
   */
  private scheduleRenewal(retryMs?: number): void {
    if (this.renewTimer) clearTimeout(this.renewTimer);
    if (!this.creds) return;
    const due = retryMs ?? Math.max(1000, renewAt(certInfo(this.creds.cert), Math.random()).getTime() - Date.now());
    // setTimeout holds at most ~24.8 days; a longer wait is re-armed when it fires.
    const wait = Math.min(due, 2 ** 31 - 1);
    this.renewTimer = setTimeout(() => {
      if (wait < due) return this.scheduleRenewal(due - wait);
      void this.renew()
        .then(() => this.scheduleRenewal())
        .catch((e: Error) => {
          this.log.warn('certificate renewal failed; retrying in 30s', { err: e });
          this.scheduleRenewal(30_000);
        });
    }, wait);
    this.renewTimer.unref();
  }

  /** A new key and certificate for the same node and role. */
  async renew(): Promise<void> {
    const { key, renewed } = await this.requestCertificate('renewal');
    this.creds = { key, cert: renewed.certificate, rootCA: renewed.rootCA };
    await this.saveCreds(this.creds, undefined, this.kek);
    this.manager?.setCredentials(this.creds);
    this.log.info('certificate renewed', { expires: certInfo(renewed.certificate).notAfter.toISOString() });
  }

  /**
   * A new key, and a certificate for it from the manager the session is on (or the first known):
   * the role is the manager's to decide, from the store.
   */
  private async requestCertificate(what: string): Promise<{ key: string; renewed: RenewResponse }> {
    const s = this.state;
    const creds = this.creds;
    if (!s || !creds) throw new UnavailableError(NOT_IN_SWARM);
    const manager = this.session?.connectedTo ?? s.managers[0]?.addr;
    if (!manager) throw new UnavailableError('no manager to renew the certificate with');
    const key = generateKey();
    const r = await clusterCall(manager, ROUTES.renew, { csr: createCSR(key) }, creds);
    if (r.status !== 200) throw new UnavailableError(`certificate ${what} refused by ${manager}: ${(r.body as { message?: string })?.message ?? r.status}`);
    return { key, renewed: RenewResponseSchema.parse(r.body) };
  }

  private startSession(): void {
    const s = this.state!;
    this.scheduleRenewal();
    this.session = new AgentSession({
      managers: () => this.state?.managers ?? [],
      credentials: () => this.creds!,
      description: this.describe,
      addr: s.advertiseAddr,
      onManagers: (m) => {
        if (!this.state || sameManagers(this.state.managers, m)) return;
        this.state = { ...this.state, managers: m };
        void this.saveState().catch((e: Error) => this.log.warn('cannot save the manager list', { err: e }));
      },
      onRenew: () => {
        void this.renew()
          .then(() => this.scheduleRenewal())
          .catch((e: Error) => {
            this.log.warn('certificate renewal for a root rotation failed; retrying in 5s', { err: e });
            this.scheduleRenewal(5000);
          });
      },
      onRole: (role) => {
        void this.changeRole(role).catch((e: Error) => this.log.error('role change failed', { role, err: e }));
      },
      onRemoved: (reason) => {
        this.log.warn('removed from the swarm', { reason });
        void this.wipe();
      },
      onAssignments: (kind, changes) => this.worker?.assign(kind, changes),
      onLogs: async (req, emit, cancelled) => this.worker?.logs(req, emit, cancelled),
      onConnected: (up) => {
        if (!this.worker) return;
        if (up) this.worker.attach((u) => this.session?.sendStatus(u) ?? false);
        else this.worker.detach();
      },
      log: (event, fields) => (event.endsWith('error') || event.endsWith('silent') ? this.log.info(event, fields) : this.log.debug(event, fields)),
    });
    this.session.start();
  }

  /**
   * After promote/demote: a certificate for the new role from the leader, then the manager started
   * (raft as a learner; the leader promotes it once caught up) or stopped and its raft data removed.
   */
  private async changeRole(role: 'worker' | 'manager'): Promise<void> {
    const s = this.state;
    if (!s || !this.creds || s.role === role) return;
    const { key, renewed } = await this.requestCertificate(`renewal for the ${role} role`);
    if (renewed.role !== role) throw new ConflictError(`the manager issued a ${renewed.role} certificate, expected ${role}`);
    this.creds = { key, cert: renewed.certificate, rootCA: renewed.rootCA };
    if (role === 'manager') {
      if (!renewed.dataKey) throw new UnavailableError('the promotion came without the cluster data key');
      this.dataKey = Buffer.from(renewed.dataKey, 'base64');
      this.kek = renewed.autolock && renewed.unlockKey ? parseUnlockKey(renewed.unlockKey) : undefined;
    } else {
      this.dataKey = undefined;
      this.kek = undefined;
      await rm(join(this.dir, 'data.key'), { force: true });
      await rm(join(this.dir, 'data.key.sealed'), { force: true });
    }
    await this.saveCreds(this.creds, this.dataKey, this.kek);
    this.state = { ...s, role, autolock: role === 'manager' && this.kek !== undefined };
    await this.saveState();
    if (role === 'manager') {
      await this.startManager(s.managers);
    } else {
      await this.manager?.stop();
      this.manager = undefined;
      await rm(join(this.dir, 'raft'), { recursive: true, force: true });
    }
    this.log.info('swarm role changed', { role });
  }

  private async saveState(): Promise<void> {
    await writeFileAtomic(join(this.dir, 'state.json'), JSON.stringify(this.state, null, 2), 0o600);
  }

  /**
   * The node's key (and a manager's data key): in the clear, or with autolock sealed under the unlock
   * key so that a stopped manager's disk holds neither (`kek` is the parsed unlock key).
   */
  private async saveCreds(c: NodeCredentials, dataKey?: Buffer, kek?: Buffer): Promise<void> {
    await mkdir(join(this.dir, 'certificates'), { recursive: true, mode: 0o700 });
    if (kek) {
      await writeFileAtomic(join(this.dir, 'certificates', 'key.sealed'), seal(kek, Buffer.from(c.key), 'node-key'), 0o600);
      await rm(join(this.dir, 'certificates', 'key.pem'), { force: true });
      if (dataKey) await writeFileAtomic(join(this.dir, 'data.key.sealed'), seal(kek, dataKey, 'data-key'), 0o600);
      await rm(join(this.dir, 'data.key'), { force: true });
    } else {
      await writeFileAtomic(join(this.dir, 'certificates', 'key.pem'), c.key, 0o600);
      if (dataKey) await writeFileAtomic(join(this.dir, 'data.key'), dataKey, 0o600);
    }
    await writeFileAtomic(join(this.dir, 'certificates', 'cert.pem'), c.cert, 0o644);
    await writeFileAtomic(join(this.dir, 'certificates', 'root.pem'), c.rootCA, 0o644);
  }

  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.busy) throw new UnavailableError('another swarm init, join or leave is in progress on this node');
    this.busy = true;
    try {
      return await fn();
    } finally {
      this.busy = false;
    }
  }

  init(req: InitRequest): Promise<string> {
    return this.exclusive(async () => {
      if (this.state && req.ForceNewCluster) return this.recover();
      if (this.state) throw new UnavailableError('This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.');
      const listen = parseListenAddr(req.ListenAddr ?? `0.0.0.0:${DEFAULT_CLUSTER_PORT}`);
      const advertiseAddr = resolveAdvertise(req.AdvertiseAddr, listen);
      const heartbeatMs = req.Spec?.Dispatcher?.HeartbeatPeriod ? req.Spec.Dispatcher.HeartbeatPeriod / 1e6 : DEFAULT_HEARTBEAT_MS;
      if (heartbeatMs < 100) throw new InvalidArgumentError(`invalid heartbeat period ${heartbeatMs}ms: the minimum is 100ms (Spec.Dispatcher.HeartbeatPeriod)`);
      const certExpiryMs = req.Spec?.CAConfig?.NodeCertExpiry ? req.Spec.CAConfig.NodeCertExpiry / 1e6 : DEFAULT_CERT_EXPIRY_MS;
      if (certExpiryMs < MIN_CERT_EXPIRY_MS) throw new InvalidArgumentError(`invalid certificate expiry: the minimum is 1h (Spec.CAConfig.NodeCertExpiry)`);
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      try {
        const b = await Manager.bootstrap({
          dir: this.dir,
          listen,
          advertiseAddr,
          description: this.describe(),
          heartbeatMs,
          certExpiryMs,
          autolock: req.Spec?.EncryptionConfig?.AutoLockManagers === true,
          defaultAddrPool: req.DefaultAddrPool?.length ? req.DefaultAddrPool : ['10.0.0.0/8'],
          subnetSize: req.SubnetSize || 24,
          dataPathPort: req.DataPathPort || 4789,
          log: (event, fields) => this.log.info(event, fields),
        });
        this.manager = b.manager;
        this.creds = b.credentials;
        this.dataKey = b.dataKey;
        const autolock = req.Spec?.EncryptionConfig?.AutoLockManagers === true;
        this.kek = autolock ? parseUnlockKey(b.unlockKey) : undefined;
        this.state = { nodeId: b.nodeId, clusterId: b.clusterId, role: 'manager', listenAddr: `${listen.host}:${listen.port}`, advertiseAddr, managers: [{ nodeId: b.nodeId, addr: advertiseAddr }], autolock };
        await this.saveCreds(b.credentials, b.dataKey, this.kek);
        await this.saveState();
      } catch (e) {
        await this.manager?.stop().catch(() => undefined);
        this.manager = undefined;
        this.state = undefined;
        await rm(this.dir, { recursive: true, force: true });
        throw e;
      }
      this.startSession();
      this.local = 'active';
      return this.state.nodeId;
    });
  }

  /**
   * `init --force-new-cluster` on a manager that lost quorum: its committed state becomes a one-manager
   * swarm (same cluster, same node IDs and tokens); the old raft data is kept aside.
   */
  private async recover(): Promise<string> {
    const s = this.state!;
    if (s.role !== 'manager' || !this.creds) throw new UnavailableError('--force-new-cluster needs a manager node: this node is a worker');
    await this.manager?.stop();
    this.manager = undefined;
    const r = await forceNewCluster(this.dir, s.nodeId);
    this.log.warn('forced a new cluster from this manager\'s state', { index: r.index, term: r.term, kept: r.keptAt });
    this.state = { ...s, managers: [{ nodeId: s.nodeId, addr: s.advertiseAddr }] };
    await this.saveState();
    await this.startManager([]);
    await this.manager!.waitForLeader();
    return s.nodeId;
  }

  join(req: JoinRequest): Promise<void> {
    return this.exclusive(async () => {
      if (this.state) throw new UnavailableError('This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.');
      parseToken(req.JoinToken);
      if (!req.RemoteAddrs?.length) throw new InvalidArgumentError('at least 1 RemoteAddr is required to join');
      const listen = parseListenAddr(req.ListenAddr ?? `0.0.0.0:${DEFAULT_CLUSTER_PORT}`);
      const advertiseAddr = resolveAdvertise(req.AdvertiseAddr, listen);
      let remote = withPort(req.RemoteAddrs[0]!);
      // Pin the root before anything else is sent: the token carries its digest.
      const root = await fetchRoot(remote);
      checkPinnedRoot(req.JoinToken, root);
      const key = generateKey();
      const body = { token: req.JoinToken, csr: createCSR(key), advertiseAddr, listenAddr: `${listen.host}:${listen.port}`, availability: req.Availability ?? 'active', hostname: this.describe().Hostname };
      let r = await clusterCall(remote, ROUTES.join, body, { rootCA: root });
      if (r.status === 421 && typeof (r.body as { leader?: string }).leader === 'string' && (r.body as { leader: string }).leader) {
        remote = (r.body as { leader: string }).leader;
        r = await clusterCall(remote, ROUTES.join, body, { rootCA: root });
      }
      if (r.status !== 200) {
        const b = r.body as { message?: string; kind?: DomainError['kind'] };
        throw new DomainError(b?.kind ?? 'internal', `join refused by ${remote}: ${b?.message ?? `status ${r.status}`}`);
      }
      const j = JoinResponseSchema.parse(r.body);
      if (rootDigest(j.rootCA) !== rootDigest(root)) throw new ForbiddenError('the manager answered the join with a different root CA than it presented');
      const creds = { key, cert: j.certificate, rootCA: j.rootCA };
      if (j.role === 'manager' && !j.dataKey) throw new UnavailableError('the manager join answer came without the cluster data key');
      const dataKey = j.dataKey ? Buffer.from(j.dataKey, 'base64') : undefined;
      const kek = j.role === 'manager' && j.autolock && j.unlockKey ? parseUnlockKey(j.unlockKey) : undefined;
      const state: SwarmState = { nodeId: j.nodeId, clusterId: j.clusterId, role: j.role, listenAddr: `${listen.host}:${listen.port}`, advertiseAddr, managers: j.managers, autolock: kek !== undefined };
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      try {
        this.creds = creds;
        this.dataKey = dataKey;
        this.kek = kek;
        this.state = state;
        await this.saveCreds(creds, dataKey, kek);
        await this.saveState();
        if (j.role === 'manager') await this.startManager(j.raftPeers ?? j.managers);
      } catch (e) {
        await this.manager?.stop().catch(() => undefined);
        this.manager = undefined;
        this.state = undefined;
        this.creds = undefined;
        await rm(this.dir, { recursive: true, force: true });
        throw e;
      }
      this.startSession();
      this.local = 'active';
    });
  }

  leave(force: boolean): Promise<void> {
    return this.exclusive(async () => {
      if (!this.state) throw new UnavailableError('This node is not part of a swarm');
      if (this.state.role === 'manager' && !force) {
        throw new UnavailableError(
          'You are attempting to leave the swarm on a node that is participating as a manager. Removing this node leaves the remaining managers without this one; use `--force` to ignore this message.',
        );
      }
      await this.wipe();
    });
  }

  private async wipe(): Promise<void> {
    if (this.renewTimer) clearTimeout(this.renewTimer);
    this.session?.stop();
    this.session = undefined;
    this.worker?.detach();
    // A node out of the swarm runs no service tasks (Docker removes their containers too).
    await this.worker?.leave().catch((e: Error) => this.log.warn('cannot remove task containers on leave', { err: e }));
    await this.manager?.stop();
    this.manager = undefined;
    this.state = undefined;
    this.creds = undefined;
    this.dataKey = undefined;
    this.kek = undefined;
    this.local = 'inactive';
    await rm(this.dir, { recursive: true, force: true });
  }

  async stop(): Promise<void> {
    if (this.renewTimer) clearTimeout(this.renewTimer);
    this.session?.stop();
    await this.manager?.stop();
  }

  /** The control API, or Docker's error for a node that is not a manager. */
  control(): ControlApi & WorkloadApi {
    if (!this.state) throw new UnavailableError(NOT_IN_SWARM);
    if (this.local === 'locked') throw new UnavailableError(LOCKED);
    if (!this.manager) throw new UnavailableError(WORKER_NODE);
    return this.manager.control();
  }

  /** An address on an attachable overlay for a standalone container here; undefined outside a swarm. */
  async attach(network: string, containerId: string, containerName: string): Promise<Record<string, unknown> | undefined> {
    if (!this.session) return undefined;
    return this.session.attach(network, containerId, containerName);
  }

  detach(containerId: string): void {
    this.session?.detach(containerId);
  }

  /** `service logs` through this manager (see Manager.logs). */
  logs(request: LogsRequest, onEntries: (e: TaskLogEntry[]) => void, onEnd: (error?: string) => void): () => void {
    this.control(); // Docker's error on a worker or outside a swarm
    return this.manager!.logs(request, onEntries, onEnd);
  }

  /** This node's underlay address (its advertise address without the port), '' outside a swarm. */
  nodeAddr(): string {
    const a = this.state?.advertiseAddr ?? '';
    return a.includes(':') ? a.slice(0, a.lastIndexOf(':')) : a;
  }

  /** A manager of an unlocked swarm: it can answer for the cluster's objects. */
  isManager(): boolean {
    return !!this.state && this.local !== 'locked' && !!this.manager;
  }

  nodeId(): string | undefined {
    return this.state?.nodeId;
  }

  /** /info's Swarm section (Docker's SwarmInfo). */
  async info(): Promise<Record<string, unknown>> {
    const s = this.state;
    if (!s) return { NodeID: '', NodeAddr: '', LocalNodeState: this.local, ControlAvailable: false, Error: this.error, RemoteManagers: null };
    const out: Record<string, unknown> = {
      NodeID: s.nodeId,
      NodeAddr: s.advertiseAddr.slice(0, s.advertiseAddr.lastIndexOf(':')),
      LocalNodeState: this.local,
      ControlAvailable: !!this.manager,
      Error: this.error,
      RemoteManagers: s.managers.map((m) => ({ NodeID: m.nodeId, Addr: m.addr })),
    };
    if (this.manager) {
      try {
        const c = this.manager.control();
        const nodes = (await c.listNodes()) as unknown as NodeObject[];
        out.Nodes = nodes.length;
        out.Managers = nodes.filter((n) => n.Spec.Role === 'manager').length;
        const sw = await c.getSwarm();
        const { JoinTokens: _t, ...cluster } = sw;
        out.Cluster = cluster;
      } catch (e) {
        out.Error = (e as Error).message;
      }
      const r = this.manager.raftStatus();
      out.Raft = { Leader: r.leader, Term: r.term, Commit: r.commit, Applied: r.applied, Voters: r.voters, Learners: r.learners };
    }
    if (this.creds) {
      out.CADigest = `sha256:${rootDigest(this.creds.rootCA)}`;
      out.CertExpiry = certInfo(this.creds.cert).notAfter.toISOString();
    }
    return out;
  }

  /** The unlock key of an autolocked swarm (Docker: GET /swarm/unlockkey). */
  async unlockKey(): Promise<string> {
    return this.control().getUnlockKey();
  }

}

function sameManagers(a: Peer[], b: Peer[]): boolean {
  return a.length === b.length && a.every((m, i) => m.nodeId === b[i]!.nodeId && m.addr === b[i]!.addr);
}

function splitAddr(addr: string, what: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  const port = Number(addr.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError(`invalid ${what} "${addr}": want HOST:PORT`);
  return { host: addr.slice(0, i).replace(/^\[|\]$/g, ''), port };
}

function withPort(addr: string): string {
  return /:\d+$/.test(addr) ? addr : `${addr}:${DEFAULT_CLUSTER_PORT}`;
}

function isIPv4(s: string): boolean {
  return /^(\d{1,3})(\.\d{1,3}){3}$/.test(s) && s.split('.').every((p) => Number(p) <= 255);
}

/** `--listen-addr`: HOST[:PORT] or an interface name[:PORT]. */
export function parseListenAddr(spec: string, what = 'listen address (--listen-addr)'): { host: string; port: number } {
  const m = /^(.*?)(?::(\d+))?$/.exec(spec.trim())!;
  const hostPart = m[1] || '0.0.0.0';
  const port = m[2] ? Number(m[2]) : DEFAULT_CLUSTER_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError(`invalid ${what} "${spec}": port ${m[2]} is out of range (1-65535)`);
  if (isIPv4(hostPart)) return { host: hostPart, port };
  const ifc = networkInterfaces()[hostPart]?.find((a) => a.family === 'IPv4');
  if (ifc) return { host: ifc.address, port };
  throw new InvalidArgumentError(`invalid ${what} "${spec}": "${hostPart}" is neither an IPv4 address nor an interface of this host`);
}

/** `--advertise-addr`, defaulting to the listen address, or this host's only non-loopback address. */
export function resolveAdvertise(spec: string | undefined, listen: { host: string; port: number }): string {
  if (spec) {
    const p = parseListenAddr(spec.includes(':') ? spec : `${spec}:${listen.port}`, 'advertise address (--advertise-addr)');
    if (p.host === '0.0.0.0') throw new InvalidArgumentError(`advertise address must be a non-zero IP address or network interface (with optional port number), not "${spec}"`);
    return `${p.host}:${p.port}`;
  }
  if (listen.host !== '0.0.0.0') return `${listen.host}:${listen.port}`;
  const addrs = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && a.family === 'IPv4' && !a.internal)
    .map((a) => a!.address);
  const unique = [...new Set(addrs)];
  if (unique.length === 1) return `${unique[0]}:${listen.port}`;
  if (unique.length === 0) throw new InvalidArgumentError('could not choose an IP address to advertise since this system has no non-loopback address: use --advertise-addr');
  throw new InvalidArgumentError(`could not choose an IP address to advertise since this system has multiple addresses (${unique.join(', ')}): use --advertise-addr`);
}

/** The root a manager presents, fetched without trusting anything yet: the caller pins it. */
function fetchRoot(addr: string): Promise<string> {
  const { host, port } = splitAddr(addr, 'manager address');
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host, port, path: ROUTES.ca, rejectUnauthorized: false, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(CaResponseSchema.parse(JSON.parse(Buffer.concat(chunks).toString('utf8'))).rootCA);
        } catch {
          reject(new ConflictError(`${addr} did not answer as a swarm manager (no root CA)`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 10s')));
    req.on('error', (e) => reject(new UnavailableError(`cannot reach the manager at ${addr}: ${e.message}`)));
    req.end();
  });
}
