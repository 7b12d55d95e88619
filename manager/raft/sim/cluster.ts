// The deterministic simulation: raft nodes over a lossy seeded network, crashing and restarting from
// what they persisted, with clients reading and writing a KV concurrently. Invariants are checked
// after every event and the client history is checked for linearisability at the end.
import { RawNode } from '../core/raw-node.js';
import { NotLeaderError } from '../core/errors.js';
import { decodeConfChange } from '../core/util.js';
import { MemoryStorage } from '../memory-storage.js';
import type { ConfChange, ConfState, Entry, Message, NodeId, Ready } from '../types.js';
import { InvariantError, Invariants } from './invariants.js';
import { Kv, encodeCommand, type Command } from './kv.js';
import { checkLinearizable, formatHistory, type HistoryOp, type OpKind } from './linearizability.js';
import { SimNetwork } from './network.js';
import { Rng } from './rng.js';
import { Trace } from './trace.js';

export interface SimOptions {
  /** Time units of faults and load, followed by a quiet period in which everything heals. */
  chaosSteps?: number;
  quietSteps?: number;
  /** How many recent events a failure report shows. */
  traceSize?: number;
}

type ClientReq = { kind: 'req'; client: number; seq: number; op: OpKind; key: string; value: string };
type ClientResp = { kind: 'resp'; client: number; seq: number; ok: boolean; value?: string; hint?: NodeId | '' };
type Payload = { kind: 'raft'; m: Message } | ClientReq | ClientResp;

const clientAddr = (c: number): NodeId => `client${c}`;

class SimNode {
  disk: MemoryStorage;
  rn: RawNode | undefined;
  kv = new Kv();
  conf: ConfState;
  /** Writes proposed here, answered when applied: "client:seq" → reply address. */
  pendingWrites = new Map<string, ClientReq>();
  /** ReadIndex requests issued here: context → request. */
  pendingReads = new Map<string, ClientReq>();
  /** Reads whose read index is known, waiting for the state machine to catch up. */
  waitingReads: Array<{ index: number; req: ClientReq }> = [];
  readSeq = 0;
  restartAt = 0;
  /** Whether Ready processing is slow at the moment (unpersisted state piles up and can be lost). */
  sluggish = false;

  constructor(
    readonly id: NodeId,
    initial: ConfState,
  ) {
    this.disk = new MemoryStorage(initial);
    this.conf = initial;
  }

  get up(): boolean {
    return this.rn !== undefined;
  }
}

interface Client {
  id: number;
  seq: number;
  busy: boolean;
  op?: { kind: OpKind; key: string; value: string; call: number; seq: number };
  target: NodeId;
  redirected?: boolean;
  deadline: number;
  nextAt: number;
}

export class SimFailure extends Error {
  constructor(
    readonly seed: number,
    readonly reason: string,
    readonly trace: string[],
  ) {
    super(reason);
    this.name = 'SimFailure';
  }
}

export interface SimStats {
  steps: number;
  commits: number;
  ops: number;
  leaders: number;
  crashes: number;
  confChanges: number;
  snapshotsSent: number;
  messages: number;
}

function msgSummary(m: Message): string {
  let s = `${m.from}>${m.to} ${m.type} t${m.term}`;
  if (m.index !== undefined) s += ` i${m.index}`;
  if (m.logTerm !== undefined) s += ` lt${m.logTerm}`;
  if (m.entries && m.entries.length) s += ` [${m.entries[0].index}..${m.entries[m.entries.length - 1].index}]`;
  if (m.commit !== undefined) s += ` c${m.commit}`;
  if (m.reject) s += ` REJECT hint ${m.rejectHint}/${m.rejectHintTerm}`;
  if (m.snapshot) s += ` snap@${m.snapshot.meta.index}`;
  if (m.context) s += ` ctx=${m.context}`;
  return s;
}

