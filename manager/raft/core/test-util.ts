// Helpers for the core's unit tests: a raft over MemoryStorage and a synchronous network of them.
import { MemoryStorage } from '../memory-storage.js';
import type { Entry, Message, MessageType, NodeId } from '../types.js';
import { Rng } from '../sim/rng.js';
import { Raft, type RaftConfig } from './raft.js';
import { decodeConfChange } from './util.js';

export function storageWith(voters: NodeId[], learners: NodeId[] = []): MemoryStorage {
  return new MemoryStorage({ voters, learners });
}

export function newRaft(
  id: NodeId,
  election: number,
  heartbeat: number,
  storage: MemoryStorage,
  opts: Partial<RaftConfig> = {},
): Raft {
  return new Raft(
    { id, electionTick: election, heartbeatTick: heartbeat, rand: new Rng(7), preVote: false, checkQuorum: false, ...opts },
    storage,
  );
}

export function ents(...terms: number[]): Entry[] {
  return terms.map((term, i) => ({ term, index: i + 1, type: 'normal', data: new Uint8Array(0) }));
}

export function entry(index: number, term: number, text = ''): Entry {
  return { index, term, type: 'normal', data: new TextEncoder().encode(text) };
}

/** Ticks until the randomised election timeout fires (at most 2*electionTimeout). */
export function tickUntilElection(r: Raft): void {
  for (let i = 0; i < 2 * r.electionTimeout; i++) r.tick();
}

export function msgsOfType(ms: Message[], t: MessageType): Message[] {
  return ms.filter((m) => m.type === t);
}

/** Moves everything persisted-pending into storage, as an application handling a Ready would. */
export function persist(r: Raft, s: MemoryStorage): void {
  const u = r.raftLog.unstable;
  if (u.snapshot) {
    s.applySnapshot(u.snapshot);
    u.stableSnapTo(u.snapshot.meta.index);
  }
  if (u.entries.length > 0) {
    const last = u.entries[u.entries.length - 1];
    s.append(u.entries);
    u.stableTo(last.index, last.term);
  }
  s.setHardState(r.hardState());
}

/** Synchronous network of rafts for scenario tests (etcd's `network`). */
export class Net {
  readonly peers = new Map<NodeId, Raft>();
  readonly storages = new Map<NodeId, MemoryStorage>();
  private dropped = new Set<string>();
  private ignored = new Set<MessageType>();

  constructor(ids: NodeId[], opts: Partial<RaftConfig> = {}, logs?: Map<NodeId, Entry[]>) {
    for (const id of ids) {
      const s = storageWith(ids);
      const es = logs?.get(id);
      if (es) s.append(es);
      if (es && es.length > 0) s.setHardState({ term: es[es.length - 1].term, vote: '', commit: 0 });
      this.storages.set(id, s);
      this.peers.set(id, newRaft(id, 10, 1, s, opts));
    }
  }

  get(id: NodeId): Raft {
    const r = this.peers.get(id);
    if (!r) throw new Error(`no peer ${id}`);
    return r;
  }

  cut(a: NodeId, b: NodeId): void {
    this.dropped.add(`${a}>${b}`);
    this.dropped.add(`${b}>${a}`);
  }

  isolate(id: NodeId): void {
    for (const other of this.peers.keys()) if (other !== id) this.cut(id, other);
  }

  ignore(t: MessageType): void {
    this.ignored.add(t);
  }

  recover(): void {
    this.dropped.clear();
    this.ignored.clear();
  }

  /** Delivers until quiet; `msgs` are injected first. */
  send(...msgs: Message[]): void {
    let queue = msgs.slice();
    for (const r of this.peers.values()) queue.push(...r.readMessages());
    for (let rounds = 0; queue.length > 0; rounds++) {
      if (rounds > 10000) throw new Error('network did not settle');
      const next: Message[] = [];
      for (const m of queue) {
        if (this.dropped.has(`${m.from}>${m.to}`) || this.ignored.has(m.type)) continue;
        const r = this.peers.get(m.to);
        if (!r) continue;
        r.step(m);
        next.push(...r.readMessages());
      }
      queue = next;
    }
  }

  elect(id: NodeId): void {
    this.get(id).hup(false);
    this.send();
  }

  propose(id: NodeId, text: string): void {
    this.get(id).propose([new TextEncoder().encode(text)]);
    this.send();
  }
}

/** Applies every committed entry (conf changes included), as the application would, then advances. */
export function applyCommitted(r: Raft): void {
  for (;;) {
    const es = r.raftLog.nextCommittedEnts();
    if (es.length === 0) break;
    for (const e of es) {
      if (e.type === 'conf') r.applyConfChange(decodeConfChange(e.data));
      r.raftLog.appliedTo(e.index);
    }
  }
  r.afterApplied();
}
