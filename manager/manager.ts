// A swarm manager: raft + the replicated store + the cluster port (CA service, control API, agent
// sessions, raft stream). Leader-only parts (dispatcher, learner promotion) start and stop with
// leadership. Built by the node's swarm lifecycle (node/swarm.ts); it never touches the engine.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';
import { sendJson, statusOfKind } from '../lib/http.js';
import { ConflictError, DomainError, errorKind, ForbiddenError, InvalidArgumentError, UnavailableError } from '../lib/errors.js';
import { authorize, type Revocations } from './ca/authorize.js';
import { certInfo, createCSR, createRootCA, generateKey, issue, newId, type RootCA } from './ca/certs.js';
import { JoinLimiter } from './ca/join-limiter.js';
import { newSecret, roleOfToken } from './ca/tokens.js';
import { newUnlockKey } from './ca/kek.js';
import { newDataKey, openSecrets, sealSecrets, type ClusterSecrets } from './cluster-secrets.js';
import { ClusterPort, peerOf, type Credentials } from './cluster-port/listener.js';
import { CONTROL_METHODS, LocalControl, type ControlApi, type Membership } from './controlapi/control.js';
import { Dispatcher } from './dispatcher/dispatcher.js';
import { LogsRequestSchema, type LogsRequest, type TaskLogEntry } from './protocol.js';
import { WORKLOAD_METHODS, WorkloadControl, type DataBox, type WorkloadApi } from './controlapi/workload.js';
import { OrchestratorLoop } from './orchestrator/loop.js';
import { PassNetworks } from './allocator/attachments.js';
import type { NetworkObject } from './controlapi/workload.js';
import type { ServiceObject, TaskObject } from './orchestrator/model.js';
import { open as openSealed, seal as sealPlain } from './ca/kek.js';
import { defaultClusterSpec, NS_PER_MS, type ClusterObject, type NodeObject, type RaftView } from './objects.js';
import {
  ALPN_RAFT,
  CLOSE_NOT_LEADER,
  ControlRequestSchema,
  ControlResponseSchema,
  JoinRequestSchema,
  RenewRequestSchema,
  ROUTES,
  type JoinResponse,
  type RenewResponse,
  type NodeDescription,
  type Peer,
} from './protocol.js';
import { NotLeaderError, RaftNode } from './raft/node/raft-node.js';
import { DiskStorage } from './raft/storage/disk-storage.js';
import { TcpTransport } from './raft/transport/tcp.js';
import type { Watch } from './store/watch.js';
import { ReplicatedStore, StoreStateMachine } from './store/replicated.js';
import type { ApplyResult } from './store/types.js';

export interface NodeCredentials {
  key: string;
  cert: string;
  rootCA: string;
}

export interface ManagerOptions {
  /** data-root/swarm: raft lives in `raft/` under it. */
  dir: string;
  nodeId: string;
  clusterId: string;
  listen: { host: string; port: number };
  /** host:port peers and agents dial. */
  advertiseAddr: string;
  credentials: NodeCredentials;
  /** The cluster's data key, which opens the sealed cluster secrets. */
  dataKey: Buffer;
  /** Other managers known at start (joining or restarting): raft peers until the log says more. */
  peers: Peer[];
  log: (event: string, fields: Record<string, unknown>) => void;
  tickMs?: number;
  /**
   * Autolock turned on or off, or the unlock key rotated (`swarm update --autolock`, `swarm unlock-key
   * --rotate`): called on every manager as the change is applied, and once for the state at start, so
   * the node seals its own keys under the key in force (or in the clear).
   */
  onLock?: (lock: { autolock: boolean; unlockKey: string }) => void;
}

export interface BootstrapOptions {
  dir: string;
  listen: { host: string; port: number };
  advertiseAddr: string;
  description: NodeDescription;
  heartbeatMs: number;
  certExpiryMs: number;
  autolock: boolean;
  defaultAddrPool: string[];
  subnetSize: number;
  dataPathPort: number;
  log: ManagerOptions['log'];
  tickMs?: number;
}

const MAX_BODY = 256 * 1024;

/** A node object before the store stamps its version and times. */
type NodeInit = {
  ID: string;
  Spec: NodeObject['Spec'];
  Description: NodeObject['Description'];
  Status: NodeObject['Status'];
  ManagerStatus?: NodeObject['ManagerStatus'];
  ClusterAddr?: string;
  CertSerial?: string;
  CertRoot?: string;
};
/** A learner whose log is within this many entries of the leader's is promoted to voter. */
const CAUGHT_UP_WITHIN = 10;