export class Simulation {
  private readonly rng: Rng;
  private readonly faultRng: Rng;
  private readonly net: SimNetwork<Payload>;
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly ids: NodeId[];
  private readonly clients: Client[] = [];
  private readonly keys: string[];
  private readonly history: HistoryOp[] = [];
  private readonly inv = new Invariants();
  readonly trace: Trace;
  private readonly traceFormat = (d: unknown): string | undefined =>
    typeof d === 'object' && d !== null && 'from' in d && 'type' in d && 'to' in d ? msgSummary(d as Message) : undefined;
  private now = 0;
  private readonly tickEvery = 4;
  private readonly snapEvery: number;
  private readonly retired = new Set<NodeId>();
  private readonly membership: boolean;
  private readonly stats: SimStats = { steps: 0, commits: 0, ops: 0, leaders: 0, crashes: 0, confChanges: 0, snapshotsSent: 0, messages: 0 };
  private chaos = true;
  private readonly checkQuorum: boolean;
  private readonly preVote: boolean;

  constructor(
    readonly seed: number,
    private readonly opts: SimOptions = {},
  ) {
    this.trace = new Trace(opts.traceSize ?? 400, this.traceFormat);
    this.rng = new Rng(seed);
    this.faultRng = this.rng.fork();
    const voters = this.rng.chance(0.5) ? 3 : 5;
    this.membership = this.rng.chance(0.4);
    const spares = this.membership ? 2 : 0;
    this.ids = [];
    for (let i = 1; i <= voters + spares; i++) this.ids.push(`n${i}`);
    const initial: ConfState = { voters: this.ids.slice(0, voters), learners: [] };
    for (const id of this.ids) {
      this.nodes.set(id, new SimNode(id, this.ids.indexOf(id) < voters ? initial : { voters: [], learners: [] }));
    }
    this.net = new SimNetwork<Payload>(this.rng.fork(), {
      dropRate: this.rng.pick([0, 0.01, 0.05, 0.15]),
      dupRate: this.rng.pick([0, 0.02, 0.1]),
      minDelay: 1,
      maxDelay: this.rng.pick([2, 4, 8]),
      longDelayRate: this.rng.pick([0, 0.02, 0.05]),
      longDelay: 60,
    });
    this.snapEvery = this.rng.pick([8, 25, 100]);
    this.checkQuorum = this.rng.chance(0.6);
    this.preVote = this.rng.chance(0.6);
    this.keys = ['x', 'y', 'z'].slice(0, 1 + this.rng.intn(3));
    const nClients = 2 + this.rng.intn(5);
    for (let c = 0; c < nClients; c++) {
      this.clients.push({ id: c, seq: 0, busy: false, target: this.rng.pick(this.ids), deadline: 0, nextAt: this.rng.intn(20) });
    }
    for (const id of this.ids) this.start(id);
  }

  // ---- node lifecycle ----

  private start(id: NodeId): void {
    const n = this.node(id);
    const snap = n.disk.snapshot();
    n.kv = Kv.restore(snap.data);
    n.conf = snap.meta.conf;
    n.rn = new RawNode(
      {
        id,
        electionTick: 10,
        heartbeatTick: 1,
        maxInflightMsgs: this.rng.pick([1, 4, 256]),
        maxSizePerMsg: this.rng.pick([1, 200, 4096]),
        applied: snap.meta.index,
        checkQuorum: this.checkQuorum,
        preVote: this.preVote,
        rand: this.rng.fork(),
      },
      n.disk,
    );
    this.trace.add(this.now, `start ${id}`, `snap@${snap.meta.index} hs=${JSON.stringify(n.disk.initialState().hardState)} last=${n.disk.lastIndex()}`);
  }

  private crash(id: NodeId): void {
    const n = this.node(id);
    n.rn = undefined;
    n.pendingWrites.clear();
    n.pendingReads.clear();
    n.waitingReads = [];
    n.restartAt = this.now + 10 + this.faultRng.intn(150);
    this.stats.crashes++;
    this.trace.add(this.now, `crash ${id}`);
  }

