// The application's handle on the core: requests and messages go in, Ready batches come out.
// Contract (types.ts): for each Ready, persist → send → apply → advance; one Ready at a time.
import type {
  ConfChange,
  ConfState,
  Entry,
  HardState,
  LogStorage,
  Message,
  NodeId,
  Ready,
  Role,
  SoftState,
} from '../types.js';
import { Raft, type RaftConfig } from './raft.js';
import { encodeConfChange } from './util.js';

export type { RaftConfig } from './raft.js';
export { NotLeaderError, ConfChangeRejectedError } from './errors.js';

export interface Status {
  id: NodeId;
  term: number;
  lead: NodeId | '';
  role: Role;
  commit: number;
  applied: number;
  conf: ConfState;
}

/**
 * A founding member of a brand-new cluster (empty log, no hard state, voters in the storage's
 * ConfState) writes its founding config into the log as committed term-1 conf entries, as etcd's
 * StartNode does. Every founder writes the same entries, and a node that joins later replays them
 * from index 1 and so rebuilds exactly the configs everyone else had (the founding config otherwise
 * lives only in the founders' storage). They reach the application in the first Ready like any
 * committed conf entry; applying them again is a no-op.
 */
function bootstrap(r: Raft, storage: LogStorage): void {
  const { hardState, conf } = storage.initialState();
  const fresh = storage.lastIndex() === 0 && hardState.term === 0 && hardState.vote === '' && hardState.commit === 0;
  if (!fresh || conf.voters.length === 0 || conf.votersOutgoing !== undefined) return;
  const changes: ConfChange[] = [
    ...[...conf.voters].sort().map((node): ConfChange => ({ type: 'addVoter', node })),
    ...[...conf.learners].sort().map((node): ConfChange => ({ type: 'addLearner', node })),
  ];
  const ents: Entry[] = changes.map((cc, i) => ({ term: 1, index: i + 1, type: 'conf', data: encodeConfChange(cc) }));
  r.becomeFollower(1, '');
  r.raftLog.append(ents);
  r.raftLog.committed = ents.length;
}

function sameHard(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export class RawNode {
  /** The state machine itself, exposed for tests and the simulation's invariant checks. */
  readonly raft: Raft;
  private prevSoft: SoftState;
  private prevHard: HardState;
  private outstanding: Ready | undefined;

  constructor(config: RaftConfig, storage: LogStorage) {
    this.raft = new Raft(config, storage);
    this.prevSoft = this.raft.softState();
    this.prevHard = this.raft.hardState();
    bootstrap(this.raft, storage);
  }

  tick(): void {
    this.raft.tick();
  }

  step(m: Message): void {
    if (m.to !== this.raft.id) return;
    this.raft.step(m);
  }

  /** Throws NotLeaderError unless this node is the leader and not handing leadership over. */
  propose(data: Uint8Array): void {
    this.raft.propose([data]);
  }

  /** Several proposals in one go (one broadcast); same errors as propose. */
  proposeBatch(datas: readonly Uint8Array[]): void {
    this.raft.propose(datas);
  }

  /** Throws NotLeaderError, or ConfChangeRejectedError if a change is pending or this one is invalid. */
  proposeConfChange(cc: ConfChange): void {
    this.raft.proposeConfChange(cc);
  }

  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  readIndex(context: string): void {
    this.raft.readIndex(context);
  }

  transferLeader(to: NodeId): void {
    this.raft.transferLeader(to);
  }

  campaign(): void {
    this.raft.hup(false);
  }

  reportUnreachable(id: NodeId): void {
    this.raft.reportUnreachable(id);
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    this.raft.reportSnapshot(id, ok);
  }

  /** False while a Ready is outstanding (handed out, not yet advanced). */
  hasReady(): boolean {
    if (this.outstanding !== undefined) return false;
    const r = this.raft;
    r.flush();
    const soft = r.softState();
    if (soft.lead !== this.prevSoft.lead || soft.role !== this.prevSoft.role) return true;
    if (!sameHard(r.hardState(), this.prevHard)) return true;
    const u = r.raftLog.unstable;
    if (u.snapshot !== undefined || u.entries.length > 0) return true;
    if (r.msgs.length > 0 || r.readStates.length > 0) return true;
    return r.raftLog.hasNextCommittedEnts();
  }

  ready(): Ready {
    if (this.outstanding !== undefined) throw new Error('raft: ready() called again before advance()');
    const r = this.raft;
    r.flush();
    const u = r.raftLog.unstable;
    const rd: Ready = {
      entries: u.entries.slice(),
      messages: r.msgs,
      committedEntries: r.raftLog.nextCommittedEnts(),
      readStates: r.readStates,
    };
    const soft = r.softState();
    if (soft.lead !== this.prevSoft.lead || soft.role !== this.prevSoft.role) rd.softState = soft;
    const hard = r.hardState();
    if (!sameHard(hard, this.prevHard)) rd.hardState = hard;
    if (u.snapshot !== undefined) rd.snapshot = u.snapshot;
    r.msgs = [];
    r.readStates = [];
    this.outstanding = rd;
    return rd;
  }

  advance(rd: Ready): void {
    if (rd !== this.outstanding) throw new Error('raft: advance() with a Ready that is not the outstanding one');
    this.outstanding = undefined;
    const r = this.raft;
    if (rd.softState !== undefined) this.prevSoft = rd.softState;
    if (rd.hardState !== undefined) this.prevHard = rd.hardState;
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1];
      r.raftLog.unstable.stableTo(last.index, last.term);
    }
    if (rd.snapshot !== undefined) {
      r.raftLog.unstable.stableSnapTo(rd.snapshot.meta.index);
      // The application installed the snapshot's state machine.
      if (rd.snapshot.meta.index > r.raftLog.applied) r.raftLog.applied = rd.snapshot.meta.index;
    }
    if (rd.committedEntries.length > 0) {
      r.raftLog.appliedTo(rd.committedEntries[rd.committedEntries.length - 1].index);
    }
    r.afterApplied();
  }

  status(): Status {
    const r = this.raft;
    return {
      id: r.id,
      term: r.term,
      lead: r.lead,
      role: r.role,
      commit: r.raftLog.committed,
      applied: r.raftLog.applied,
      conf: r.confState(),
    };
  }
}