export class Manager {
  private raft!: RaftNode<ApplyResult>;
  private storage: DiskStorage | undefined;
  private transport!: TcpTransport;
  private port!: ClusterPort;
  readonly sm = new StoreStateMachine();
  store!: ReplicatedStore;
  private dispatcher!: Dispatcher;
  private local!: LocalControl;
  private workload!: WorkloadControl;
  private orchestrator!: OrchestratorLoop;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly joins = new JoinLimiter();
  private leader = '';
  private promoter: NodeJS.Timeout | undefined;
  private creds: NodeCredentials;
  private stopped = false;
  private lockWatch: Watch | undefined;

  private constructor(readonly o: ManagerOptions) {
    this.creds = o.credentials;
  }

  get nodeId(): string {
    return this.o.nodeId;
  }
  get clusterId(): string {
    return this.o.clusterId;
  }

  /** `swarm init`: a new cluster with this node as its only manager. */
  static async bootstrap(b: BootstrapOptions): Promise<{ manager: Manager; credentials: NodeCredentials; nodeId: string; clusterId: string; dataKey: Buffer; unlockKey: string }> {
    const root: RootCA = createRootCA();
    const dataKey = newDataKey();
    const unlockKey = newUnlockKey();
    const nodeId = newId();
    const clusterId = newId();
    const key = generateKey();
    const ip = b.advertiseAddr.slice(0, b.advertiseAddr.lastIndexOf(':'));
    const cert = issue(root, createCSR(key), { nodeId, role: 'manager', clusterId }, { expiryMs: b.certExpiryMs, ips: [ip] });
    const credentials = { key, cert, rootCA: root.certPem };
    const storage = await DiskStorage.open(join(b.dir, 'raft'));
    if (!storage.isEmpty()) throw new UnavailableError(`${b.dir}/raft already holds raft state: leave the old swarm first (swarm leave --force)`);
    storage.bootstrap({ voters: [nodeId], learners: [] });
    await storage.sync();
    const m = new Manager({ dir: b.dir, nodeId, clusterId, listen: b.listen, advertiseAddr: b.advertiseAddr, credentials, dataKey, peers: [], log: b.log, tickMs: b.tickMs });
    await m.start(storage);
    await m.waitForLeader();
    const cluster = {
      ID: clusterId,
      Spec: defaultClusterSpec({ heartbeatMs: b.heartbeatMs, certExpiryMs: b.certExpiryMs, autolock: b.autolock }),
      RootCA: { CACert: root.certPem },
      Sealed: sealSecrets(dataKey, clusterId, { caKey: root.keyPem, worker: newSecret(), manager: newSecret(), unlockKey }),
      DefaultAddrPool: b.defaultAddrPool,
      SubnetSize: b.subnetSize,
      DataPathPort: b.dataPathPort,
      RemovedNodes: [],
    };
    const self: NodeInit = {
      ID: nodeId,
      Spec: { Labels: {}, Role: 'manager', Availability: 'active' },
      Description: b.description,
      Status: { State: 'unknown', Message: '', Addr: ip },
      ManagerStatus: { Addr: b.advertiseAddr },
      ClusterAddr: b.advertiseAddr,
      CertSerial: certInfo(cert).serial,
      CertRoot: root.certPem,
    };
    await m.store.update((tx) => {
      tx.create('cluster', cluster);
      tx.create('nodes', self);
    });
    return { manager: m, credentials, nodeId, clusterId, dataKey, unlockKey };
  }

  /** A restarting manager, or one that just joined (empty raft storage: the leader fills it). */
  static async open(o: ManagerOptions): Promise<Manager> {
    const m = new Manager(o);
    const storage = await DiskStorage.open(join(o.dir, 'raft'));
    await m.start(storage);
    return m;
  }