  private node(id: NodeId): SimNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  // ---- the Ready loop of one node ----

  private handleReady(n: SimNode): void {
    const rn = n.rn;
    if (rn === undefined || !rn.hasReady()) return;
    const rd = rn.ready();
    // A crash in the middle of persisting: some prefix of the batch reached the disk, nothing was sent.
    if (this.chaos && this.faultRng.chance(0.002)) {
      this.persist(n, rd, this.faultRng.intn(rd.entries.length + 2));
      this.trace.add(this.now, `crash ${n.id} while persisting`);
      this.crash(n.id);
      return;
    }
    this.persist(n, rd, Infinity);
    if (rd.hardState !== undefined) {
      this.inv.observeCommit(n.id, rd.hardState.term, rd.hardState.commit, rn.raft.raftLog.term(rd.hardState.commit));
    }
    for (const m of rd.messages) {
      this.stats.messages++;
      if (m.type === 'snap') this.stats.snapshotsSent++;
      const delivered = this.net.send(this.now, n.id, m.to, { kind: 'raft', m });
      // A real transport notices a failed snapshot stream; sometimes report it, sometimes not.
      if (!delivered && m.type === 'snap' && this.faultRng.chance(0.5)) rn.reportSnapshot(m.to, false);
    }
    if (rd.snapshot !== undefined) {
      n.kv = Kv.restore(rd.snapshot.data);
      n.conf = rd.snapshot.meta.conf;
      this.inv.observeApplied(n.id, undefined, n.kv.index, n.kv.chain);
    }
    for (const e of rd.committedEntries) this.apply(n, e);
    for (const rs of rd.readStates) {
      const req = n.pendingReads.get(rs.context);
      if (req === undefined) continue;
      n.pendingReads.delete(rs.context);
      n.waitingReads.push({ index: rs.index, req });
    }
    rn.advance(rd);
    this.serveReads(n);
    this.maybeSnapshot(n);
  }

  /** Writes the first `upTo` parts of [snapshot, ...entries, hardState] to disk. */
  private persist(n: SimNode, rd: Ready, upTo: number): void {
    if (rd.snapshot !== undefined) n.disk.applySnapshot(rd.snapshot);
    const ents = rd.entries.slice(0, Math.min(rd.entries.length, upTo));
    if (ents.length > 0) {
      n.disk.append(ents);
      const first = n.disk.firstIndex();
      this.inv.observePersisted(
        n.id,
        ents.filter((e) => e.index >= first),
        (i) => n.disk.term(i),
      );
    }
    if (rd.hardState !== undefined && upTo > rd.entries.length) n.disk.setHardState(rd.hardState);
  }

  private apply(n: SimNode, e: Entry): void {
    const rn = n.rn as RawNode;
    if (e.type === 'conf') {
      const cc: ConfChange = decodeConfChange(e.data);
      n.conf = rn.applyConfChange(cc);
      // Bootstrap entries (term 1) build the founding config step by step on a joiner, while founders
      // had it whole from the start; from then on every replica must agree.
      if (e.term > 1) this.inv.observeConf(n.id, e.index, n.conf);
      this.trace.add(this.now, `${n.id} applies conf ${e.index}`, { cc, conf: n.conf });
    }
    const cmd: Command | undefined = n.kv.apply(e);
    this.inv.observeApplied(n.id, e, e.index, n.kv.chain);
    if (cmd === undefined) return;
    const key = `${cmd.client}:${cmd.seq}`;
    const req = n.pendingWrites.get(key);
    if (req !== undefined) {
      n.pendingWrites.delete(key);
      this.reply(n.id, req, true);
    }
  }

  private serveReads(n: SimNode): void {
    if (n.waitingReads.length === 0) return;
    const still: typeof n.waitingReads = [];
    for (const w of n.waitingReads) {
      if (n.kv.index >= w.index) this.reply(n.id, w.req, true, n.kv.get(w.req.key));
      else still.push(w);
    }
    n.waitingReads = still;
  }

