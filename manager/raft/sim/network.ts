// A seeded, lossy network: per-message drop, delay, duplication and reordering, plus partitions.
// It carries anything addressed from one node to another (raft messages and client RPCs alike).
import type { NodeId } from '../types.js';
import type { Rng } from './rng.js';

export interface NetConfig {
  dropRate: number;
  dupRate: number;
  minDelay: number;
  maxDelay: number;
  /** Chance that a message is held back much longer (reordering across rounds). */
  longDelayRate: number;
  longDelay: number;
}

interface InFlight<T> {
  at: number;
  /** Random tiebreak: messages due at the same time are delivered in random order. */
  key: number;
  from: NodeId;
  to: NodeId;
  payload: T;
}

/** Binary min-heap on (at, key). */
class Heap<T> {
  private a: Array<InFlight<T>> = [];
  get size(): number {
    return this.a.length;
  }
  private less(i: number, j: number): boolean {
    const x = this.a[i];
    const y = this.a[j];
    return x.at < y.at || (x.at === y.at && x.key < y.key);
  }
  push(v: InFlight<T>): void {
    const a = this.a;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }
  peek(): InFlight<T> | undefined {
    return this.a[0];
  }
  pop(): InFlight<T> | undefined {
    const a = this.a;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop() as InFlight<T>;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(l, m)) m = l;
        if (r < a.length && this.less(r, m)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
  clear(): void {
    this.a = [];
  }
}

export class SimNetwork<T> {
  private readonly q = new Heap<T>();
  /** Node → partition group; nodes in different groups cannot talk. */
  private group = new Map<NodeId, number>();
  private readonly cutLinks = new Set<string>();
  sent = 0;
  dropped = 0;

  constructor(
    private readonly rng: Rng,
    public cfg: NetConfig,
  ) {}

  connected(from: NodeId, to: NodeId): boolean {
    const a = this.group.get(from);
    const b = this.group.get(to);
    // Endpoints outside every group (clients) reach both sides of a partition.
    if (a !== undefined && b !== undefined && a !== b) return false;
    return !this.cutLinks.has(`${from}>${to}`);
  }

  /** Returns false when the message was lost at once. */
  send(now: number, from: NodeId, to: NodeId, payload: T): boolean {
    this.sent++;
    if (!this.connected(from, to) || this.rng.chance(this.cfg.dropRate)) {
      this.dropped++;
      return false;
    }
    this.enqueue(now, from, to, payload);
    if (this.rng.chance(this.cfg.dupRate)) this.enqueue(now, from, to, payload);
    return true;
  }

  private enqueue(now: number, from: NodeId, to: NodeId, payload: T): void {
    const { minDelay, maxDelay, longDelayRate, longDelay } = this.cfg;
    let delay = minDelay + this.rng.intn(maxDelay - minDelay + 1);
    if (this.rng.chance(longDelayRate)) delay += this.rng.intn(longDelay + 1);
    this.q.push({ at: now + delay, key: this.rng.float(), from, to, payload });
  }

  /** Messages due by `now`, in random order among equal times; those crossing a partition are lost. */
  due(now: number): Array<{ from: NodeId; to: NodeId; payload: T }> {
    const out: Array<{ from: NodeId; to: NodeId; payload: T }> = [];
    for (let top = this.q.peek(); top !== undefined && top.at <= now; top = this.q.peek()) {
      this.q.pop();
      if (this.connected(top.from, top.to)) out.push(top);
      else this.dropped++;
    }
    return out;
  }

  partition(groups: NodeId[][]): void {
    this.group = new Map();
    groups.forEach((g, i) => g.forEach((id) => this.group.set(id, i)));
  }

  cut(from: NodeId, to: NodeId): void {
    this.cutLinks.add(`${from}>${to}`);
  }

  heal(): void {
    this.group = new Map();
    this.cutLinks.clear();
  }

  get inFlight(): number {
    return this.q.size;
  }
}