  private async start(storage: DiskStorage): Promise<void> {
    this.storage = storage;
    const o = this.o;
    this.transport = TcpTransport.attached({
      id: o.nodeId,
      address: o.advertiseAddr,
      tls: {
        key: this.creds.key,
        cert: this.creds.cert,
        ca: this.creds.rootCA,
        alpn: ALPN_RAFT,
        // Managers are dialled by address; the certificate must name the member we meant.
        checkServerIdentity: (peerId, _host, cert) => {
          const cn = Array.isArray(cert.subject?.CN) ? cert.subject.CN[0] : cert.subject?.CN;
          return cn === peerId ? undefined : new Error(`raft peer at this address is ${cn}, expected ${peerId}`);
        },
        identify: (s) => {
          try {
            const p = peerOf(s);
            authorize(p, o.clusterId, ['manager'], this.revocations);
            return p!.nodeId;
          } catch (e) {
            return e as Error;
          }
        },
      },
      log: (event, fields) => (event.includes('error') || event.includes('refused') ? o.log(`raft.${event}`, fields) : undefined),
    });
    for (const p of o.peers) if (p.nodeId !== o.nodeId) this.transport.addPeer(p.nodeId, p.addr);
    this.raft = new RaftNode<ApplyResult>({
      id: o.nodeId,
      storage,
      transport: this.transport,
      stateMachine: this.sm,
      tickMs: o.tickMs ?? 100,
      electionTick: 10,
      heartbeatTick: 1,
      snapshotEvery: 10_000,
      keepEntriesBehindSnapshot: 500,
      onLeaderChange: (lead) => this.onLeaderChange(lead),
      onConfChange: (cc) => {
        if (cc.node === o.nodeId || !cc.node) return;
        if (cc.type === 'removeVoter') this.transport.removePeer(cc.node);
        else if (cc.context) this.transport.addPeer(cc.node, cc.context);
      },
      onFatal: (err) => o.log('raft.fatal', { error: err.message }),
      log: (event, fields) => (event.includes('fatal') || event.includes('error') ? o.log(`raft.${event}`, fields) : undefined),
    });
    this.store = new ReplicatedStore(this.raft, this.sm);
    const membership: Membership = {
      raftView: () => this.raftView(),
      removeManager: (id) => this.removeManager(id),
      addManager: async (id, addr) => {
        this.transport.addPeer(id, addr);
        await this.raft.changeMembership({ type: 'addLearner', node: id, context: addr });
        this.dispatcher.pushManagers();
      },
      pushRole: (id, role) => this.dispatcher.pushRole(id, role),
      pushRenewAll: () => this.dispatcher.pushRenewAll(),
    };
    this.local = new LocalControl(this.store, o.clusterId, membership, {
      open: (c) => openSecrets(o.dataKey, o.clusterId, c.Sealed),
      seal: (s) => sealSecrets(o.dataKey, o.clusterId, s),
    });
    // Secret data sealed under the data key, bound to the secret's ID: the raft log and snapshots
    // (on every manager's disk) never hold it in the clear.
    const box: DataBox = {
      seal: (aad, plain) => sealPlain(o.dataKey, plain, `${o.clusterId}:${aad}`).toString('base64'),
      open: (aad, sealed) => openSealed(o.dataKey, Buffer.from(sealed, 'base64'), `${o.clusterId}:${aad}`),
    };
    this.workload = new WorkloadControl(this.store, box);
    this.orchestrator = new OrchestratorLoop({ store: this.store, clusterId: o.clusterId, log: o.log });
    this.dispatcher = new Dispatcher({
      store: this.store,
      box,
      attach: (node, network, id, name) => this.attachContainer(node, network, id, name),
      detach: (node, id) => this.detachContainer(node, id),
      periodMs: () => this.heartbeatMs(),
      managers: () => this.managers(),
      log: o.log,
    });
    this.port = await ClusterPort.listen({
      host: o.listen.host,
      port: o.listen.port,
      credentials: this.tlsCredentials(),
      onRaft: (s) => this.transport.acceptSocket(s),
      onRequest: (req, res) => void this.onRequest(req, res),
      onUpgrade: (req, socket, head) => this.onUpgrade(req, socket, head),
      log: o.log,
    });
    this.raft.start();
    if (o.onLock) void this.followLock(o.onLock);
  }

  /** Reports the cluster's lock (autolock and unlock key) whenever an applied entry changes it. */
  private async followLock(report: NonNullable<ManagerOptions['onLock']>): Promise<void> {
    let last: string | undefined;
    const check = (): void => {
      const c = this.sm.state.get('cluster', this.o.clusterId) as ClusterObject | undefined;
      if (!c) return;
      const autolock = c.Spec.EncryptionConfig.AutoLockManagers;
      const { unlockKey } = openSecrets(this.o.dataKey, this.o.clusterId, c.Sealed);
      const now = `${autolock}:${unlockKey}`;
      if (now === last) return;
      last = now;
      report({ autolock, unlockKey });
    };
    while (!this.stopped) {
      const w = this.store.watch({ tables: ['cluster'] });
      this.lockWatch = w;
      check();
      // Ends when closed: on stop, or by a snapshot restore (then the state is checked afresh).
      while (await w.next()) check();
    }
  }

  /** A renewed certificate: later TLS handshakes (cluster port, raft dials) use it. */
  setCredentials(c: NodeCredentials): void {
    this.creds = c;
    this.port.setCredentials(this.tlsCredentials());
    this.transport.setTls({ key: c.key, cert: c.cert, ca: c.rootCA });
  }

  /** The cluster's root (during a rotation, the current one followed by the next). */
  private currentRoot(): string {
    const c = this.sm.state.get('cluster', this.o.clusterId) as ClusterObject | undefined;
    if (!c) return this.creds.rootCA;
    return c.RootCA.Rotation ? `${c.RootCA.CACert}${c.RootCA.Rotation.NextCert}` : c.RootCA.CACert;
  }

  private tlsCredentials(): Credentials {
    return { key: this.creds.key, cert: this.creds.cert, ca: this.creds.rootCA };
  }