  private maybeSnapshot(n: SimNode): void {
    const applied = n.kv.index;
    const snapIndex = n.disk.snapshot().meta.index;
    if (applied - snapIndex < this.snapEvery) return;
    n.disk.createSnapshot(applied, n.conf, n.kv.serialize());
    // Keep a few entries so that slightly lagging followers still get appends, not snapshots.
    const keep = this.rng.intn(5);
    const upTo = applied - keep;
    if (upTo > n.disk.firstIndex() - 1) n.disk.compact(upTo);
    this.trace.add(this.now, `${n.id} snapshot@${applied} compact@${upTo}`);
  }

  // ---- clients ----

  private reply(from: NodeId, req: ClientReq, ok: boolean, value?: string, hint?: NodeId | ''): void {
    this.net.send(this.now, from, clientAddr(req.client), { kind: 'resp', client: req.client, seq: req.seq, ok, value, hint });
  }

  private serveClient(n: SimNode, req: ClientReq): void {
    const rn = n.rn;
    if (rn === undefined) return;
    if (req.op === 'get') {
      const lead = rn.raft.lead;
      if (lead === '') {
        this.reply(n.id, req, false, undefined, '');
        return;
      }
      const ctx = `${n.id}.${++n.readSeq}`;
      n.pendingReads.set(ctx, req);
      rn.readIndex(ctx);
      return;
    }
    try {
      rn.propose(encodeCommand({ client: req.client, seq: req.seq, op: { kind: req.op, key: req.key, value: req.value } }));
      n.pendingWrites.set(`${req.client}:${req.seq}`, req);
    } catch (e) {
      if (!(e instanceof NotLeaderError)) throw e;
      this.reply(n.id, req, false, undefined, e.leader);
    }
  }

  private clientStep(c: Client): void {
    if (!c.busy) {
      if (!this.chaos || this.now < c.nextAt) return;
      const r = this.rng.float();
      const kind: OpKind = r < 0.4 ? 'get' : r < 0.7 ? 'put' : 'append';
      c.seq++;
      const value = kind === 'get' ? '' : `${c.id}.${c.seq};`;
      c.op = { kind, key: this.rng.pick(this.keys), value, call: this.now, seq: c.seq };
      c.busy = true;
      this.sendReq(c);
      return;
    }
    if (this.now >= c.deadline) {
      // After a redirect the deadline was brought forward and the target is the hinted leader.
      if (!c.redirected) c.target = this.pickTarget();
      c.redirected = false;
      this.sendReq(c);
    }
  }

  /** Clients know the membership roughly: nodes removed from the cluster are taken off their lists. */
  private pickTarget(): NodeId {
    const live = this.ids.filter((id) => !this.retired.has(id));
    return this.rng.pick(live.length > 0 ? live : this.ids);
  }

  private sendReq(c: Client): void {
    const op = c.op;
    if (op === undefined) return;
    c.deadline = this.now + 60;
    this.net.send(this.now, clientAddr(c.id), c.target, { kind: 'req', client: c.id, seq: op.seq, op: op.kind, key: op.key, value: op.value });
  }

  private clientReceive(c: Client, resp: ClientResp): void {
    const op = c.op;
    if (!c.busy || op === undefined || resp.seq !== op.seq) return;
    if (!resp.ok) {
      c.target = resp.hint !== undefined && resp.hint !== '' ? resp.hint : this.pickTarget();
      c.redirected = true;
      c.deadline = Math.min(c.deadline, this.now + 5);
      return;
    }
    this.history.push({ client: c.id, key: op.key, kind: op.kind, value: op.kind === 'get' ? (resp.value ?? '') : op.value, call: op.call, ret: this.now });
    this.stats.ops++;
    c.busy = false;
    c.op = undefined;
    c.nextAt = this.now + this.rng.intn(10);
  }

  // ---- faults ----

