// The Raft state machine (etcd's raft struct): election, replication, commitment, membership, reads
// and leadership transfer. Pure: it changes only in tick()/step()/the request methods and leaves its
// output in `msgs`, `readStates` and the log's unstable part for RawNode to hand out.
import type {
  ConfChange,
  ConfState,
  Entry,
  HardState,
  LogStorage,
  Message,
  MessageType,
  NodeId,
  Rand,
  ReadState,
  Role,
  Snapshot,
  SoftState,
} from '../types.js';
import { CompactedError } from '../types.js';
import { ConfChangeError, configFromState, nextConfig, reconcileProgress } from './confchange.js';
import { ConfChangeRejectedError, NotLeaderError } from './errors.js';
import type { Progress } from './progress.js';
import { RaftLog } from './raft-log.js';
import { ReadOnly } from './read-only.js';
import { ProgressTracker, type MemberConfig } from './tracker.js';
import { decodeConfChange, EMPTY, encodeConfChange } from './util.js';

export interface RaftConfig {
  id: NodeId;
  /** Randomised election timeout is drawn from [electionTick, 2*electionTick). */
  electionTick: number;
  heartbeatTick: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  maxInflightMsgs?: number;
  maxSizePerMsg?: number;
  /** Budget for committed entries handed out in one Ready; default maxSizePerMsg. */
  maxCommittedSizePerReady?: number;
  /** Last applied index on restart (the state machine already reflects it). */
  applied?: number;
  rand: Rand;
}

/** Vote context that lets a leadership-transfer election bypass the followers' leader lease. */
export const CAMPAIGN_TRANSFER = 'transfer';

type CampaignKind = 'preElection' | 'election' | 'transfer';

type Outgoing = Omit<Message, 'from' | 'term'> & { term?: number };

