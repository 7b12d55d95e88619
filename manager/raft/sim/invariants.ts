// Raft's safety properties (Figure 3), checked as the simulation runs: election safety, log
// matching, leader completeness and state-machine safety. Each throws InvariantError on violation.
import type { Entry, NodeId } from '../types.js';
import type { Raft } from '../core/raft.js';

export class InvariantError extends Error {
  constructor(msg: string) {
    super(`invariant violated: ${msg}`);
    this.name = 'InvariantError';
  }
}

function entryDigest(e: Entry): string {
  return `${e.type}:${Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength).toString('latin1')}`;
}

export class Invariants {
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** (index, term) → content and the term of the entry before it, as first persisted anywhere. */
  private readonly logEntries = new Map<string, { digest: string; prevTerm: number }>();
  /** Per leader term: the highest index that leader committed and the term of the entry there. */
  private readonly commitsByTerm = new Map<number, { index: number; entryTerm: number }>();
  private maxCommitted = 0;
  /** Applied index → hash chain of the state machine after applying it. */
  private readonly appliedChain = new Map<number, number>();
  private readonly appliedEntry = new Map<number, string>();

  /** Election safety: at most one leader per term. Leader completeness is checked on each new leader. */
  observeLeader(id: NodeId, r: Raft): void {
    const known = this.leaderOfTerm.get(r.term);
    if (known === undefined) {
      this.leaderOfTerm.set(r.term, id);
      this.checkCompleteness(id, r);
    } else if (known !== id) {
      throw new InvariantError(`election safety: term ${r.term} has leaders ${known} and ${id}`);
    }
  }

  /**
   * A commit index made durable by `id` in `term` (so committed in `term` or earlier). Commit
   * indexes only in memory do not count: nothing depends on them until they are persisted.
   */
  observeCommit(id: NodeId, term: number, commit: number, entryTerm: number | undefined): void {
    if (commit <= this.maxCommitted) return;
    if (entryTerm === undefined) throw new InvariantError(`${id} committed ${commit} but has no term for it`);
    this.maxCommitted = commit;
    const prev = this.commitsByTerm.get(term);
    if (prev === undefined || prev.index < commit) this.commitsByTerm.set(term, { index: commit, entryTerm });
  }

  /** Leader completeness: a leader of term L holds every entry committed in terms before L. */
  private checkCompleteness(id: NodeId, r: Raft): void {
    for (const [term, { index, entryTerm }] of this.commitsByTerm) {
      if (term >= r.term) continue;
      const have = r.raftLog.term(index);
      if (have === undefined && index < r.raftLog.firstIndex()) continue; // inside its snapshot
      if (have !== entryTerm) {
        throw new InvariantError(
          `leader completeness: ${id} leads term ${r.term} without entry ${index} (term ${entryTerm}) committed in term ${term}; it has ${have}`,
        );
      }
    }
  }

  /**
   * Log matching: entries with the same index and term hold the same command and follow an entry of
   * the same term, so by induction the logs agree on the whole prefix.
   */
  observePersisted(id: NodeId, ents: readonly Entry[], termAt: (i: number) => number): void {
    for (const e of ents) {
      const key = `${e.index}:${e.term}`;
      const digest = entryDigest(e);
      const prevTerm = termAt(e.index - 1);
      const seen = this.logEntries.get(key);
      if (seen === undefined) this.logEntries.set(key, { digest, prevTerm });
      else if (seen.digest !== digest || seen.prevTerm !== prevTerm) {
        throw new InvariantError(
          `log matching: ${id} persisted entry ${key} (prev term ${prevTerm}) differing from another copy (prev term ${seen.prevTerm})`,
        );
      }
    }
  }

  /** State-machine safety: every replica applies the same entry, reaching the same state, at each index. */
  observeApplied(id: NodeId, e: Entry | undefined, index: number, chain: number): void {
    if (e !== undefined) {
      const d = `${e.term}/${entryDigest(e)}`;
      const seen = this.appliedEntry.get(index);
      if (seen === undefined) this.appliedEntry.set(index, d);
      else if (seen !== d) throw new InvariantError(`state-machine safety: ${id} applied a different entry at ${index}`);
    }
    const c = this.appliedChain.get(index);
    if (c === undefined) this.appliedChain.set(index, chain);
    else if (c !== chain) throw new InvariantError(`state-machine safety: ${id} diverged at index ${index}`);
  }

  private readonly appliedConf = new Map<number, string>();

  /** Every replica reaches the same membership at each conf entry. */
  observeConf(id: NodeId, index: number, conf: unknown): void {
    const c = JSON.stringify(conf);
    const seen = this.appliedConf.get(index);
    if (seen === undefined) this.appliedConf.set(index, c);
    else if (seen !== c) throw new InvariantError(`config divergence: ${id} has ${c} after entry ${index}, another replica ${seen}`);
  }

  get leaders(): number {
    return this.leaderOfTerm.size;
  }

  get committed(): number {
    return this.maxCommitted;
  }
}