  get revocations(): Revocations {
    return {
      isRevoked: (nodeId, serial) => {
        const c = this.sm.state.get('cluster', this.o.clusterId) as ClusterObject | undefined;
        return ((c?.RemovedNodes as string[] | undefined) ?? []).includes(nodeId) || ((c?.RevokedSerials as string[] | undefined) ?? []).includes(serial.toLowerCase());
      },
    };
  }

  heartbeatMs(): number {
    const c = this.sm.state.get('cluster', this.o.clusterId) as ClusterObject | undefined;
    return c ? Math.max(100, c.Spec.Dispatcher.HeartbeatPeriod / NS_PER_MS) : 1000;
  }

  /** Managers and their cluster-port addresses, from the store. */
  managers(): Peer[] {
    return (this.sm.state.list('nodes', (n) => (n as NodeObject).Spec.Role === 'manager' && !!(n as NodeObject).ManagerStatus) as NodeObject[]).map((n) => ({
      nodeId: n.ID,
      addr: n.ManagerStatus!.Addr,
    }));
  }

  isLeader(): boolean {
    return this.leader === this.o.nodeId;
  }

  leaderId(): string {
    return this.leader;
  }

  leaderAddr(): string {
    if (this.leader === this.o.nodeId) return this.o.advertiseAddr;
    return this.managers().find((m) => m.nodeId === this.leader)?.addr ?? '';
  }

  raftView(): RaftView {
    return { leader: this.leader, voters: this.raft.status().conf.voters };
  }

  raftStatus(): { leader: string; term: number; commit: number; applied: number; voters: string[]; learners: string[] } {
    const s = this.raft.status();
    return { leader: s.lead, term: s.term, commit: s.commit, applied: s.applied, voters: s.conf.voters, learners: s.conf.learners };
  }

  async waitForLeader(tries = 300): Promise<string> {
    for (let i = 0; i < tries; i++) {
      if (this.leader) return this.leader;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new UnavailableError('no raft leader elected: the swarm has lost quorum (recover with `swarm init --force-new-cluster` on a manager)');
  }

  private onLeaderChange(lead: string): void {
    const was = this.leader === this.o.nodeId;
    this.leader = lead;
    const is = lead === this.o.nodeId;
    this.o.log('manager.leader', { leader: lead || '(none)' });
    if (is && !was) {
      this.dispatcher.start();
      this.orchestrator.start();
      this.promoter = setInterval(() => void this.promoteLearners(), 300);
      this.promoter.unref();
    } else if (!is && was) {
      if (this.promoter) clearInterval(this.promoter);
      this.orchestrator.stop();
      this.dispatcher.stop('leadership lost', this.leaderAddr());
    }
  }

  /** The control API: this manager's own when leader, else forwarded to the leader. */
  control(): ControlApi & WorkloadApi {
    if (this.isLeader()) return bindAll(this.local, this.workload);
    return remoteControl(() => this.leaderAddr(), () => this.creds);
  }

  /** Ends a root rotation once every node holds a certificate from the next root. */
  private async finishRotation(): Promise<void> {
    const c = this.sm.state.get('cluster', this.o.clusterId) as ClusterObject | undefined;
    const r = c?.RootCA.Rotation;
    if (!c || !r) return;
    const nodes = this.sm.state.list('nodes') as NodeObject[];
    if (!nodes.every((n) => n.CertRoot === r.NextCert)) return;
    const s = openSecrets(this.o.dataKey, this.o.clusterId, c.Sealed);
    if (!s.nextCaKey) return;
    const next: ClusterObject = { ...c, RootCA: { CACert: r.NextCert, Generation: c.RootCA.Generation }, Sealed: sealSecrets(this.o.dataKey, this.o.clusterId, { ...s, caKey: s.nextCaKey, nextCaKey: undefined }) };
    await this.store.update((tx) => tx.update('cluster', next));
    this.o.log('manager.root_rotated', { generation: c.RootCA.Generation });
    // Nodes renew once more: certificates without the bridge, and the new root alone to trust.
    this.dispatcher.pushRenewAll();
  }

  private async promoteLearners(): Promise<void> {
    await this.finishRotation().catch((e: Error) => this.o.log('manager.rotation_failed', { error: e.message }));
    const pr = this.raft.progress();
    if (!pr) return;
    for (const id of this.raft.status().conf.learners) {
      const match = pr.match.get(id) ?? 0;
      if (match + CAUGHT_UP_WITHIN < pr.lastIndex) continue;
      const addr = this.managers().find((m) => m.nodeId === id)?.addr;
      try {
        await this.raft.changeMembership({ type: 'addVoter', node: id, context: addr });
        this.o.log('manager.promoted', { node: id });
        this.dispatcher.pushManagers();
      } catch (e) {
        this.o.log('manager.promote_failed', { node: id, error: (e as Error).message });
      }
      return; // one change at a time
    }
  }

  private async removeManager(nodeId: string): Promise<void> {
    const conf = this.raft.status().conf;
    if (!conf.voters.includes(nodeId) && !conf.learners.includes(nodeId)) return;
    const rest = conf.voters.filter((v) => v !== nodeId);
    const reachable = rest.filter((v) => v === this.o.nodeId || (this.sm.state.get('nodes', v) as NodeObject | undefined)?.Status.State === 'ready');
    if (conf.voters.includes(nodeId) && reachable.length < Math.floor(rest.length / 2) + 1) {
      throw new ForbiddenError(
        `can't remove node ${nodeId} from the managers: the ${rest.length} remaining would have ${reachable.length} reachable, under a quorum of ${Math.floor(rest.length / 2) + 1}`,
      );
    }
    await this.raft.changeMembership({ type: 'removeVoter', node: nodeId });
  }

  // ---- the cluster port's HTTPS side ---------------------------------------------------------

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = (req.url ?? '').split('?')[0];
    try {
      if (req.method === 'GET' && url === ROUTES.ca) return sendJson(res, 200, { rootCA: this.currentRoot() });
      if (req.method === 'POST' && url === ROUTES.join) return sendJson(res, 200, await this.handleJoin(req));
      if (req.method === 'POST' && url === ROUTES.renew) return sendJson(res, 200, await this.handleRenew(req));
      if (req.method === 'POST' && url === ROUTES.control) return sendJson(res, 200, await this.handleControl(req));
      if (req.method === 'POST' && url === ROUTES.logs) return await this.handleLogs(req, res);
      sendJson(res, 404, { message: `no route ${req.method} ${url}` });
    } catch (e) {
      if (e instanceof NotLeaderError) return sendJson(res, 421, { message: 'not the leader', leader: this.leaderAddr() });
      const kind = errorKind(e);
      const status = statusOfKind(kind);
      if (!(e instanceof DomainError)) this.o.log('manager.request_failed', { url, error: (e as Error).message });
      sendJson(res, status, { message: (e as Error).message, kind });
    }
  }

