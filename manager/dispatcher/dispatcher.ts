// The dispatcher (leader only): one session per agent. Registration marks a node ready with its
// description; heartbeats keep it so; a node silent for HEARTBEAT_MISSES periods is marked down.
// Status changes are batched into one store entry per sweep, never one per heartbeat.
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import { AgentMessageSchema, HEARTBEAT_MISSES, type LogsRequest, type ManagerMessage, type Peer, type TaskLogEntry } from '../protocol.js';
import type { NodeObject } from '../objects.js';
import type { ReplicatedStore } from '../store/replicated.js';
import type { Watch } from '../store/watch.js';
import type { DataBox } from '../controlapi/workload.js';
import { diff, nodeSet, type Sent } from './assignments.js';
import { OverlayPictures } from './overlays.js';
import { StatusBatcher } from './status.js';

interface Session {
  id: string;
  nodeId: string;
  ws: WebSocket;
  lastSeen: number;
  /** What this session was last sent (assignments are a full set once, then changes). */
  sent: Sent;
}

export interface DispatcherOptions {
  store: ReplicatedStore;
  periodMs: () => number;
  managers: () => Peer[];
  /** Opens secrets for the nodes whose tasks use them. */
  box: DataBox;
  /** Attachable overlays: an address for a standalone container on a node, and its release. */
  attach?: (nodeId: string, network: string, containerId: string, containerName: string) => Promise<Record<string, unknown>>;
  detach?: (nodeId: string, containerId: string) => Promise<void>;
  log: (event: string, fields: Record<string, unknown>) => void;
  now?: () => number;
}

export class Dispatcher {
  private readonly sessions = new Map<string, Session>();
  /** Last heartbeat per node, also for nodes whose session is gone (they get the grace period). */
  private readonly lastSeen = new Map<string, number>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private running = false;
  private sweeping = false;
  private readonly now: () => number;
  private watch: Watch | undefined;
  private readonly dirty = new Set<string>();
  private syncTimer: NodeJS.Timeout | undefined;
  private readonly status: StatusBatcher;
  /** `service logs` requests out to agents: by request id. */
  private readonly logRequests = new Map<string, { nodeId: string; onEntries: (e: TaskLogEntry[]) => void; onEnd: (error?: string) => void }>();

  constructor(private readonly o: DispatcherOptions) {
    this.now = o.now ?? Date.now;
    this.status = new StatusBatcher(o.store, o.log);
  }

  /** Follows the store: a change to a node's tasks (or to the secrets and configs they use) is sent to it. */
  private async follow(w: Watch): Promise<void> {
    for (;;) {
      const e = await w.next();
      if (!e) break;
      if (e.table === 'tasks' && !(e.object as { NetworksAttachments?: unknown[] }).NetworksAttachments?.length) {
        if (e.object.NodeID) this.markDirty(e.object.NodeID);
      } else {
        // Secrets, configs, services, and tasks on overlays (their peers and names are on other nodes too).
        for (const id of this.sessions.keys()) this.markDirty(id);
      }
    }
    if (this.running && this.watch === w) {
      // Closed by a snapshot restore: everyone gets a fresh full set.
      this.watch = this.o.store.watch({ tables: ['tasks', 'secrets', 'configs', 'services', 'nodes'] });
      void this.follow(this.watch);
      for (const s of this.sessions.values()) s.sent.clear();
      for (const id of this.sessions.keys()) this.markDirty(id);
    }
  }

  private markDirty(nodeId: string): void {
    if (!this.sessions.has(nodeId)) return;
    this.dirty.add(nodeId);
    if (this.syncTimer) return;
    // Coalesce a transaction's events (and a burst of them) into one message per node.
    this.syncTimer = setTimeout(() => {
      this.syncTimer = undefined;
      const ids = [...this.dirty];
      this.dirty.clear();
      // One picture of the overlays for the whole pass: what every node of a network shares is computed once.
      const pictures = new OverlayPictures(this.o.store.view);
      for (const id of ids) this.sync(id, 'incremental', pictures);
    }, 5);
    this.syncTimer.unref();
  }