export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId | '' = '';
  lead: NodeId | '' = '';
  role: Role = 'follower';
  isLearner = false;
  readonly raftLog: RaftLog;
  readonly trk: ProgressTracker;
  msgs: Message[] = [];
  readStates: ReadState[] = [];

  leadTransferee: NodeId | '' = '';
  /** No new conf change may be proposed until this index is applied (one change at a time). */
  pendingConfIndex = 0;
  private readOnly = new ReadOnly();
  /** ReadIndex requests that arrived before this leader committed an entry of its own term. */
  private pendingReads: Array<{ from: NodeId; context: string }> = [];
  /** A conf change in our log, not yet applied, removes or demotes us (see leaving()). */
  private leavingPending = false;
  /** Set by proposals and commit advances; the broadcast happens once per Ready (batching). */
  private bcastPending = false;
  /** Set by leader reads; one heartbeat round per Ready confirms all of them. */
  private readHeartbeatPending = false;

  electionElapsed = 0;
  private heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  readonly electionTimeout: number;
  readonly heartbeatTimeout: number;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  private readonly maxMsgSize: number;
  private readonly rand: Rand;

  constructor(c: RaftConfig, storage: LogStorage) {
    if (c.id === '') throw new Error('raft: empty id');
    if (c.heartbeatTick <= 0 || c.electionTick <= c.heartbeatTick) {
      throw new Error('raft: need 0 < heartbeatTick < electionTick');
    }
    this.id = c.id;
    this.electionTimeout = c.electionTick;
    this.heartbeatTimeout = c.heartbeatTick;
    this.checkQuorum = c.checkQuorum ?? true;
    this.preVote = c.preVote ?? true;
    this.maxMsgSize = c.maxSizePerMsg ?? 1024 * 1024;
    this.rand = c.rand;
    this.raftLog = new RaftLog(storage, c.maxCommittedSizePerReady ?? this.maxMsgSize);
    this.trk = new ProgressTracker(c.maxInflightMsgs ?? 256);

    const { hardState, conf } = storage.initialState();
    const cfg = configFromState(conf);
    this.switchConfig(cfg);
    if (hardState.term !== 0 || hardState.vote !== '' || hardState.commit !== 0) this.loadState(hardState);
    if (c.applied !== undefined && c.applied > 0) this.raftLog.appliedTo(c.applied);
    this.becomeFollower(this.term, '');
  }

  private loadState(hs: HardState): void {
    if (hs.commit > this.raftLog.lastIndex()) {
      throw new Error(`raft: hard state commit ${hs.commit} is past the last index ${this.raftLog.lastIndex()}`);
    }
    // A snapshot persisted without the hard state that came with it: its index is committed anyway.
    this.raftLog.committed = Math.max(hs.commit, this.raftLog.committed);
    this.term = hs.term;
    this.vote = hs.vote;
  }

  softState(): SoftState {
    return { lead: this.lead, role: this.role };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  confState(): ConfState {
    return this.trk.confState();
  }

  // ---- output ----

  private send(m: Outgoing): void {
    const msg = m as Message;
    msg.from = this.id;
    if (m.term === undefined) msg.term = this.term;
    this.msgs.push(msg);
  }

  /** Emits the broadcasts deferred since the last Ready. */
  flush(): void {
    if (this.role !== 'leader') {
      this.bcastPending = false;
      this.readHeartbeatPending = false;
      return;
    }
    if (this.bcastPending) {
      this.bcastPending = false;
      this.bcastAppend();
    }
    if (this.readHeartbeatPending) {
      this.readHeartbeatPending = false;
      const ctx = this.readOnly.lastPendingContext();
      if (ctx !== undefined) this.bcastHeartbeat(ctx);
    }
  }

  /** For tests: flush, then take the pending messages. */
  readMessages(): Message[] {
    this.flush();
    const out = this.msgs;
    this.msgs = [];
    return out;
  }

  // ---- role changes ----

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = '';
    }
    this.lead = '';
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = '';
    this.trk.resetVotes();
    const last = this.raftLog.lastIndex();
    for (const [id, pr] of this.trk.progress) {
      pr.becomeProbe();
      pr.match = id === this.id ? last : 0;
      pr.next = last + 1;
      pr.recentActive = false;
    }
    this.pendingConfIndex = 0;
    this.leavingPending = false;
    this.readOnly = new ReadOnly();
    this.pendingReads = [];
    this.bcastPending = false;
    this.readHeartbeatPending = false;
  }

  resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + this.rand.intn(this.electionTimeout);
  }

  becomeFollower(term: number, lead: NodeId | ''): void {
    this.reset(term);
    this.lead = lead;
    this.role = 'follower';
  }

  becomePreCandidate(): void {
    if (this.role === 'leader') throw new Error('raft: leader cannot become pre-candidate');
    // Neither term nor vote change: a pre-election must not disturb anyone (thesis §9.6).
    this.trk.resetVotes();
    this.lead = '';
    this.role = 'preCandidate';
  }

  becomeCandidate(): void {
    if (this.role === 'leader') throw new Error('raft: leader cannot become candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  becomeLeader(): void {
    if (this.role === 'follower') throw new Error('raft: follower cannot become leader');
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    const self = this.trk.progress.get(this.id);
    if (self !== undefined) {
      self.becomeReplicate();
      self.recentActive = true;
    }
    // §8: a no-op of the new term lets earlier-term entries commit and marks when reads and
    // membership changes become safe.
    this.appendEntries([{ term: 0, index: 0, type: 'normal', data: EMPTY }]);
    this.pendingConfIndex = this.raftLog.lastIndex();
    this.leavingPending = this.scanLeaving();
  }

  // ---- ticks ----

  tick(): void {
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) {
        if (!this.trk.quorumActive(this.id)) {
          this.becomeFollower(this.term, '');
          return;
        }
        for (const [id, pr] of this.trk.progress) if (id !== this.id) pr.recentActive = false;
      }
      this.retryStaleSnapshots();
      if (this.leadTransferee !== '') this.abortLeaderTransfer();
    }
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat(undefined);
    }
  }

  /** A snapshot that went unanswered for a whole election timeout was probably lost: probe again. */
  private retryStaleSnapshots(): void {
    for (const pr of this.trk.progress.values()) {
      if (pr.state !== 'snapshot') continue;
      if (pr.snapshotStale) pr.becomeProbe();
      else pr.snapshotStale = true;
    }
  }

  promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.raftLog.hasPendingSnapshot();
  }

  // ---- elections ----

  /** Starts an election if allowed (MsgHup). */
  hup(transfer: boolean): void {
    if (this.role === 'leader') return;
    if (!this.promotable()) return;
    // A conf change committed but not applied may change who is a voter; wait until it is.
    if (this.hasUnappliedConfChanges()) return;
    if (transfer) this.campaign('transfer');
    else this.campaign(this.preVote ? 'preElection' : 'election');
  }

  private hasUnappliedConfChanges(): boolean {
    const log = this.raftLog;
    if (log.applied >= log.committed) return false;
    const lo = Math.max(log.applied + 1, log.firstIndex());
    for (const e of log.slice(lo, log.committed + 1, Number.MAX_SAFE_INTEGER)) if (e.type === 'conf') return true;
    return false;
  }

  campaign(kind: CampaignKind): void {
    if (!this.promotable()) return;
    let voteType: MessageType;
    let term: number;
    if (kind === 'preElection') {
      this.becomePreCandidate();
      voteType = 'preVote';
      term = this.term + 1; // the term we would campaign in; ours does not change yet
    } else {
      this.becomeCandidate();
      voteType = 'vote';
      term = this.term;
    }
    if (this.poll(this.id, true) === 'won') {
      // Single voter: wins at once.
      if (kind === 'preElection') this.campaign('election');
      else this.becomeLeader();
      return;
    }
    const index = this.raftLog.lastIndex();
    const logTerm = this.raftLog.lastTerm();
    for (const id of this.trk.voters()) {
      if (id === this.id) continue;
      this.send({
        type: voteType,
        to: id,
        term,
        index,
        logTerm,
        context: kind === 'transfer' ? CAMPAIGN_TRANSFER : undefined,
      });
    }
  }

  private poll(id: NodeId, granted: boolean): 'pending' | 'lost' | 'won' {
    this.trk.recordVote(id, granted);
    return this.trk.tally().result;
  }

  // ---- the message dispatcher (§5.1 term rules first) ----

  step(m: Message): void {
    if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'preVote') {
        const force = m.context === CAMPAIGN_TRANSFER;
        // Leader lease (thesis §4.2.3): while we hear from a leader, disruptive candidates are ignored.
        const inLease = this.checkQuorum && this.lead !== '' && this.electionElapsed < this.electionTimeout;
        if (!force && inLease) return;
      }
      if (m.type === 'preVote') {
        // A pre-vote never changes our term.
      } else if (m.type === 'preVoteResp' && !m.reject) {
        // The term moves only once a pre-election is won.
      } else if (m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, '');
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === 'heartbeat' || m.type === 'app')) {
        // A stale leader cut off by check-quorum or pre-vote would never learn of the newer term
        // otherwise: tell it, so that it steps down.
        this.send({ type: 'appResp', to: m.from });
      } else if (m.type === 'preVote') {
        this.send({ type: 'preVoteResp', to: m.from, term: this.term, reject: true });
      } else if (m.type === 'vote') {
        // Figure 2: the reply carries currentTerm "for candidate to update itself". Without it a
        // candidate behind our term never learns it: with pre-vote off, a removed member that keeps
        // raising the term can then outpace the only electable candidate forever (sim seed 5944).
        this.send({ type: 'voteResp', to: m.from, term: this.term, reject: true });
      }
      return;
    }

    if (m.type === 'vote' || m.type === 'preVote') {
      this.handleVoteRequest(m);
      return;
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(m);
        return;
      case 'candidate':
      case 'preCandidate':
        this.stepCandidate(m);
        return;
      case 'follower':
        this.stepFollower(m);
        return;
    }
  }

  private handleVoteRequest(m: Message): void {
    const respType: MessageType = m.type === 'vote' ? 'voteResp' : 'preVoteResp';
    const canVote =
      this.vote === m.from ||
      (this.vote === '' && this.lead === '') ||
      (m.type === 'preVote' && m.term > this.term);
    if (canVote && this.raftLog.isUpToDate(m.index ?? 0, m.logTerm ?? 0)) {
      // The reply carries the candidate's term so a pre-vote grant is not mistaken for a stale answer.
      this.send({ type: respType, to: m.from, term: m.term, reject: false });
      if (m.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: respType, to: m.from, term: this.term, reject: true });
    }
  }

  private stepLeader(m: Message): void {
    const pr = this.trk.progress.get(m.from);
    if (m.type === 'readIndex') {
      this.leaderReadIndex(m.from, m.context ?? '');
      return;
    }
    if (pr === undefined) return;
    switch (m.type) {
      case 'appResp':
        this.handleAppResp(m, pr);
        return;
      case 'heartbeatResp':
        this.handleHeartbeatResp(m, pr);
        return;
      default:
        return;
    }
  }

  private handleAppResp(m: Message, pr: Progress): void {
    pr.recentActive = true;
    const index = m.index ?? 0;
    if (m.reject) {
      let hint = m.rejectHint ?? 0;
      if ((m.rejectHintTerm ?? 0) > 0) {
        // Skip every entry of ours whose term cannot match the follower's term at the hint.
        hint = this.raftLog.findConflictByTerm(hint, m.rejectHintTerm ?? 0)[0];
      }
      if (pr.maybeDecrTo(index, hint)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (pr.maybeUpdate(index)) {
      if (pr.state === 'probe') pr.becomeReplicate();
      else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) {
        pr.becomeProbe();
        pr.becomeReplicate();
      } else if (pr.state === 'replicate') pr.inflights.freeLE(index);

      if (this.maybeCommit()) {
        this.bcastPending = true;
      } else if (wasPaused) {
        this.sendAppend(m.from);
      }
      while (this.maybeSendAppend(m.from, false)) {
        // stream until the window is full or nothing is left
      }
      if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) this.sendTimeoutNow(m.from);
    }
  }

  private handleHeartbeatResp(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.probeSent = false;
    // Appends (or their answers) may have been lost; free a slot so that one more append probes.
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (pr.match < this.raftLog.lastIndex()) this.sendAppend(m.from);

    const ctx = m.context;
    if (ctx === undefined || ctx === '') return;
    const acks = this.readOnly.recvAck(m.from, ctx);
    if (acks === undefined || this.trk.quorumOf(acks) !== 'won') return;
    for (const rs of this.readOnly.advance(ctx)) this.answerRead(rs.from, rs.context, rs.index);
  }

  private stepCandidate(m: Message): void {
    const myResp: MessageType = this.role === 'preCandidate' ? 'preVoteResp' : 'voteResp';
    switch (m.type) {
      case 'app':
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        return;
      case 'heartbeat':
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case 'snap':
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      default:
        break;
    }
    if (m.type !== myResp) return;
    const res = this.poll(m.from, !m.reject);
    if (res === 'won') {
      if (this.role === 'preCandidate') this.campaign('election');
      else {
        this.becomeLeader();
        this.bcastAppend();
      }
    } else if (res === 'lost') {
      this.becomeFollower(this.term, '');
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'app':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case 'heartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case 'snap':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case 'timeoutNow':
        this.hup(true);
        return;
      case 'readIndexResp':
        this.readStates.push({ index: m.index ?? 0, context: m.context ?? '' });
        return;
      default:
        return;
    }
  }

  // ---- follower side of replication ----

  handleAppendEntries(m: Message): void {
    const index = m.index ?? 0;
    if (index < this.raftLog.committed) {
      this.send({ type: 'appResp', to: m.from, index: this.raftLog.committed });
      return;
    }
    const last = this.raftLog.maybeAppend(index, m.logTerm ?? 0, m.commit ?? 0, m.entries ?? []);
    if (last !== undefined) {
      this.send({ type: 'appResp', to: m.from, index: last });
      return;
    }
    const [hintIndex, hintTerm] = this.raftLog.findConflictByTerm(
      Math.min(index, this.raftLog.lastIndex()),
      m.logTerm ?? 0,
    );
    this.send({ type: 'appResp', to: m.from, index, reject: true, rejectHint: hintIndex, rejectHintTerm: hintTerm });
  }

  private handleHeartbeat(m: Message): void {
    this.raftLog.commitTo(Math.min(m.commit ?? 0, this.raftLog.lastIndex()));
    this.send({ type: 'heartbeatResp', to: m.from, context: m.context });
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot;
    if (s === undefined) return;
    if (this.restore(s)) {
      this.send({ type: 'appResp', to: m.from, index: this.raftLog.lastIndex() });
    } else {
      this.send({ type: 'appResp', to: m.from, index: this.raftLog.committed });
    }
  }

  /** Installs a snapshot (§7); false if it brings nothing new. */
  restore(s: Snapshot): boolean {
    if (s.meta.index <= this.raftLog.committed) return false;
    if (this.role !== 'follower') {
      this.becomeFollower(this.term + 1, '');
      return false;
    }
    // Unlike etcd we accept a snapshot whose config does not list us yet: a node added after the
    // leader's last snapshot would otherwise never catch up. Until it applies the entry adding it,
    // it is simply not promotable.
    const cs = s.meta.conf;
    if (this.raftLog.matchTerm(s.meta.index, s.meta.term)) {
      // We already hold the snapshot's last entry: just fast-forward the commit.
      this.raftLog.commitTo(s.meta.index);
      return false;
    }
    this.raftLog.restore(s);
    // Progress from before the snapshot describes a log that no longer exists.
    this.trk.progress = new Map();
    this.switchConfig(configFromState(cs));
    return true;
  }

  // ---- leader side of replication ----

  private sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  /** Sends what `to` is missing (or a snapshot); false if nothing was sent. */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.trk.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.raftLog.term(prevIndex);
    let ents: Entry[] | undefined;
    if (prevTerm !== undefined) {
      try {
        ents = this.raftLog.entries(pr.next, this.maxMsgSize);
      } catch (e) {
        if (!(e instanceof CompactedError)) throw e;
      }
    }
    if (prevTerm === undefined || ents === undefined) return this.sendSnapshot(to, pr);
    if (ents.length === 0 && !sendIfEmpty) return false;
    this.send({ type: 'app', to, index: prevIndex, logTerm: prevTerm, entries: ents, commit: this.raftLog.committed });
    pr.sent(ents.length > 0 ? ents[ents.length - 1].index : undefined);
    return true;
  }

  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    if (!pr.recentActive) return false;
    const snapshot = this.raftLog.snapshot();
    if (snapshot.meta.index === 0) return false;
    this.send({ type: 'snap', to, snapshot });
    pr.becomeSnapshot(snapshot.meta.index);
    return true;
  }

  bcastAppend(): void {
    for (const id of this.trk.peers()) {
      if (id === this.id) continue;
      this.sendAppend(id);
      // A follower known to be in sync gets everything new at once, up to its in-flight window.
      if (this.trk.progress.get(id)?.state === 'replicate') while (this.maybeSendAppend(id, false));
    }
  }

  private bcastHeartbeat(context: string | undefined): void {
    for (const id of this.trk.peers()) {
      if (id === this.id) continue;
      const pr = this.trk.progress.get(id);
      if (pr === undefined) continue;
      // Never tell a follower of a commit index its log may not hold yet.
      const commit = Math.min(pr.match, this.raftLog.committed);
      this.send({ type: 'heartbeat', to: id, commit, context });
    }
  }

  /** §5.3/§5.4.2: advance commit to what a quorum holds, but only by counting entries of this term. */
  maybeCommit(): boolean {
    const before = this.raftLog.committed;
    if (!this.raftLog.maybeCommit(this.trk.committed(), this.term)) return false;
    if (this.raftLog.term(before) !== this.term) this.releasePendingReads();
    return true;
  }

  private appendEntries(es: Entry[]): void {
    let li = this.raftLog.lastIndex();
    for (const e of es) {
      e.term = this.term;
      e.index = ++li;
    }
    this.raftLog.append(es);
    this.trk.progress.get(this.id)?.maybeUpdate(this.raftLog.lastIndex());
    this.maybeCommit();
  }

  // ---- requests from the application ----

  private requireLeader(): void {
    if (this.role !== 'leader' || this.leadTransferee !== '' || !this.selfVoter()) {
      throw new NotLeaderError(this.role === 'leader' ? '' : this.lead);
    }
  }

  propose(datas: readonly Uint8Array[]): void {
    this.requireLeader();
    if (this.leaving()) throw new NotLeaderError('');
    this.appendEntries(datas.map((data) => ({ term: 0, index: 0, type: 'normal', data })));
    this.bcastPending = true;
  }

  proposeConfChange(cc: ConfChange): void {
    this.requireLeader();
    if (this.pendingConfIndex > this.raftLog.applied) {
      throw new ConfChangeRejectedError(
        `a change at ${this.pendingConfIndex} is not applied yet (applied ${this.raftLog.applied})`,
      );
    }
    try {
      this.leavingPending = !nextConfig(this.trk.config, cc).incoming.has(this.id);
    } catch (e) {
      if (e instanceof ConfChangeError) throw new ConfChangeRejectedError(e.message);
      throw e;
    }
    this.appendEntries([{ term: 0, index: 0, type: 'conf', data: encodeConfChange(cc) }]);
    this.pendingConfIndex = this.raftLog.lastIndex();
    this.bcastPending = true;
  }

  /** Called after the application applied entries up to raftLog.applied. */
  afterApplied(): void {
    if (this.role !== 'leader' || !this.trk.config.autoLeave) return;
    if (this.pendingConfIndex > this.raftLog.applied || this.leadTransferee !== '') return;
    this.appendEntries([
      { term: 0, index: 0, type: 'conf', data: encodeConfChange({ type: 'removeVoter', node: '', leaveJoint: true }) },
    ]);
    this.pendingConfIndex = this.raftLog.lastIndex();
    this.bcastPending = true;
  }

  /** Applies a committed membership change; an invalid one is ignored the same way on every node. */
  applyConfChange(cc: ConfChange): ConfState {
    let next: MemberConfig;
    try {
      next = nextConfig(this.trk.config, cc);
    } catch (e) {
      if (e instanceof ConfChangeError) return this.trk.confState();
      throw e;
    }
    this.switchConfig(next);
    return this.trk.confState();
  }

  private switchConfig(cfg: MemberConfig): void {
    const progress = reconcileProgress(cfg, this.trk.progress, this.raftLog.lastIndex(), this.trk.maxInflight);
    this.trk.setConfig(cfg, progress);
    const pr = progress.get(this.id);
    this.isLearner = pr?.isLearner ?? false;
    if (this.role !== 'leader') return;
    if (pr === undefined || pr.isLearner) {
      this.handOver();
      return;
    }
    if (this.maybeCommit()) this.bcastPending = true;
    else for (const id of this.trk.peers()) if (id !== this.id) this.maybeSendAppend(id, false);
    if (this.leadTransferee !== '' && !this.trk.isVoter(this.leadTransferee)) this.abortLeaderTransfer();
  }

  readIndex(context: string): void {
    if (this.role === 'leader') {
      this.leaderReadIndex(this.id, context);
    } else if (this.role === 'follower' && this.lead !== '') {
      this.send({ type: 'readIndex', to: this.lead, context });
    }
    // Otherwise dropped: with no leader there is nobody to confirm the read; the caller retries.
  }

  private leaderReadIndex(from: NodeId, context: string): void {
    if (this.trk.isSingleVoter(this.id)) {
      this.answerRead(from, context, this.raftLog.committed);
      return;
    }
    // Until an entry of this term commits, our commit index may lag what earlier leaders committed.
    if (this.raftLog.term(this.raftLog.committed) !== this.term) {
      this.pendingReads.push({ from, context });
      return;
    }
    this.readOnly.add(this.raftLog.committed, from, context, this.id);
    this.readHeartbeatPending = true;
  }

  private releasePendingReads(): void {
    const reads = this.pendingReads;
    this.pendingReads = [];
    for (const r of reads) this.leaderReadIndex(r.from, r.context);
  }

  private answerRead(from: NodeId, context: string, index: number): void {
    if (from === this.id || from === '') this.readStates.push({ index, context });
    else this.send({ type: 'readIndexResp', to: from, index, context });
  }

  transferLeader(to: NodeId): void {
    if (this.role !== 'leader') throw new NotLeaderError(this.lead);
    const pr = this.trk.progress.get(to);
    if (pr === undefined || pr.isLearner) return;
    if (this.leadTransferee !== '') {
      if (this.leadTransferee === to) return;
      this.abortLeaderTransfer();
    }
    if (to === this.id) return;
    // The transfer must finish within an election timeout or it is abandoned (thesis §3.10).
    this.electionElapsed = 0;
    this.leadTransferee = to;
    if (pr.match === this.raftLog.lastIndex()) this.sendTimeoutNow(to);
    else this.sendAppend(to);
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = '';
    // A leader that is no longer a voter only stays on to hand over; if that failed, it goes anyway.
    if (this.role === 'leader' && !this.selfVoter()) this.becomeFollower(this.term, '');
  }

  /**
   * Whether a membership change already in our log removes or demotes us. Such a leader takes no
   * more proposals: entries it appended after the change could end up only on members that can no
   * longer campaign, while the remaining voters lack them and so cannot win those members' votes.
   */
  private leaving(): boolean {
    const c = this.trk.config;
    if (c.outgoing.size > 0 && !c.incoming.has(this.id)) return true;
    return this.leavingPending && this.pendingConfIndex > this.raftLog.applied;
  }

  /** Whether one of the unapplied conf entries in our log drops us from the voters (scanned once per term). */
  private scanLeaving(): boolean {
    const lo = Math.max(this.raftLog.applied + 1, this.raftLog.firstIndex());
    for (const e of this.raftLog.slice(lo, this.raftLog.lastIndex() + 1, Number.MAX_SAFE_INTEGER)) {
      if (e.type !== 'conf') continue;
      try {
        if (!nextConfig(this.trk.config, decodeConfChange(e.data)).incoming.has(this.id)) return true;
      } catch (err) {
        if (!(err instanceof ConfChangeError)) throw err;
      }
    }
    return false;
  }

  private selfVoter(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner;
  }

  /**
   * A leader removed or demoted by the config it just applied (thesis §4.2.2). Stepping down at once
   * can wedge the cluster: the remaining voters may not know the change committed, and members that
   * can no longer campaign may hold longer logs and so refuse them their votes. Instead it takes no
   * more proposals, brings the most up-to-date remaining voter level with its own log and commit
   * index, sends it TimeoutNow, and then steps down (or gives up after an election timeout).
   */
  private handOver(): void {
    let best: NodeId | '' = '';
    let bestMatch = -1;
    for (const id of this.trk.voters()) {
      const p = this.trk.progress.get(id);
      if (id !== this.id && p !== undefined && p.match > bestMatch) {
        best = id;
        bestMatch = p.match;
      }
    }
    if (best === '') {
      this.becomeFollower(this.term, '');
      return;
    }
    this.leadTransferee = best;
    this.electionElapsed = 0;
    if (bestMatch === this.raftLog.lastIndex()) this.sendTimeoutNow(best);
    else this.sendAppend(best);
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send({ type: 'timeoutNow', to });
    if (!this.selfVoter()) this.becomeFollower(this.term, '');
  }

  reportUnreachable(id: NodeId): void {
    const pr = this.trk.progress.get(id);
    if (this.role !== 'leader' || pr === undefined) return;
    if (pr.state === 'replicate') pr.becomeProbe();
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    const pr = this.trk.progress.get(id);
    if (this.role !== 'leader' || pr === undefined || pr.state !== 'snapshot') return;
    if (!ok) pr.pendingSnapshot = 0;
    // Either way, wait for the follower's answer (or a heartbeat answer) before probing again.
    pr.becomeProbe();
    pr.probeSent = true;
  }
}
