// The agent's session with the swarm: one wss connection to the leader's dispatcher over mutual TLS.
// Registers the node's description, heartbeats at the period the manager sets, follows a follower's
// redirect to the leader, and fails over through the manager list it keeps current. A node removed
// from the swarm is told so (close 4003) and stops.
import { WebSocket } from 'ws';
import { CLOSE_NOT_LEADER, CLOSE_REMOVED, ManagerMessageSchema, ROUTES, type Assignment, type LogsRequest, type NodeDescription, type Peer, type TaskLogEntry, type TaskStatusUpdate } from '../../manager/protocol.js';

export interface SessionCredentials {
  key: string;
  cert: string;
  rootCA: string;
}

export interface AgentSessionOptions {
  managers: () => Peer[];
  credentials: () => SessionCredentials;
  description: () => NodeDescription;
  /** This node's advertised address (host:port or host). */
  addr: string;
  onManagers: (managers: Peer[]) => void;
  onRemoved: (reason: string) => void;
  /** promote/demote: the node must renew its certificate and start or stop its manager. */
  onRole: (role: 'worker' | 'manager') => void;
  /** Root rotation: renew the certificate now. */
  onRenew: () => void;
  /** What this node must run: the full set on each new session, then changes. */
  onAssignments?: (kind: 'complete' | 'incremental', changes: Assignment[]) => void;
  /** A session is registered (statuses can be sent) or lost. */
  onConnected?: (connected: boolean) => void;
  /** `service logs`: this node's share, sent in batches until done (or `cancelled` resolves). */
  onLogs?: (req: LogsRequest, emit: (entries: TaskLogEntry[]) => void, cancelled: Promise<void>) => Promise<void>;
  log: (event: string, fields: Record<string, unknown>) => void;
}

export class AgentSession {
  private ws: WebSocket | undefined;
  private stopped = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private next = 0;
  private redirect: string | undefined;
  private backoffMs = 100;
  /** The manager currently serving the session, when registered. */
  connectedTo: string | undefined;
  private sessionId = '';
  /** Attach requests waiting for the manager's answer. */
  private readonly pending = new Map<string, { resolve: (a: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  /** Log streams this node is sending, by request: their cancel. */
  private readonly logStreams = new Map<string, () => void>();

  constructor(private readonly o: AgentSessionOptions) {}

  start(): void {
    this.connect();
  }

  private pick(): string | undefined {
    if (this.redirect) {
      const r = this.redirect;
      this.redirect = undefined;
      return r;
    }
    const list = this.o.managers();
    if (list.length === 0) return undefined;
    return list[this.next++ % list.length]!.addr;
  }

  private connect(): void {
    if (this.stopped) return;
    const addr = this.pick();
    if (!addr) return this.later();
    const c = this.o.credentials();
    const ws = new WebSocket(`wss://${addr}${ROUTES.session}`, [], {
      key: c.key,
      cert: c.cert,
      ca: c.rootCA,
      // Managers are known by their chain to the cluster root, not by hostname.
      rejectUnauthorized: true,
      checkServerIdentity: () => undefined,
      handshakeTimeout: 5000,
    } as unknown as ConstructorParameters<typeof WebSocket>[2]);
    this.ws = ws;
    let sessionId = '';
    ws.on('open', () => {
      ws.send(JSON.stringify({ type: 'register', description: this.o.description(), addr: this.o.addr }));
    });
    ws.on('message', (data) => {
      const parsed = ManagerMessageSchema.safeParse(safeJson(String(data)));
      if (!parsed.success) return this.o.log('session.bad_message', { from: addr });
      const m = parsed.data;
      if (m.type === 'session') {
        sessionId = m.sessionId;
        this.sessionId = m.sessionId;
        this.connectedTo = addr;
        this.backoffMs = 100;
        this.o.onManagers(m.managers);
        this.beat(ws, () => sessionId, m.heartbeatPeriodMs);
        this.o.log('session.registered', { manager: addr, period_ms: m.heartbeatPeriodMs });
        this.o.onConnected?.(true);
      } else if (m.type === 'heartbeat') {
        this.beat(ws, () => sessionId, m.heartbeatPeriodMs);
      } else if (m.type === 'renew') {
        this.o.onRenew();
      } else if (m.type === 'role') {
        this.o.onRole(m.role);
      } else if (m.type === 'managers') {
        this.o.onManagers(m.managers);
      } else if (m.type === 'assignments') {
        this.o.onAssignments?.(m.kind, m.changes);
      } else if (m.type === 'logs') {
        this.serveLogs(ws, () => sessionId, m.requestId, m.request);
      } else if (m.type === 'logs-cancel') {
        this.logStreams.get(m.requestId)?.();
      } else if (m.type === 'attached') {
        const p = this.pending.get(m.requestId);
        this.pending.delete(m.requestId);
        if (m.attachment) p?.resolve(m.attachment);
        else p?.reject(new Error(m.error ?? 'the manager gave no attachment'));
      }
    });
    ws.on('close', (code, reason) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      if (this.connectedTo) this.o.onConnected?.(false);
      this.connectedTo = undefined;
      this.sessionId = '';
      for (const cancel of this.logStreams.values()) cancel();
      if (this.heartbeat) clearTimeout(this.heartbeat);
      if (this.watchdog) clearTimeout(this.watchdog);
      const why = reason.toString();
      if (code === CLOSE_REMOVED) {
        this.stopped = true;
        this.o.onRemoved(why);
        return;
      }
      if (code === CLOSE_NOT_LEADER && why.includes(':')) {
        this.redirect = why;
        this.backoffMs = 50;
      }
      if (!this.stopped) this.later();
    });
    ws.on('error', (e) => this.o.log('session.error', { manager: addr, error: e.message }));
  }

  private serveLogs(ws: WebSocket, session: () => string, requestId: string, req: LogsRequest): void {
    const send = (m: unknown) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
    };
    if (!this.o.onLogs) return send({ type: 'logs-end', sessionId: session(), requestId, error: 'this node serves no logs' });
    let cancel!: () => void;
    const cancelled = new Promise<void>((r) => (cancel = r));
    this.logStreams.set(requestId, cancel);
    this.o
      .onLogs(req, (entries) => send({ type: 'logs', sessionId: session(), requestId, entries }), cancelled)
      .then(
        () => send({ type: 'logs-end', sessionId: session(), requestId }),
        (e: Error) => send({ type: 'logs-end', sessionId: session(), requestId, error: e.message }),
      )
      .finally(() => this.logStreams.delete(requestId));
  }