  private async handleJoin(req: IncomingMessage): Promise<JoinResponse> {
    const source = req.socket.remoteAddress ?? '?';
    const wait = this.joins.retryAfter(source, Date.now());
    if (wait > 0) throw new ForbiddenError(`too many failed joins from ${source}: try again in ${Math.ceil(wait / 1000)}s`);
    if (!this.isLeader()) throw new NotLeaderError(this.o.nodeId, this.leader);
    const body = JoinRequestSchema.safeParse(await readJson(req));
    if (!body.success) throw new InvalidArgumentError(`malformed join request: ${body.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const j = body.data;
    const cluster = this.sm.state.get('cluster', this.o.clusterId) as ClusterObject;
    const secrets = openSecrets(this.o.dataKey, this.o.clusterId, cluster.Sealed);
    let role;
    try {
      role = roleOfToken(j.token, cluster.RootCA.CACert, secrets);
    } catch (e) {
      this.joins.fail(source, Date.now());
      throw e;
    }
    const nodeId = newId();
    const ip = j.advertiseAddr.slice(0, j.advertiseAddr.lastIndexOf(':'));
    const sign = signer(cluster, secrets);
    const leaf = issue(sign.root, j.csr, { nodeId, role, clusterId: this.o.clusterId }, {
      expiryMs: cluster.Spec.CAConfig.NodeCertExpiry / NS_PER_MS,
      ips: [ip],
    });
    const certificate = `${leaf}${sign.chain}`;
    const node: NodeInit = {
      ID: nodeId,
      Spec: { Labels: {}, Role: role, Availability: j.availability },
      Description: { Hostname: j.hostname, Platform: { Architecture: '', OS: '' }, Resources: { NanoCPUs: 0, MemoryBytes: 0 }, Engine: { EngineVersion: '', Labels: {} } },
      Status: { State: 'unknown', Message: 'joined; waiting for its first session', Addr: ip },
      ...(role === 'manager' ? { ManagerStatus: { Addr: j.advertiseAddr } } : {}),
      ClusterAddr: j.advertiseAddr,
      CertSerial: certInfo(leaf).serial,
      CertRoot: sign.root.certPem,
    };
    await this.store.update((tx) => tx.create('nodes', node));
    if (role === 'manager') {
      this.transport.addPeer(nodeId, j.advertiseAddr);
      await this.raft.changeMembership({ type: 'addLearner', node: nodeId, context: j.advertiseAddr });
    }
    this.joins.succeed(source);
    this.o.log('manager.joined', { node: nodeId, role, addr: j.advertiseAddr });
    this.dispatcher.pushManagers();
    return {
      nodeId,
      clusterId: this.o.clusterId,
      role,
      certificate,
      rootCA: sign.bundle,
      managers: this.managers(),
      ...(role === 'manager'
        ? {
            raftPeers: this.managers().filter((m) => m.nodeId !== nodeId),
            dataKey: this.o.dataKey.toString('base64'),
            autolock: cluster.Spec.EncryptionConfig.AutoLockManagers,
            ...(cluster.Spec.EncryptionConfig.AutoLockManagers ? { unlockKey: secrets.unlockKey } : {}),
          }
        : {}),
      heartbeatPeriodMs: this.heartbeatMs(),
    };
  }

  private async handleRenew(req: IncomingMessage): Promise<RenewResponse> {
    const peer = peerOf(req.socket as TLSSocket);
    // A demoted manager's certificate is revoked for everything but this: it renews as a worker.
    // A removed node stays refused.
    const removedOnly: Revocations = { isRevoked: (nodeId) => this.revocations.isRevoked(nodeId, '') };
    authorize(peer, this.o.clusterId, ['manager', 'worker'], removedOnly);
    const body = RenewRequestSchema.safeParse(await readJson(req));
    if (!body.success) throw new InvalidArgumentError('malformed renew request: want { csr }');
    const node = this.sm.state.get('nodes', peer!.nodeId) as NodeObject | undefined;
    if (!node) throw new ForbiddenError(`node ${peer!.nodeId} is not in the swarm`);
    const cluster = this.sm.state.get('cluster', this.o.clusterId) as ClusterObject;
    const secrets = openSecrets(this.o.dataKey, this.o.clusterId, cluster.Sealed);
    const sign = signer(cluster, secrets);
    const leaf = issue(sign.root, body.data.csr, { nodeId: node.ID, role: node.Spec.Role, clusterId: this.o.clusterId }, {
      expiryMs: cluster.Spec.CAConfig.NodeCertExpiry / NS_PER_MS,
      ips: [node.Status.Addr],
    });
    const certificate = `${leaf}${sign.chain}`;
    const fresh = this.sm.state.get('nodes', node.ID) as NodeObject;
    await this.store.update((tx) => tx.update('nodes', { ...fresh, CertSerial: certInfo(leaf).serial, CertRoot: sign.root.certPem }));
    const autolock = cluster.Spec.EncryptionConfig.AutoLockManagers;
    return {
      certificate,
      rootCA: sign.bundle,
      role: node.Spec.Role,
      ...(node.Spec.Role === 'manager' ? { dataKey: this.o.dataKey.toString('base64'), autolock, ...(autolock ? { unlockKey: secrets.unlockKey } : {}) } : {}),
    };
  }

  private async handleControl(req: IncomingMessage): Promise<unknown> {
    authorize(peerOf(req.socket as TLSSocket), this.o.clusterId, ['manager'], this.revocations);
    if (!this.isLeader()) throw new NotLeaderError(this.o.nodeId, this.leader);
    const body = ControlRequestSchema.safeParse(await readJson(req));
    if (!body.success) throw new InvalidArgumentError('malformed control request: want { method, args }');
    const { method, args } = body.data;
    const target = (CONTROL_METHODS as readonly string[]).includes(method) ? this.local : (WORKLOAD_METHODS as readonly string[]).includes(method) ? this.workload : undefined;
    if (!target) throw new InvalidArgumentError(`unknown control method ${method}`);
    const fn = (target as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]!;
    // JSON has no undefined: a void result travels as null.
    return { result: (await fn.apply(target, args)) ?? null };
  }

  /**
   * `service logs`: entries from the nodes that ran the tasks. The leader asks their agents over
   * their sessions; a follower asks the leader (its cluster port streams the entries as NDJSON).
   * `onEnd` is called once; the returned function cancels (a follow ends only by it).
   */
  logs(request: LogsRequest, onEntries: (e: TaskLogEntry[]) => void, onEnd: (error?: string) => void): () => void {
    if (this.isLeader()) {
      const byNode = new Map<string, string[]>();
      for (const id of request.taskIds) {
        const t = this.store.view.get('tasks', id);
        if (!t?.NodeID) continue;
        byNode.set(t.NodeID, [...(byNode.get(t.NodeID) ?? []), id]);
      }
      if (byNode.size === 0) {
        onEnd();
        return () => undefined;
      }
      let open = byNode.size;
      let firstError: string | undefined;
      const cancels = [...byNode].map(([node, taskIds]) =>
        this.dispatcher.requestLogs(node, { ...request, taskIds }, onEntries, (err) => {
          firstError ??= err;
          if (--open === 0) onEnd(firstError);
        }),
      );
      return () => cancels.forEach((c) => c());
    }
    return streamLogsFrom(this.leaderAddr(), request, this.creds, onEntries, onEnd);
  }

  /**
   * A standalone container joins an attachable overlay: an address for it, kept as a task record with
   * no service (so it is programmed and resolved like a task) until the container goes.
   */
  private async attachContainer(nodeId: string, networkRef: string, containerId: string, containerName: string): Promise<Record<string, unknown>> {
    const view = this.store.view;
    const net = view.resolve('networks', networkRef, 'network') as unknown as NetworkObject;
    if (net.Spec.Ingress || !net.Spec.Attachable) throw new ForbiddenError(`network ${net.Spec.Name} is not attachable: only networks made with \`network create -d overlay --attachable\` take standalone containers`);
    const have = (view.list('tasks') as unknown as TaskObject[]).find((t) => t.Attachment?.ContainerID === containerId && t.NodeID === nodeId);
    if (have) return (have as unknown as { NetworksAttachments: Record<string, unknown>[] }).NetworksAttachments[0]!;
    const pass = new PassNetworks(view.list('networks') as unknown as NetworkObject[], view.list('services') as ServiceObject[], view.list('tasks') as unknown as TaskObject[], view.list('nodes') as NodeObject[]);
    const attachment = pass.attachmentOn(net.ID);
    if (!attachment) throw new ConflictError(`network ${net.Spec.Name} has no subnet allocated`);
    const at = new Date().toISOString();
    await this.store.update((tx) =>
      tx.create('tasks', {
        ID: newId(),
        Labels: {},
        Spec: { ContainerSpec: { Image: '' } },
        ServiceID: '',
        ServiceName: containerName,
        NodeID: nodeId,
        Status: { Timestamp: at, State: 'running', Message: 'attached' },
        DesiredState: 'running',
        SpecDigest: '',
        NetworksAttachments: [attachment],
        Attachment: { ContainerID: containerId },
      }),
    );
    return attachment as unknown as Record<string, unknown>;
  }

