// Membership (possibly joint) plus the leader's per-member progress and the current election's votes.
import type { ConfState, NodeId } from '../types.js';
import { Progress } from './progress.js';
import { jointCommitted, jointVote, type VoteResult } from './quorum.js';

export interface MemberConfig {
  incoming: Set<NodeId>;
  /** Non-empty only in a joint config. */
  outgoing: Set<NodeId>;
  learners: Set<NodeId>;
  /** Voters of `outgoing` demoted to learners, who join `learners` when the joint config is left. */
  learnersNext: Set<NodeId>;
  autoLeave: boolean;
}

export function emptyConfig(): MemberConfig {
  return { incoming: new Set(), outgoing: new Set(), learners: new Set(), learnersNext: new Set(), autoLeave: false };
}

export function cloneConfig(c: MemberConfig): MemberConfig {
  return {
    incoming: new Set(c.incoming),
    outgoing: new Set(c.outgoing),
    learners: new Set(c.learners),
    learnersNext: new Set(c.learnersNext),
    autoLeave: c.autoLeave,
  };
}

export function configFromConfState(cs: ConfState): MemberConfig {
  return {
    incoming: new Set(cs.voters),
    outgoing: new Set(cs.votersOutgoing ?? []),
    learners: new Set(cs.learners),
    learnersNext: new Set(cs.learnersNext ?? []),
    autoLeave: cs.autoLeave ?? false,
  };
}

const sorted = (s: Set<NodeId>): NodeId[] => [...s].sort();

export function confStateOf(c: MemberConfig): ConfState {
  const cs: ConfState = { voters: sorted(c.incoming), learners: sorted(c.learners) };
  if (c.outgoing.size > 0) {
    cs.votersOutgoing = sorted(c.outgoing);
    if (c.learnersNext.size > 0) cs.learnersNext = sorted(c.learnersNext);
    if (c.autoLeave) cs.autoLeave = true;
  }
  return cs;
}

/** Every id the config mentions, in a stable order. */
export function membersOf(c: MemberConfig): NodeId[] {
  return [...new Set([...c.incoming, ...c.outgoing, ...c.learners, ...c.learnersNext])].sort();
}

export class ProgressTracker {
  config: MemberConfig = emptyConfig();
  progress = new Map<NodeId, Progress>();
  votes = new Map<NodeId, boolean>();
  /** Sorted voter ids of both halves, cached because elections and broadcasts iterate them. */
  private voterList: NodeId[] = [];
  private peerList: NodeId[] = [];

  constructor(readonly maxInflight: number) {}

  setConfig(config: MemberConfig, progress: Map<NodeId, Progress>): void {
    this.config = config;
    this.progress = progress;
    this.voterList = [...new Set([...config.incoming, ...config.outgoing])].sort();
    this.peerList = [...progress.keys()].sort();
  }

  isJoint(): boolean {
    return this.config.outgoing.size > 0;
  }

  isVoter(id: NodeId): boolean {
    return this.config.incoming.has(id) || this.config.outgoing.has(id);
  }

  voters(): readonly NodeId[] {
    return this.voterList;
  }

  /** Everyone with a progress (voters and learners), sorted. */
  peers(): readonly NodeId[] {
    return this.peerList;
  }

  /** True when this config has exactly one voter, `id`. */
  isSingleVoter(id: NodeId): boolean {
    return this.voterList.length === 1 && this.voterList[0] === id;
  }

  confState(): ConfState {
    return confStateOf(this.config);
  }

  committed(): number {
    return jointCommitted(this.config, (id) => this.progress.get(id)?.match ?? 0);
  }

  /** Whether the voters heard from recently (plus `self`) form a quorum (check-quorum). */
  quorumActive(self: NodeId): boolean {
    const active = new Map<NodeId, boolean>();
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      active.set(id, id === self || pr.recentActive);
    }
    return jointVote(this.config, active) === 'won';
  }

  resetVotes(): void {
    this.votes = new Map();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tally(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voterList) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    return { granted, rejected, result: jointVote(this.config, this.votes) };
  }

  /** Result of a quorum over an arbitrary set of acknowledging voters (ReadIndex). */
  quorumOf(acks: ReadonlySet<NodeId>): VoteResult {
    const votes = new Map<NodeId, boolean>();
    for (const id of acks) votes.set(id, true);
    return jointVote(this.config, votes);
  }
}
