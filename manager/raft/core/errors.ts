// Errors the core throws back at its caller for requests it cannot take.
import type { NodeId } from '../types.js';

/** A proposal, read or transfer was made on a node that is not the leader, or is handing leadership over. */
export class NotLeaderError extends Error {
  constructor(readonly leader: NodeId | '') {
    super(leader === '' ? 'raft: not the leader (no known leader)' : `raft: not the leader (leader is ${leader})`);
    this.name = 'NotLeaderError';
  }
}

/** A membership change was proposed while another is still unapplied, or it is invalid. */
export class ConfChangeRejectedError extends Error {
  constructor(reason: string) {
    super(`raft: conf change rejected: ${reason}`);
    this.name = 'ConfChangeRejectedError';
  }
}