  private async detachContainer(nodeId: string, containerId: string): Promise<void> {
    const t = (this.store.view.list('tasks') as unknown as TaskObject[]).find((x) => x.Attachment?.ContainerID === containerId && x.NodeID === nodeId);
    if (t) await this.store.update((tx) => tx.delete('tasks', t.ID));
  }

  private async handleLogs(req: IncomingMessage, res: ServerResponse): Promise<void> {
    authorize(peerOf(req.socket as TLSSocket), this.o.clusterId, ['manager'], this.revocations);
    if (!this.isLeader()) throw new NotLeaderError(this.o.nodeId, this.leader);
    const body = LogsRequestSchema.safeParse(await readJson(req));
    if (!body.success) throw new InvalidArgumentError(`malformed logs request: ${body.error.issues.map((i) => i.path.join('.')).join(', ')}`);
    res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
    const cancel = this.logs(body.data, (entries) => res.write(`${JSON.stringify({ entries })}\n`), (error) => res.end(`${JSON.stringify({ end: true, ...(error ? { error } : {}) })}\n`));
    res.on('close', cancel);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = (req.url ?? '').split('?')[0];
    if (url !== ROUTES.session) {
      socket.destroy();
      return;
    }
    const peer = peerOf(req.socket as TLSSocket);
    try {
      authorize(peer, this.o.clusterId, ['manager', 'worker'], this.revocations);
    } catch (e) {
      this.wss.handleUpgrade(req, socket, head, (ws) => ws.close(4003, (e as Error).message.slice(0, 120)));
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (!this.isLeader()) {
        ws.close(CLOSE_NOT_LEADER, this.leaderAddr());
        return;
      }
      this.dispatcher.accept(ws, peer!.nodeId, req.socket.remoteAddress ?? '');
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.promoter) clearInterval(this.promoter);
    this.orchestrator?.stop();
    this.lockWatch?.close();
    this.dispatcher?.stop('manager stopping', '');
    this.raft?.stop('manager stopping');
    await this.transport?.close();
    await this.port?.close();
    // What raft staged without an fsync (a commit index that only moved) is written out, so a reader
    // of this data (a restart, --force-new-cluster) sees everything this manager knew.
    await this.storage?.sync().catch((e: Error) => this.o.log('raft.final_sync_failed', { error: e.message }));
    await this.storage?.close().catch(() => undefined);
  }

