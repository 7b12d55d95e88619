// In-memory LogStorage (etcd's MemoryStorage): the persisted log after the last snapshot, with a
// dummy entry at the snapshot's index holding its term. The application writes it while handling a
// Ready; the core reads it. Tests and the simulation use it as a node's "disk".
import {
  CompactedError,
  UnavailableError,
  type ConfState,
  type Entry,
  type HardState,
  type LogStorage,
  type Snapshot,
} from './types.js';
import { limitSize } from './core/util.js';

/** Thrown when a snapshot not newer than the one held is applied or created (by either storage). */
export class SnapshotOutOfDateError extends Error {
  constructor(index: number, have: number) {
    super(`raft storage: snapshot at ${index} is not newer than the one held at ${have}`);
    this.name = 'SnapshotOutOfDateError';
  }
}

const EMPTY = new Uint8Array(0);

/**
 * The reads MemoryStorage and DiskStorage share: both hold the log after the last snapshot in memory
 * (DiskStorage as its copy of what the WAL holds) and differ only in how they change and persist it.
 */
export abstract class InMemoryLog implements LogStorage {
  protected constructor(
    protected hardState: HardState,
    protected snap: Snapshot,
    /** ents[0] is the dummy entry at snap.meta.index, holding its term. */
    protected ents: Entry[],
  ) {}

  initialState(): { hardState: HardState; conf: ConfState } {
    return { hardState: { ...this.hardState }, conf: this.snap.meta.conf };
  }

  protected get offset(): number {
    return this.ents[0].index;
  }

  entries(lo: number, hi: number, maxBytes: number = Number.MAX_SAFE_INTEGER): Entry[] {
    const off = this.offset;
    if (lo <= off) throw new CompactedError(lo);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1);
    if (this.ents.length === 1) throw new UnavailableError(lo);
    return limitSize(this.ents.slice(lo - off, hi - off), maxBytes);
  }

  term(i: number): number {
    const off = this.offset;
    if (i < off) throw new CompactedError(i);
    if (i - off >= this.ents.length) throw new UnavailableError(i);
    return this.ents[i - off].term;
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.offset + this.ents.length - 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }
}

export class MemoryStorage extends InMemoryLog {
  /** `conf`: the voters of a brand-new cluster (empty for a node that will join one). */
  constructor(conf: ConfState = { voters: [], learners: [] }) {
    super({ term: 0, vote: '', commit: 0 }, { meta: { index: 0, term: 0, conf }, data: EMPTY }, [{ index: 0, term: 0, type: 'normal', data: EMPTY }]);
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  /** Replaces the whole log by a snapshot received from the leader. */
  applySnapshot(snap: Snapshot): void {
    if (snap.meta.index <= this.snap.meta.index) throw new SnapshotOutOfDateError(snap.meta.index, this.snap.meta.index);
    this.snap = snap;
    this.ents = [{ index: snap.meta.index, term: snap.meta.term, type: 'normal', data: EMPTY }];
  }

  /** Records a snapshot of the state machine at `index` (≤ lastIndex); compact separately. */
  createSnapshot(index: number, conf: ConfState | undefined, data: Uint8Array): Snapshot {
    if (index <= this.snap.meta.index) throw new SnapshotOutOfDateError(index, this.snap.meta.index);
    if (index > this.lastIndex()) throw new Error(`raft storage: snapshot ${index} is past the last index ${this.lastIndex()}`);
    this.snap = { meta: { index, term: this.ents[index - this.offset].term, conf: conf ?? this.snap.meta.conf }, data };
    return this.snap;
  }

  /** Drops entries before `index`; the entry at `index` becomes the dummy. */
  compact(index: number): void {
    const off = this.offset;
    if (index <= off) throw new CompactedError(index);
    if (index > this.lastIndex()) throw new Error(`raft storage: compact ${index} is past the last index ${this.lastIndex()}`);
    const i = index - off;
    const kept = this.ents.slice(i);
    kept[0] = { index: this.ents[i].index, term: this.ents[i].term, type: 'normal', data: EMPTY };
    this.ents = kept;
  }

  /** Appends entries, cutting off any suffix they replace. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0].index + entries.length - 1;
    if (last < first) return;
    let es = entries;
    if (first > es[0].index) es = es.slice(first - es[0].index);
    const at = es[0].index - this.offset;
    if (at > this.ents.length) {
      throw new Error(`raft storage: missing log entries [last ${this.lastIndex()}, append at ${es[0].index}]`);
    }
    this.ents.length = at;
    for (const e of es) this.ents.push(e);
  }
}
