// The driver loop around the pure core: ticks on a timer, feeds received messages in, and for each
// Ready: persist (one WAL write + one fdatasync) -> send -> apply -> advance. Proposals made during a
// turn (and during an fsync) are batched into the next Ready. Proposals resolve when applied;
// reads are linearisable via ReadIndex, one ReadIndex round per batch of concurrent reads.
import crypto from 'node:crypto';
import { RawNode, type RaftConfig } from '../core/raw-node.js';
import type {
  ConfChange,
  ConfState,
  Entry,
  HardState,
  LogStorage,
  Message,
  NodeId,
  Rand,
  Ready,
  Role,
  Snapshot,
  Transport,
} from '../types.js';
import { newIncarnation, unwrap, wrap } from './envelope.js';
import type { StateMachine } from './state-machine.js';

/** LogStorage plus the staged mutators of DiskStorage / MemoryStorage and a durability barrier. */
export interface DurableStorage extends LogStorage {
  append(entries: Entry[]): void;
  setHardState(hs: HardState): void;
  applySnapshot(snap: Snapshot): void;
  createSnapshot(index: number, conf: ConfState, data: Uint8Array): Snapshot;
  compact(index: number): void;
  /**
   * Durability barrier; mustSync=false lets the storage defer records whose loss is harmless.
   * Absent for storages that are not durable (MemoryStorage in tests).
   */
  sync?(mustSync?: boolean): Promise<void>;
}

export class NotLeaderError extends Error {
  constructor(
    readonly node: NodeId,
    readonly leader: NodeId | '',
  ) {
    super(`raft node ${node}: not the leader${leader ? ` (leader is ${leader})` : ' (no known leader)'}`);
    this.name = 'NotLeaderError';
  }
}

/** The outcome is unknown: the proposal may or may not be applied later. */
export class AmbiguousProposalError extends Error {
  constructor(node: NodeId, reason: string) {
    super(`raft node ${node}: proposal outcome unknown: ${reason}`);
    this.name = 'AmbiguousProposalError';
  }
}

export class NodeStoppedError extends Error {
  constructor(node: NodeId, reason: string) {
    super(`raft node ${node}: stopped: ${reason}`);
    this.name = 'NodeStoppedError';
  }
}

export interface RaftNodeOptions<R> {
  id: NodeId;
  storage: DurableStorage;
  transport: Transport;
  stateMachine: StateMachine<R>;
  tickMs?: number;
  electionTick?: number;
  heartbeatTick?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  maxSizePerMsg?: number;
  maxInflightMsgs?: number;
  /** Take a snapshot and compact after this many applied entries. */
  snapshotEvery?: number;
  /** Entries kept behind a snapshot so that slightly lagging followers need no snapshot transfer. */
  keepEntriesBehindSnapshot?: number;
  /** Pending proposals and reads fail (ambiguously) after this long. */
  requestTimeoutMs?: number;
  rand?: Rand;
  /** Called with a fatal error (e.g. fsync failed); the node has stopped and the process should exit. */
  onFatal?: (err: Error) => void;
  onLeaderChange?: (leader: NodeId | '', term: number) => void;
  /** Applied membership changes, e.g. to add/remove transport peers from cc.context. */
  onConfChange?: (cc: ConfChange, conf: ConfState) => void;
  log?: (event: string, fields: Record<string, unknown>) => void;
}

interface Pending<R> {
  resolve: (r: R) => void;
  reject: (e: Error) => void;
  deadline: number;
}

interface PendingRead {
  waiters: Pending<void>[];
  index: number | undefined;
}

const cryptoRand: Rand = { intn: (n) => crypto.randomInt(n) };

export class RaftNode<R = unknown> {
  readonly id: NodeId;
  private readonly raw: RawNode;
  private readonly storage: DurableStorage;
  private readonly transport: Transport;
  private readonly sm: StateMachine<R>;
  private readonly incarnation = newIncarnation();
  private seq = 0;
  private readonly proposals = new Map<number, Pending<R>>();
  private queued: { data: Buffer; seq: number }[] = [];
  private readBatch: Pending<void>[] = [];
  private readonly reads = new Map<string, PendingRead>();
  private readonly readyReads: PendingRead[] = [];
  private readonly confWaiters: { cc: ConfChange; p: Pending<ConfState> }[] = [];
  private readCounter = 0;
  private applied: number;
  private snapIndex: number;
  private conf: ConfState;
  private lead: NodeId | '' = '';
  private role: Role = 'follower';
  private term = 0;
  private durableTerm: number;
  private durableVote: NodeId | '';
  private ticker: NodeJS.Timeout | undefined;
  private scheduled = false;
  private running = false;
  private stopped: Error | undefined;
  private readonly opts: RaftNodeOptions<R>;

