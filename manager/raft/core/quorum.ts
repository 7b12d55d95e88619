// Quorum arithmetic for a majority config and for a joint (C_old,new) config.
import type { NodeId } from '../types.js';

export type VoteResult = 'pending' | 'lost' | 'won';

/** An empty config places no constraint, so that a joint config with no outgoing half behaves as its incoming half. */
const UNBOUNDED = Number.MAX_SAFE_INTEGER;

/** The highest index acknowledged by a majority of `ids`. */
export function majorityCommitted(ids: ReadonlySet<NodeId>, match: (id: NodeId) => number): number {
  if (ids.size === 0) return UNBOUNDED;
  const acked: number[] = [];
  for (const id of ids) acked.push(match(id));
  acked.sort((a, b) => b - a);
  return acked[Math.floor(ids.size / 2)];
}

/** `votes` holds true (granted) / false (rejected); absent ids have not answered. */
export function majorityVote(ids: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (ids.size === 0) return 'won';
  let granted = 0;
  let missing = 0;
  for (const id of ids) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const q = Math.floor(ids.size / 2) + 1;
  if (granted >= q) return 'won';
  if (granted + missing >= q) return 'pending';
  return 'lost';
}

export interface JointVoters {
  incoming: ReadonlySet<NodeId>;
  outgoing: ReadonlySet<NodeId>;
}

/** In C_old,new both halves must agree (Raft §6). */
export function jointCommitted(v: JointVoters, match: (id: NodeId) => number): number {
  return Math.min(majorityCommitted(v.incoming, match), majorityCommitted(v.outgoing, match));
}

export function jointVote(v: JointVoters, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const a = majorityVote(v.incoming, votes);
  const b = majorityVote(v.outgoing, votes);
  if (a === b) return a;
  if (a === 'lost' || b === 'lost') return 'lost';
  return 'pending';
}