  /** Certificate info of this manager (for `info`). */
  certificate(): ReturnType<typeof certInfo> {
    return certInfo(this.creds.cert);
  }
}

/**
 * Who signs now, what chain goes with a certificate, and which roots a node must trust: the current
 * root; or, during a rotation, the next root, with the cross-signed bridge in the chain and both roots
 * in the bundle.
 */
function signer(c: ClusterObject, s: ClusterSecrets): { root: RootCA; chain: string; bundle: string } {
  const r = c.RootCA.Rotation;
  if (r && s.nextCaKey) return { root: { certPem: r.NextCert, keyPem: s.nextCaKey }, chain: r.CrossSigned, bundle: `${c.RootCA.CACert}${r.NextCert}` };
  return { root: { certPem: c.RootCA.CACert, keyPem: s.caKey }, chain: '', bundle: c.RootCA.CACert };
}


async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new InvalidArgumentError(`request body over ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new InvalidArgumentError('request body is not JSON');
  }
}

/** Request options for a manager's cluster port: this node's certificate, the pinned root, JSON body. */
function clusterRequestOptions(addr: string, path: string, creds: Partial<NodeCredentials> & { rootCA: string }, data: Buffer | undefined) {
  const i = addr.lastIndexOf(':');
  return {
    host: addr.slice(0, i),
    port: Number(addr.slice(i + 1)),
    path,
    method: data ? 'POST' : 'GET',
    ca: creds.rootCA,
    key: creds.key,
    cert: creds.cert,
    // Managers are identified by their certificate chain to the pinned root, not by hostname.
    checkServerIdentity: () => undefined,
    headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {},
  };
}

/** HTTPS to a manager's cluster port with this node's certificate; parses `{message}` errors. */
export function clusterCall(addr: string, path: string, body: unknown, creds: Partial<NodeCredentials> & { rootCA: string }): Promise<{ status: number; body: unknown }> {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { ...clusterRequestOptions(addr, path, creds, data), timeout: 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // leave as text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from the manager at ${addr} within 10s`)));
    req.on('error', (e) => reject(new UnavailableError(`cannot reach the manager at ${addr}: ${e.message}`, { cause: e })));
    req.end(data);
  });
}

