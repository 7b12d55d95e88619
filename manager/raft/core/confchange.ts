// Membership changes as pure functions from one config to the next: one at a time (a single voter
// added or removed), or entering / leaving joint consensus (Raft §6, etcd's confchange).
import type { ConfChange, ConfChangeSingle, ConfState, NodeId } from '../types.js';
import { Progress } from './progress.js';
import { cloneConfig, configFromConfState, membersOf, type MemberConfig } from './tracker.js';

export class ConfChangeError extends Error {
  constructor(msg: string) {
    super(`raft conf change: ${msg}`);
    this.name = 'ConfChangeError';
  }
}

function applyOne(c: MemberConfig, ch: ConfChangeSingle): void {
  const id = ch.node;
  if (id === '') throw new ConfChangeError('empty node id');
  switch (ch.type) {
    case 'addVoter':
      c.incoming.add(id);
      c.learners.delete(id);
      c.learnersNext.delete(id);
      return;
    case 'addLearner':
      if (c.learners.has(id)) return;
      c.incoming.delete(id);
      c.learnersNext.delete(id);
      // A voter of C_old keeps voting there until the joint config is left.
      if (c.outgoing.has(id)) c.learnersNext.add(id);
      else c.learners.add(id);
      return;
    case 'removeVoter':
      c.incoming.delete(id);
      c.learners.delete(id);
      c.learnersNext.delete(id);
      return;
  }
}

function symmetricDiff(a: Set<NodeId>, b: Set<NodeId>): number {
  let n = 0;
  for (const x of a) if (!b.has(x)) n++;
  for (const x of b) if (!a.has(x)) n++;
  return n;
}

function checkInvariants(c: MemberConfig): void {
  if (c.incoming.size === 0) throw new ConfChangeError('removed all voters');
  for (const id of c.learners) {
    if (c.incoming.has(id) || c.outgoing.has(id)) throw new ConfChangeError(`${id} is both learner and voter`);
  }
  for (const id of c.learnersNext) {
    if (!c.outgoing.has(id)) throw new ConfChangeError(`${id} is in learnersNext but not an outgoing voter`);
  }
  if (c.outgoing.size === 0 && (c.learnersNext.size > 0 || c.autoLeave)) {
    throw new ConfChangeError('joint-only state outside a joint config');
  }
}

/** The config after `cc`, or a ConfChangeError if the change is not allowed from `current`. */
export function nextConfig(current: MemberConfig, cc: ConfChange): MemberConfig {
  const joint = current.outgoing.size > 0;
  const c = cloneConfig(current);
  if (cc.leaveJoint) {
    if (!joint) throw new ConfChangeError('not in a joint config');
    for (const id of c.learnersNext) c.learners.add(id);
    c.learnersNext.clear();
    c.outgoing.clear();
    c.autoLeave = false;
  } else if (cc.joint !== undefined) {
    if (joint) throw new ConfChangeError('already in a joint config');
    if (c.incoming.size === 0) throw new ConfChangeError('cannot make a zero-voter config joint');
    c.outgoing = new Set(c.incoming);
    applyOne(c, cc);
    for (const ch of cc.joint) applyOne(c, ch);
    c.autoLeave = true;
  } else {
    if (joint) throw new ConfChangeError('a one-at-a-time change in a joint config');
    applyOne(c, cc);
    if (symmetricDiff(current.incoming, c.incoming) > 1) {
      throw new ConfChangeError('more than one voter changed without joint consensus');
    }
  }
  checkInvariants(c);
  return c;
}

/** Progress for exactly the members of `c`: kept where they exist, fresh for newcomers. */
export function reconcileProgress(
  c: MemberConfig,
  old: ReadonlyMap<NodeId, Progress>,
  lastIndex: number,
  maxInflight: number,
): Map<NodeId, Progress> {
  const out = new Map<NodeId, Progress>();
  for (const id of membersOf(c)) {
    const isLearner = c.learners.has(id);
    const pr = old.get(id) ?? new Progress(lastIndex + 1, maxInflight, isLearner);
    pr.isLearner = isLearner;
    out.set(id, pr);
  }
  return out;
}

export function configFromState(cs: ConfState): MemberConfig {
  const c = configFromConfState(cs);
  if (c.incoming.size === 0 && c.outgoing.size === 0 && c.learners.size === 0) return c; // a joiner that knows nothing yet
  checkInvariants(c);
  return c;
}