  /** Sends the node what changed in its set since the last message (everything, for a new session). */
  private sync(nodeId: string, kind: 'complete' | 'incremental', pictures?: OverlayPictures): void {
    const s = this.sessions.get(nodeId);
    if (!s) return;
    if (kind === 'complete') s.sent.clear();
    let changes;
    try {
      changes = diff(nodeSet(this.o.store.view, nodeId, pictures), s.sent, this.o.box);
    } catch (e) {
      this.o.log('dispatcher.assignments_failed', { node: nodeId, error: (e as Error).message });
      return;
    }
    if (kind === 'incremental' && changes.length === 0) return;
    const m: ManagerMessage = { type: 'assignments', kind, changes };
    s.ws.send(JSON.stringify(m));
  }

  /** On becoming leader: every node gets a full grace period to (re)connect. */
  start(): void {
    this.running = true;
    const t = this.now();
    for (const n of this.o.store.view.list('nodes')) this.lastSeen.set(n.ID, t);
    this.watch = this.o.store.watch({ tables: ['tasks', 'secrets', 'configs', 'services', 'nodes'] });
    void this.follow(this.watch);
    this.schedule();
  }

  /** On losing leadership: sessions move to the new leader. */
  stop(reason: string, leaderAddr: string): void {
    this.running = false;
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    if (this.syncTimer) clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    this.watch?.close();
    this.watch = undefined;
    this.status.stop();
    for (const s of this.sessions.values()) s.ws.close(4001, leaderAddr || reason);
    this.sessions.clear();
  }

  private schedule(): void {
    if (!this.running) return;
    this.sweepTimer = setTimeout(() => void this.sweep().finally(() => this.schedule()), Math.max(50, this.o.periodMs() / 2));
    this.sweepTimer.unref();
  }

  /** A session from a verified node certificate. */
  accept(ws: WebSocket, nodeId: string, remoteAddr: string): void {
    if (!this.running) {
      ws.close(4001, 'not the leader');
      return;
    }
    let session: Session | undefined;
    const send = (m: ManagerMessage) => ws.send(JSON.stringify(m));
    ws.on('message', (data) => {
      let msg;
      try {
        msg = AgentMessageSchema.parse(JSON.parse(String(data)));
      } catch (e) {
        ws.close(4000, `malformed session message: ${(e as Error).message}`.slice(0, 120));
        return;
      }
      if (msg.type === 'register') {
        const old = this.sessions.get(nodeId);
        if (old && old.ws !== ws) old.ws.close(4002, 'replaced by a newer session');
        session = { id: randomBytes(12).toString('hex'), nodeId, ws, lastSeen: this.now(), sent: new Map() };
        this.sessions.set(nodeId, session);
        this.lastSeen.set(nodeId, session.lastSeen);
        void this.markReady(nodeId, msg.description, hostOf(msg.addr) || remoteAddr).catch((e: Error) =>
          this.o.log('dispatcher.register_failed', { node: nodeId, error: e.message }),
        );
        send({ type: 'session', sessionId: session.id, nodeId, heartbeatPeriodMs: this.o.periodMs(), managers: this.o.managers() });
        this.sync(nodeId, 'complete');
        return;
      }
      if (!session || msg.sessionId !== session.id) {
        ws.close(4000, 'unknown session: register first');
        return;
      }
      if (msg.type === 'heartbeat') {
        session.lastSeen = this.now();
        this.lastSeen.set(nodeId, session.lastSeen);
        send({ type: 'heartbeat', heartbeatPeriodMs: this.o.periodMs() });
      } else if (msg.type === 'status') {
        this.status.add(nodeId, msg.updates);
      } else if (msg.type === 'attach') {
        const reply = (m: ManagerMessage) => send(m);
        if (!this.o.attach) return reply({ type: 'attached', requestId: msg.requestId, error: 'this manager cannot attach containers' });
        this.o.attach(nodeId, msg.network, msg.containerId, msg.containerName).then(
          (attachment) => reply({ type: 'attached', requestId: msg.requestId, attachment }),
          (e: Error) => reply({ type: 'attached', requestId: msg.requestId, error: e.message }),
        );
      } else if (msg.type === 'detach') {
        void this.o.detach?.(nodeId, msg.containerId).catch((e: Error) => this.o.log('dispatcher.detach_failed', { node: nodeId, error: e.message }));
      } else if (msg.type === 'logs') {
        const r = this.logRequests.get(msg.requestId);
        if (r?.nodeId === nodeId) r.onEntries(msg.entries);
      } else if (msg.type === 'logs-end') {
        const r = this.logRequests.get(msg.requestId);
        if (r?.nodeId !== nodeId) return;
        this.logRequests.delete(msg.requestId);
        r.onEnd(msg.error);
      }
    });
    ws.on('close', () => {
      // Log streams from this node end with its session.
      for (const [id, r] of this.logRequests) {
        if (r.nodeId !== nodeId) continue;
        this.logRequests.delete(id);
        r.onEnd();
      }
      if (session && this.sessions.get(nodeId) === session) this.sessions.delete(nodeId);
    });
  }