  constructor(opts: RaftNodeOptions<R>) {
    this.opts = opts;
    this.id = opts.id;
    this.storage = opts.storage;
    this.transport = opts.transport;
    this.sm = opts.stateMachine;
    const snap = this.storage.snapshot();
    // The state machine is in memory: rebuild it from the snapshot, then the log replays the rest.
    this.sm.restore(snap.data);
    this.applied = snap.meta.index;
    this.snapIndex = snap.meta.index;
    const init = this.storage.initialState();
    this.conf = init.conf;
    this.durableTerm = init.hardState.term;
    this.durableVote = init.hardState.vote;
    const config: RaftConfig = {
      id: opts.id,
      electionTick: opts.electionTick ?? 10,
      heartbeatTick: opts.heartbeatTick ?? 1,
      preVote: opts.preVote ?? true,
      checkQuorum: opts.checkQuorum ?? true,
      maxInflightMsgs: opts.maxInflightMsgs ?? 256,
      maxSizePerMsg: opts.maxSizePerMsg ?? 1024 * 1024,
      applied: this.applied,
      rand: opts.rand ?? cryptoRand,
    };
    this.raw = new RawNode(config, this.storage);
  }

  private log(event: string, fields: Record<string, unknown> = {}): void {
    this.opts.log?.(event, { node: this.id, ...fields });
  }

  start(): void {
    this.transport.onMessage((m) => this.receive(m));
    this.ticker = setInterval(() => this.tick(), this.opts.tickMs ?? 50);
    this.schedule();
  }

  /** Stops ticking and fails everything pending. Storage and transport are closed by their owner. */
  stop(reason = 'stopped'): void {
    if (this.stopped) return;
    this.stopped = new NodeStoppedError(this.id, reason);
    if (this.ticker) clearInterval(this.ticker);
    this.failAll(this.stopped);
  }

  get leader(): NodeId | '' {
    return this.lead;
  }

  get isLeader(): boolean {
    return this.role === 'leader';
  }

  get appliedIndex(): number {
    return this.applied;
  }

  status(): ReturnType<RawNode['status']> {
    return this.raw.status();
  }

  /**
   * The leader's view of how far each member's log matches its own (etcd's Progress.Match), with the
   * leader's last index; undefined on a follower. Used to promote a learner once it has caught up.
   */
  progress(): { lastIndex: number; match: Map<NodeId, number> } | undefined {
    if (this.role !== 'leader') return undefined;
    const match = new Map<NodeId, number>();
    for (const [id, p] of this.raw.raft.trk.progress) match.set(id, p.match);
    return { lastIndex: this.raw.raft.raftLog.lastIndex(), match };
  }

  /** Proposes an application command; resolves with the state machine's result once applied locally. */
  propose(payload: Uint8Array): Promise<R> {
    if (this.stopped) return Promise.reject(this.stopped);
    if (this.role !== 'leader') return Promise.reject(new NotLeaderError(this.id, this.lead));
    const seq = ++this.seq;
    return new Promise<R>((resolve, reject) => {
      this.proposals.set(seq, { resolve, reject, deadline: Date.now() + this.timeoutMs });
      this.queued.push({ data: wrap(this.incarnation, seq, payload), seq });
      this.schedule();
    });
  }

  /** Resolves once the local state machine reflects every write committed before the call (linearisable read barrier). */
  readBarrier(): Promise<void> {
    if (this.stopped) return Promise.reject(this.stopped);
    return new Promise<void>((resolve, reject) => {
      this.readBatch.push({ resolve, reject, deadline: Date.now() + this.timeoutMs });
      this.schedule();
    });
  }

  /** Proposes a membership change; resolves with the new configuration once applied. */
  changeMembership(cc: ConfChange): Promise<ConfState> {
    if (this.stopped) return Promise.reject(this.stopped);
    return new Promise<ConfState>((resolve, reject) => {
      try {
        this.raw.proposeConfChange(cc);
      } catch (err) {
        reject(this.mapProposeError(err));
        return;
      }
      this.confWaiters.push({ cc, p: { resolve, reject, deadline: Date.now() + this.timeoutMs } });
      this.schedule();
    });
  }