  private faults(): void {
    const f = this.faultRng;
    const up = this.ids.filter((id) => this.node(id).up);
    for (const id of this.ids) {
      const n = this.node(id);
      if (!n.up && this.now >= n.restartAt) this.start(id);
    }
    if (f.chance(0.004) && up.length > 0) this.crash(f.pick(up));
    const lead = this.currentLeader();
    // Leaders are where the interesting failures are: crash or cut them off more often.
    if (lead !== undefined && f.chance(0.002)) this.crash(lead.id);
    if (lead !== undefined && f.chance(0.002)) {
      this.net.partition([[lead.id], this.ids.filter((id) => id !== lead.id)]);
      this.trace.add(this.now, `isolate leader ${lead.id}`);
    }
    if (f.chance(0.003)) {
      const shuffled = this.ids.slice().sort(() => f.float() - 0.5);
      const cutAt = 1 + f.intn(shuffled.length - 1);
      const groups = [shuffled.slice(0, cutAt), shuffled.slice(cutAt)];
      this.net.partition(groups);
      this.trace.add(this.now, 'partition', groups);
    }
    if (f.chance(0.002)) {
      const a = f.pick(this.ids);
      const b = f.pick(this.ids);
      if (a !== b) {
        this.net.cut(a, b);
        this.trace.add(this.now, `cut ${a}>${b}`);
      }
    }
    if (f.chance(0.006)) {
      this.net.heal();
      this.trace.add(this.now, 'heal');
    }
    for (const id of up) {
      const n = this.node(id);
      if (f.chance(0.01)) n.sluggish = !n.sluggish;
    }
    const leader = this.currentLeader();
    if (leader !== undefined && f.chance(0.002)) {
      const to = f.pick(this.ids);
      try {
        leader.rn?.transferLeader(to);
        this.trace.add(this.now, `transfer ${leader.id} -> ${to}`);
      } catch (e) {
        if (!(e instanceof NotLeaderError)) throw e;
      }
    }
    if (this.membership && leader !== undefined && f.chance(0.01)) this.changeMembership(leader);
  }

  private changeMembership(leader: SimNode): void {
    const f = this.faultRng;
    const conf = leader.rn?.status().conf;
    if (conf === undefined || conf.votersOutgoing !== undefined) return;
    const members = new Set([...conf.voters, ...conf.learners]);
    const outsiders = this.ids.filter((id) => !members.has(id) && !this.retired.has(id));
    const choices: ConfChange[] = [];
    for (const id of outsiders) choices.push({ type: 'addLearner', node: id }, { type: 'addVoter', node: id });
    for (const id of conf.learners) choices.push({ type: 'addVoter', node: id }, { type: 'removeVoter', node: id });
    if (conf.voters.length > 2) for (const id of conf.voters) choices.push({ type: 'removeVoter', node: id }, { type: 'addLearner', node: id });
    if (choices.length === 0) return;
    let cc = f.pick(choices);
    if (f.chance(0.4)) {
      // Joint consensus: this change plus another one at once.
      const other = f.pick(choices);
      if (other.node !== cc.node) cc = { ...cc, joint: [{ type: other.type, node: other.node }] };
      else cc = { ...cc, joint: [] };
    }
    try {
      leader.rn?.proposeConfChange(cc);
      this.stats.confChanges++;
      const removed = [cc, ...(cc.joint ?? [])].filter((c) => c.type === 'removeVoter').map((c) => c.node);
      for (const id of removed) this.retired.add(id);
      this.trace.add(this.now, `propose conf on ${leader.id}`, cc);
    } catch (e) {
      if (e instanceof NotLeaderError) return;
      if (e instanceof Error && e.name === 'ConfChangeRejectedError') return;
      throw e;
    }
  }