/** A follower's `service logs`: the leader's NDJSON stream of entries, relayed. */
function streamLogsFrom(addr: string, request: LogsRequest, creds: NodeCredentials, onEntries: (e: TaskLogEntry[]) => void, onEnd: (error?: string) => void): () => void {
  let ended = false;
  const end = (error?: string) => {
    if (ended) return;
    ended = true;
    onEnd(error);
  };
  if (!addr) {
    end('the swarm has no leader right now; try again');
    return () => undefined;
  }
  const data = Buffer.from(JSON.stringify(request));
  const req = httpsRequest(clusterRequestOptions(addr, ROUTES.logs, creds, data), (res) => {
    if (res.statusCode !== 200) {
      res.resume();
      return end(`the leader refused the logs request (${res.statusCode})`);
    }
    let rest = '';
    res.on('data', (c: Buffer) => {
      const lines = (rest + c.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) {
        if (!l) continue;
        const m = JSON.parse(l) as { entries?: TaskLogEntry[]; end?: boolean; error?: string };
        if (m.entries) onEntries(m.entries);
        if (m.end) end(m.error);
      }
    });
    res.on('end', () => end());
    res.on('error', (e) => end(e.message));
  });
  req.on('error', (e) => end(`cannot reach the leader at ${addr}: ${e.message}`));
  req.end(data);
  return () => {
    req.destroy();
    end();
  };
}

/** Forwards ControlApi calls to the leader's cluster port. */
/** One object with the methods of both halves of the control API, bound to their owners. */
function bindAll(local: LocalControl, workload: WorkloadControl): ControlApi & WorkloadApi {
  const out: Record<string, unknown> = {};
  for (const m of CONTROL_METHODS) out[m] = (local[m] as (...a: unknown[]) => unknown).bind(local);
  for (const m of WORKLOAD_METHODS) out[m] = (workload[m] as (...a: unknown[]) => unknown).bind(workload);
  return out as unknown as ControlApi & WorkloadApi;
}

export function remoteControl(leaderAddr: () => string, creds: () => NodeCredentials): ControlApi & WorkloadApi {
  const call = async (method: string, args: unknown[]): Promise<unknown> => {
    const addr = leaderAddr();
    if (!addr) throw new UnavailableError('the swarm has no leader right now (quorum lost or an election is under way); try again, or recover with `swarm init --force-new-cluster`');
    let r;
    try {
      r = await clusterCall(addr, ROUTES.control, { method, args }, creds());
    } catch (e) {
      throw new UnavailableError(
        `${(e as Error).message}: the leader is unreachable (if a majority of managers is gone, the swarm lost quorum: recover with \`swarm init --force-new-cluster\` on a surviving manager)`,
      );
    }
    if (r.status === 200) {
      const parsed = ControlResponseSchema.parse(r.body);
      if ('result' in parsed) return parsed.result;
    }
    const b = r.body as { message?: string; kind?: string };
    const msg = b?.message ?? `control call ${method} failed with ${r.status}`;
    throw new DomainError((b?.kind as DomainError['kind']) ?? (r.status === 421 ? 'unavailable' : 'internal'), msg);
  };
  return Object.fromEntries([...CONTROL_METHODS, ...WORKLOAD_METHODS].map((m) => [m, (...args: unknown[]) => call(m, args)])) as unknown as ControlApi & WorkloadApi;
}