  /** Throws NotLeaderError when this node is not the leader. */
  transferLeadership(to: NodeId): void {
    try {
      this.raw.transferLeader(to);
    } catch (err) {
      throw this.mapProposeError(err);
    }
    this.schedule();
  }

  reportUnreachable(id: NodeId): void {
    if (this.stopped) return;
    this.raw.reportUnreachable(id);
  }

  private get timeoutMs(): number {
    return this.opts.requestTimeoutMs ?? 10_000;
  }

  private receive(m: Message): void {
    if (this.stopped) return;
    try {
      this.raw.step(m);
    } catch (err) {
      // A message the core refuses (e.g. from a removed member) is not fatal for us.
      this.log('raft.step_failed', { from: m.from, type: m.type, error: (err as Error).message });
      return;
    }
    this.schedule();
  }

  private tick(): void {
    if (this.stopped) return;
    this.raw.tick();
    this.expire(Date.now());
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private mapProposeError(err: unknown): Error {
    if (err instanceof Error && err.name === 'NotLeaderError') return new NotLeaderError(this.id, this.lead);
    return err instanceof Error ? err : new Error(String(err));
  }

  /** Hands queued proposals and a batched ReadIndex request to the core. */
  private flushRequests(): void {
    if (this.queued.length > 0) {
      const q = this.queued;
      this.queued = [];
      try {
        this.raw.proposeBatch(q.map((p) => p.data));
      } catch (err) {
        const e = this.mapProposeError(err);
        for (const { seq } of q) {
          const p = this.proposals.get(seq);
          this.proposals.delete(seq);
          p?.reject(e);
        }
      }
    }
    if (this.readBatch.length > 0) {
      const ctx = `${this.id}/${this.incarnation.toString('hex')}/${++this.readCounter}`;
      this.reads.set(ctx, { waiters: this.readBatch, index: undefined });
      this.readBatch = [];
      this.raw.readIndex(ctx);
    }
  }

  private async run(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      this.flushRequests();
      while (!this.stopped && this.raw.hasReady()) {
        const rd = this.raw.ready();
        await this.handleReady(rd);
        if (this.stopped) return;
        this.raw.advance(rd);
        this.flushRequests();
      }
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      this.log('raft.fatal', { error: e.message, stack: e.stack });
      this.stop(`fatal: ${e.message}`);
      this.opts.onFatal?.(e);
    } finally {
      this.running = false;
    }
  }

  private async handleReady(rd: Ready): Promise<void> {
    if (rd.softState) this.onSoftState(rd.softState.lead, rd.softState.role, rd.hardState?.term);
    else if (rd.hardState && rd.hardState.term !== this.term) this.term = rd.hardState.term;

    // 1. Persist: nothing leaves this node that depends on state not yet on disk.
    if (rd.snapshot) this.storage.applySnapshot(rd.snapshot);
    if (rd.entries.length > 0) this.storage.append(rd.entries);
    if (rd.hardState) this.storage.setHardState(rd.hardState);
    if (rd.snapshot || rd.entries.length > 0 || rd.hardState) {
      // Term and vote must be durable before any message; a commit-only change need not be fsynced.
      const hs = rd.hardState;
      const mustSync =
        rd.snapshot !== undefined ||
        rd.entries.length > 0 ||
        (hs !== undefined && (hs.term !== this.durableTerm || hs.vote !== this.durableVote));
      if (this.storage.sync) await this.storage.sync(mustSync);
      if (hs) {
        this.durableTerm = hs.term;
        this.durableVote = hs.vote;
      }
    }
    if (this.stopped) return;

    // 2. Send.
    if (rd.messages.length > 0) this.transport.send(rd.messages);

    // 3. Apply.
    if (rd.snapshot && rd.snapshot.meta.index > this.applied) {
      this.sm.restore(rd.snapshot.data);
      this.applied = rd.snapshot.meta.index;
      this.snapIndex = rd.snapshot.meta.index;
      this.conf = rd.snapshot.meta.conf;
      this.log('raft.snapshot_restored', { index: this.applied, term: rd.snapshot.meta.term });
    }
    for (const e of rd.committedEntries) this.applyEntry(e);
    for (const rs of rd.readStates) {
      const r = this.reads.get(rs.context);
      if (!r) continue;
      this.reads.delete(rs.context);
      r.index = rs.index;
      this.readyReads.push(r);
    }
    this.releaseReads();
    if (this.applied - this.snapIndex >= (this.opts.snapshotEvery ?? 10_000)) await this.snapshotAndCompact();
  }