  private currentLeader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes.values()) {
      const r = n.rn?.raft;
      if (r && r.role === 'leader' && (best === undefined || r.term > (best.rn as RawNode).raft.term)) best = n;
    }
    return best;
  }

  // ---- the main loop ----

  private deliver(): void {
    for (const { from, to, payload } of this.net.due(this.now)) {
      if (payload.kind === 'resp') {
        const c = this.clients[payload.client];
        this.clientReceive(c, payload);
        continue;
      }
      const n = this.nodes.get(to);
      if (n === undefined || !n.up) continue;
      if (payload.kind === 'req') {
        this.trace.add(this.now, `${to} <- client${payload.client}`, `${payload.op}(${payload.key}) #${payload.seq}`);
        this.serveClient(n, payload);
      } else {
        this.trace.add(this.now, 'deliver', payload.m);
        (n.rn as RawNode).step(payload.m);
      }
      this.check(n);
      void from;
    }
  }

  private check(n: SimNode): void {
    const r = n.rn?.raft;
    if (r !== undefined && r.role === 'leader') this.inv.observeLeader(n.id, r);
  }

  private stepOnce(): void {
    this.now++;
    this.deliver();
    for (const n of this.nodes.values()) {
      if (!n.up) continue;
      if (n.sluggish && this.chaos && this.rng.chance(0.7)) continue;
      this.handleReady(n);
      this.check(n);
    }
    for (const n of this.nodes.values()) {
      const rn = n.rn;
      if (rn === undefined) continue;
      // Nodes tick at the same rate but out of phase.
      if ((this.now + this.ids.indexOf(n.id)) % this.tickEvery === 0) {
        const before = rn.raft.role;
        rn.tick();
        if (rn.raft.role !== before) this.trace.add(this.now, `${n.id} tick: ${before} -> ${rn.raft.role} t${rn.raft.term}`);
        this.check(n);
      }
    }
    for (const c of this.clients) this.clientStep(c);
    if (this.chaos) this.faults();
  }

  run(): SimStats {
    const chaosSteps = this.opts.chaosSteps ?? 3000;
    const quietSteps = this.opts.quietSteps ?? 1500;
    try {
      while (this.now < chaosSteps) this.stepOnce();
      this.quiet();
      const end = this.now + quietSteps;
      while (this.now < end && this.clients.some((c) => c.busy)) this.stepOnce();
      const stuck = this.clients.filter((c) => c.busy);
      if (stuck.length > 0) {
        throw new InvariantError(`liveness: ${stuck.length} client op(s) unanswered ${quietSteps} steps after healing (leader: ${this.currentLeader()?.id ?? 'none'})`);
      }
      const lin = checkLinearizable(this.history);
      if (!lin.ok) {
        throw new InvariantError(`linearizability (key ${lin.key}): ${lin.reason}\n${formatHistory(lin.ops)}`);
      }
    } catch (e) {
      const reason = e instanceof Error ? (e.stack ?? e.message) : String(e);
      throw new SimFailure(this.seed, reason, this.traceLines());
    }
    this.stats.steps = this.now;
    this.stats.commits = this.inv.committed;
    this.stats.leaders = this.inv.leaders;
    return this.stats;
  }

  /** Ends the chaos: everything heals, every node restarts, the network stops losing messages. */
  private quiet(): void {
    this.chaos = false;
    this.net.heal();
    this.net.cfg = { ...this.net.cfg, dropRate: 0, dupRate: 0, longDelayRate: 0 };
    for (const n of this.nodes.values()) {
      n.sluggish = false;
      if (!n.up) this.start(n.id);
    }
    this.trace.add(this.now, 'quiet: healed, all nodes up');
  }

  traceLines(): string[] {
    const status = [...this.nodes.values()].map((n) => {
      const s = n.rn?.status();
      return s
        ? `  ${n.id}: ${s.role} t${s.term} lead=${s.lead} commit=${s.commit} applied=${s.applied} last=${n.rn?.raft.raftLog.lastIndex()} conf=${JSON.stringify(s.conf)}`
        : `  ${n.id}: down`;
    });
    return [...this.trace.lines(), 'nodes:', ...status];
  }
}