  /** Asks the managers for a standalone container's address on an attachable overlay (`run --network`). */
  attach(network: string, containerId: string, containerName: string): Promise<Record<string, unknown>> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || !this.sessionId) return Promise.reject(new Error('no session with the swarm managers right now; try again'));
    const requestId = Math.random().toString(36).slice(2);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new Error(`no answer from the managers for network ${network} within 10s`));
      }, 10_000);
      timer.unref();
      this.pending.set(requestId, {
        resolve: (a) => {
          clearTimeout(timer);
          resolve(a);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      ws.send(JSON.stringify({ type: 'attach', sessionId: this.sessionId, requestId, network, containerId, containerName }));
    });
  }

  /** Releases a standalone container's attachment (best effort: the session may be down). */
  detach(containerId: string): void {
    const ws = this.ws;
    if (ws && ws.readyState === WebSocket.OPEN && this.sessionId) ws.send(JSON.stringify({ type: 'detach', sessionId: this.sessionId, containerId }));
  }

  /** Sends task statuses on the registered session; false when there is none (the caller keeps them). */
  sendStatus(updates: TaskStatusUpdate[]): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || !this.sessionId) return false;
    ws.send(JSON.stringify({ type: 'status', sessionId: this.sessionId, updates }));
    return true;
  }

  private beat(ws: WebSocket, session: () => string, periodMs: number): void {
    if (this.heartbeat) clearTimeout(this.heartbeat);
    if (this.watchdog) clearTimeout(this.watchdog);
    this.heartbeat = setTimeout(() => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'heartbeat', sessionId: session() }));
    }, periodMs);
    this.heartbeat.unref();
    // A manager that stops answering (dead host, cut link: no FIN ever comes) is left for the next one.
    this.watchdog = setTimeout(() => {
      this.o.log('session.manager_silent', { manager: this.connectedTo });
      ws.terminate();
    }, periodMs * 4);
    this.watchdog.unref();
  }

  private later(): void {
    if (this.stopped) return;
    this.retry = setTimeout(() => this.connect(), this.backoffMs);
    this.retry.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, 2000);
  }

  stop(): void {
    this.stopped = true;
    if (this.heartbeat) clearTimeout(this.heartbeat);
    if (this.watchdog) clearTimeout(this.watchdog);
    if (this.retry) clearTimeout(this.retry);
    this.ws?.close(1000, 'agent stopping');
    this.ws = undefined;
  }
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