  private onSoftState(lead: NodeId | '', role: Role, term: number | undefined): void {
    const wasLeader = this.role === 'leader';
    const leadChanged = lead !== this.lead;
    this.lead = lead;
    this.role = role;
    if (term !== undefined) this.term = term;
    if (wasLeader && role !== 'leader') {
      // Entries we proposed may still be committed by the next leader, or overwritten: unknown.
      const err = new AmbiguousProposalError(this.id, 'leadership lost');
      for (const p of this.proposals.values()) p.reject(err);
      this.proposals.clear();
      this.queued = [];
    }
    if (leadChanged) {
      this.log('raft.leader_changed', { leader: lead, role, term: this.term });
      this.opts.onLeaderChange?.(lead, this.term);
    }
  }

  private applyEntry(e: Entry): void {
    if (e.index <= this.applied) return;
    if (e.type === 'conf') {
      const cc = JSON.parse(Buffer.from(e.data).toString('utf8')) as ConfChange;
      this.conf = this.raw.applyConfChange(cc);
      this.log('raft.conf_applied', { index: e.index, change: cc, conf: this.conf });
      this.opts.onConfChange?.(cc, this.conf);
      for (let i = this.confWaiters.length - 1; i >= 0; i--) {
        const w = this.confWaiters[i]!;
        if (w.cc.type === cc.type && w.cc.node === cc.node) {
          this.confWaiters.splice(i, 1);
          w.p.resolve(this.conf);
        }
      }
    } else if (e.data.length > 0) {
      const { ownSeq, payload } = unwrap(this.incarnation, e.data);
      const p = ownSeq === undefined ? undefined : this.proposals.get(ownSeq);
      if (p) this.proposals.delete(ownSeq!);
      let result: R;
      try {
        result = this.sm.apply(payload, e);
      } catch (err) {
        // Deterministic: every replica fails this entry the same way, so the log stays consistent.
        this.log('raft.apply_failed', { index: e.index, error: (err as Error).message });
        p?.reject(err instanceof Error ? err : new Error(String(err)));
        this.applied = e.index;
        return;
      }
      p?.resolve(result);
    }
    this.applied = e.index;
  }

  private releaseReads(): void {
    while (this.readyReads.length > 0 && this.readyReads[0]!.index! <= this.applied) {
      const r = this.readyReads.shift()!;
      for (const w of r.waiters) w.resolve();
    }
  }

  private async snapshotAndCompact(): Promise<void> {
    const index = this.applied;
    const data = this.sm.snapshot();
    this.storage.createSnapshot(index, this.conf, data);
    const keep = this.opts.keepEntriesBehindSnapshot ?? 1000;
    const compactTo = index - keep;
    if (compactTo >= this.storage.firstIndex()) this.storage.compact(compactTo);
    this.snapIndex = index;
    if (this.storage.sync) await this.storage.sync();
    this.log('raft.snapshot_taken', { index, bytes: data.length, compactedTo: Math.max(compactTo, 0) });
  }

  private expire(now: number): void {
    const err = () => new AmbiguousProposalError(this.id, 'timed out');
    for (const [seq, p] of this.proposals) {
      if (p.deadline > now) break;
      this.proposals.delete(seq);
      p.reject(err());
    }
    for (const [ctx, r] of this.reads) {
      if (r.waiters[0]!.deadline > now) break;
      this.reads.delete(ctx);
      for (const w of r.waiters) w.reject(new Error(`raft node ${this.id}: read timed out (no quorum or leader)`));
    }
    for (let i = this.confWaiters.length - 1; i >= 0; i--) {
      if (this.confWaiters[i]!.p.deadline <= now) this.confWaiters.splice(i, 1)[0]!.p.reject(err());
    }
  }

  private failAll(err: Error): void {
    for (const p of this.proposals.values()) p.reject(err);
    this.proposals.clear();
    this.queued = [];
    for (const r of this.reads.values()) for (const w of r.waiters) w.reject(err);
    this.reads.clear();
    for (const r of this.readyReads) for (const w of r.waiters) w.reject(err);
    this.readyReads.length = 0;
    for (const w of this.readBatch) w.reject(err);
    this.readBatch = [];
    for (const w of this.confWaiters) w.p.reject(err);
    this.confWaiters.length = 0;
  }
}
