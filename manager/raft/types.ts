// The shared vocabulary of the Raft core, its storage and its transport.
// The core is pure: it consumes messages and ticks and produces Ready batches; storage and transport
// only ever see these plain objects. Node IDs are strings (the swarm node ID later).

export type NodeId = string;

/** 'normal': opaque application command; 'conf': a membership change, data is a JSON-encoded ConfChange. */
export type EntryType = 'normal' | 'conf';

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  /** Application payload. Empty for the leader's no-op on election. */
  data: Uint8Array;
}

/** What must be durable before any message that depends on it is sent (Raft §5, Figure 2). */
export interface HardState {
  term: number;
  vote: NodeId | '';
  commit: number;
}

export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
  /** Set while a joint-consensus change is in progress (C_old of C_old,new). */
  votersOutgoing?: NodeId[];
  /** Joint consensus only: voters being demoted, who become learners when the joint config is left. */
  learnersNext?: NodeId[];
  /** Joint consensus only: the leader proposes leaving the joint config by itself once it is applied. */
  autoLeave?: boolean;
}

export type ConfChangeType = 'addVoter' | 'removeVoter' | 'addLearner';

export interface ConfChange {
  type: ConfChangeType;
  node: NodeId;
  /** Opaque context for the application (e.g. the new member's address). */
  context?: string;
  /**
   * Joint consensus: when present (even empty), this change and the ones listed are made together
   * through C_old,new, which the leader leaves on its own once applied. Absent: a one-at-a-time change.
   */
  joint?: ConfChangeSingle[];
  /**
   * Set only on the entry the leader proposes to leave a joint configuration; type and node are then
   * meaningless ('removeVoter', ''). Applying it turns C_old,new into C_new.
   */
  leaveJoint?: boolean;
}

/** One member change inside a joint-consensus ConfChange. */
export interface ConfChangeSingle {
  type: ConfChangeType;
  node: NodeId;
  context?: string;
}

export interface SnapshotMeta {
  index: number;
  term: number;
  conf: ConfState;
}

export interface Snapshot {
  meta: SnapshotMeta;
  /** Serialised state machine at meta.index. */
  data: Uint8Array;
}

export type MessageType =
  | 'app' // AppendEntries
  | 'appResp'
  | 'vote'
  | 'voteResp'
  | 'preVote'
  | 'preVoteResp'
  | 'heartbeat'
  | 'heartbeatResp'
  | 'snap' // InstallSnapshot
  | 'timeoutNow' // leadership transfer
  | 'readIndex' // follower forwards a ReadIndex request to the leader
  | 'readIndexResp';

export interface Message {
  type: MessageType;
  from: NodeId;
  to: NodeId;
  term: number;
  /** app: index of the entry before `entries`; appResp: the follower's last matched/conflict index. */
  index?: number;
  /** app: term of the entry at `index`. */
  logTerm?: number;
  entries?: Entry[];
  commit?: number;
  /** appResp/voteResp/preVoteResp: true when refused. */
  reject?: boolean;
  /** appResp on reject: the follower's hint for fast back-off (last index worth trying). */
  rejectHint?: number;
  /** appResp on reject: the term at rejectHint, for term-skipping back-off. */
  rejectHintTerm?: number;
  snapshot?: Snapshot;
  /** heartbeat/readIndex: opaque request context echoed back (ReadIndex). */
  context?: string;
}

/** A linearisable read that is safe to serve once the local state machine has applied `index`. */
export interface ReadState {
  index: number;
  context: string;
}

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

export interface SoftState {
  lead: NodeId | '';
  role: Role;
}

/**
 * One batch of work handed out by the core. The caller must, in this order:
 * 1. persist hardState (if set), entries (appending, truncating any conflicting suffix) and snapshot (if set), fsynced;
 * 2. send messages;
 * 3. apply committedEntries to the state machine, in order;
 * 4. call advance(ready).
 * A leader may send messages before persisting its own entries (Raft §10.2.1), but this core keeps the
 * simple rule above so that storage and transport never need to reason about it.
 */
export interface Ready {
  softState?: SoftState;
  hardState?: HardState;
  entries: Entry[];
  snapshot?: Snapshot;
  messages: Message[];
  committedEntries: Entry[];
  readStates: ReadState[];
}

/** Durable log storage as seen by the core: what has been persisted so far. */
export interface LogStorage {
  initialState(): { hardState: HardState; conf: ConfState };
  /** Entries in [lo, hi), limited to maxBytes (at least one entry is always returned when lo < hi). */
  entries(lo: number, hi: number, maxBytes?: number): Entry[];
  term(index: number): number;
  firstIndex(): number;
  lastIndex(): number;
  snapshot(): Snapshot;
}

/** Thrown by LogStorage when an index is behind the last snapshot. */
export class CompactedError extends Error {
  constructor(index: number) {
    super(`raft log: index ${index} is compacted`);
    this.name = 'CompactedError';
  }
}

/** Thrown by LogStorage when an index is past the last persisted entry. */
export class UnavailableError extends Error {
  constructor(index: number) {
    super(`raft log: index ${index} is not available`);
    this.name = 'UnavailableError';
  }
}

/** Moves messages between nodes. Implementations: in-memory (tests) and network (TLS later). */
export interface Transport {
  send(messages: Message[]): void;
  /** Registers the receiver for messages addressed to this node. */
  onMessage(handler: (m: Message) => void): void;
  addPeer(id: NodeId, address: string): void;
  removePeer(id: NodeId): void;
  close(): Promise<void>;
}

/** A seeded source of randomness passed into the core (no hidden Math.random). */
export interface Rand {
  /** Integer in [0, n). */
  intn(n: number): number;
}
