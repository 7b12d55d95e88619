// What the node driver needs from an application: deterministic apply, snapshot and restore.
import type { Entry } from '../types.js';

export interface StateMachine<R = unknown> {
  /** Applies one committed normal entry (never the empty no-op); the result goes to the proposer. */
  apply(data: Uint8Array, entry: Entry): R;
  /** Serialised state as of the last applied entry. */
  snapshot(): Uint8Array;
  /** Replaces the whole state with a snapshot's data. */
  restore(data: Uint8Array): void;
}