  /**
   * Asks a node for its share of `service logs`. A node without a session (down, gone) has nothing to
   * send: it ends at once. Returns the cancel (a follow ends only by it).
   */
  requestLogs(nodeId: string, request: LogsRequest, onEntries: (e: TaskLogEntry[]) => void, onEnd: (error?: string) => void): () => void {
    const s = this.sessions.get(nodeId);
    if (!s) {
      onEnd();
      return () => undefined;
    }
    const requestId = randomBytes(8).toString('hex');
    this.logRequests.set(requestId, { nodeId, onEntries, onEnd });
    const m: ManagerMessage = { type: 'logs', requestId, request };
    s.ws.send(JSON.stringify(m));
    return () => {
      if (!this.logRequests.delete(requestId)) return;
      const cancel: ManagerMessage = { type: 'logs-cancel', requestId };
      if (this.sessions.get(nodeId) === s) s.ws.send(JSON.stringify(cancel));
      onEnd();
    };
  }

  /** Tells one node its new role (promote/demote). */
  pushRole(nodeId: string, role: 'worker' | 'manager'): void {
    const m: ManagerMessage = { type: 'role', role };
    this.sessions.get(nodeId)?.ws.send(JSON.stringify(m));
  }

  /** Root rotation: every node renews its certificate now. */
  pushRenewAll(): void {
    const m: ManagerMessage = { type: 'renew' };
    for (const s of this.sessions.values()) s.ws.send(JSON.stringify(m));
  }

  /** Tells every session the current manager list (after a join, demote or removal). */
  pushManagers(): void {
    const m: ManagerMessage = { type: 'managers', managers: this.o.managers() };
    for (const s of this.sessions.values()) s.ws.send(JSON.stringify(m));
  }

  private async markReady(nodeId: string, description: NodeObject['Description'], addr: string): Promise<void> {
    const n = this.o.store.view.get('nodes', nodeId) as NodeObject | undefined;
    if (!n) return;
    await this.o.store.update((tx) => tx.update('nodes', { ...n, Description: description, Status: { State: 'ready', Message: '', Addr: addr } }));
  }

  /** Marks silent nodes down, in one store entry. */
  private async sweep(): Promise<void> {
    if (this.sweeping || !this.running) return;
    this.sweeping = true;
    try {
      const limit = HEARTBEAT_MISSES * this.o.periodMs();
      const t = this.now();
      const down = this.o.store.view.list('nodes', (n) => {
        const seen = this.lastSeen.get(n.ID) ?? t;
        if (!this.lastSeen.has(n.ID)) this.lastSeen.set(n.ID, t);
        return (n as NodeObject).Status.State !== 'down' && t - seen > limit;
      }) as NodeObject[];
      if (down.length === 0) return;
      await this.o.store.update((tx) => {
        for (const n of down) tx.update('nodes', { ...n, Status: { ...n.Status, State: 'down', Message: 'heartbeat failure' } });
      });
      this.o.log('dispatcher.nodes_down', { nodes: down.map((n) => n.ID) });
    } catch (e) {
      this.o.log('dispatcher.sweep_failed', { error: (e as Error).message });
    } finally {
      this.sweeping = false;
    }
  }
}

function hostOf(addr: string): string {
  const i = addr.lastIndexOf(':');
  return (i > 0 ? addr.slice(0, i) : addr).replace(/^\[|\]$/g, '');
}
