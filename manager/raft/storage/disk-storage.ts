// LogStorage backed by the WAL and snapshot files. Reads are served from an in-memory copy of the
// log (etcd-style: ents[0] is a dummy entry at the snapshot's index/term) through InMemoryLog, as in
// MemoryStorage. Mutators have the same names and semantics as MemoryStorage's but only stage durable
// work; sync() then makes it durable: snapshot files first, then one WAL write + fdatasync, then
// release of segments behind the snapshot.
import path from 'node:path';
import type { ConfState, Entry, HardState, Snapshot, SnapshotMeta } from '../types.js';
import { CompactedError } from '../types.js';
import { InMemoryLog, SnapshotOutOfDateError } from '../memory-storage.js';
import { Wal, type WalOptions } from '../wal/wal.js';
import { CorruptSnapshotError, Snapshotter } from './snapshotter.js';

// One error class for both storages, so callers catch one type whichever storage they hold.
export { SnapshotOutOfDateError };

export interface DiskStorageOptions extends WalOptions {
  /** Snapshot files kept on disk (the newest ones). */
  keepSnapshots?: number;
}

const EMPTY_HS: HardState = { term: 0, vote: '', commit: 0 };

export class DiskStorage extends InMemoryLog {
  private pendingSnapshots: Snapshot[] = [];
  private releaseIndex = 0;
  private releasedTo = 0;
  private durableSnapIndex: number;
  private syncing: Promise<void> | undefined;

  private constructor(
    readonly dir: string,
    private readonly wal: Wal,
    private readonly snapshotter: Snapshotter,
    hs: HardState,
    snap: Snapshot,
    ents: Entry[],
    private readonly opts: DiskStorageOptions,
  ) {
    super(hs, snap, ents);
    this.durableSnapIndex = snap.meta.index;
  }

  /** Opens the storage in `dir` (wal/ and snap/ inside), recovering whatever was made durable. */
  static async open(dir: string, opts: DiskStorageOptions = {}): Promise<DiskStorage> {
    const { wal, recovered } = await Wal.open(path.join(dir, 'wal'), opts);
    const snapshotter = new Snapshotter(path.join(dir, 'snap'));
    let snap: Snapshot = { meta: { index: 0, term: 0, conf: { voters: [], learners: [] } }, data: new Uint8Array(0) };
    // Newest marker whose file is intact wins; a broken newer file falls back to an older one only
    // if the WAL still holds the entries in between (checked below).
    for (let i = recovered.markers.length - 1; i >= 0; i--) {
      const m = recovered.markers[i]!;
      if (!snapshotter.exists(m.meta)) continue;
      try {
        snap = await snapshotter.load(m.meta);
        break;
      } catch (err) {
        if (!(err instanceof CorruptSnapshotError)) throw err;
        opts.log?.('storage.snapshot_unusable', { dir, index: m.meta.index, error: err.message });
      }
    }
    const snapIndex = snap.meta.index;
    const tail = recovered.entries.filter((e) => e.index > snapIndex);
    const wantFirst = snapIndex + 1;
    if (tail.length > 0 && tail[0]!.index !== wantFirst) {
      await wal.close();
      throw new Error(
        `storage: ${dir}: log starts at ${tail[0]!.index} but the usable snapshot ends at ${snapIndex}; refusing a gap`,
      );
    }
    const newestMarker = recovered.markers[recovered.markers.length - 1];
    if (newestMarker && newestMarker.meta.index > snapIndex && recovered.entries.every((e) => e.index > newestMarker.meta.index)) {
      // The marker proves entries up to its index were discarded; without its file they are gone.
      await wal.close();
      throw new Error(`storage: ${dir}: snapshot ${newestMarker.meta.term}-${newestMarker.meta.index} is missing or corrupt`);
    }
    const hs = { ...(recovered.hardState ?? EMPTY_HS) };
    // A received snapshot only carries committed state, so commit is at least its index.
    if (hs.commit < snapIndex) hs.commit = snapIndex;
    const ents: Entry[] = [{ index: snapIndex, term: snap.meta.term, type: 'normal', data: new Uint8Array(0) }, ...tail];
    opts.log?.('storage.recovered', {
      dir,
      snapshotIndex: snapIndex,
      lastIndex: ents[ents.length - 1]!.index,
      term: hs.term,
      truncatedBytes: recovered.truncatedBytes,
    });
    return new DiskStorage(dir, wal, snapshotter, hs, snap, ents, opts);
  }

  /** True when nothing was ever persisted (a brand-new member). */
  isEmpty(): boolean {
    return this.hardState.term === 0 && this.lastIndex() === 0 && this.snap.meta.conf.voters.length === 0;
  }

  /**
   * Seeds a brand-new storage with the initial membership, as an index-0 snapshot, so initialState()
   * reports it. Staged like any other mutation: call sync().
   */
  bootstrap(conf: ConfState): void {
    if (!this.isEmpty()) throw new Error(`storage: ${this.dir} already holds raft state; refusing to bootstrap`);
    this.snap = { meta: { index: 0, term: 0, conf }, data: new Uint8Array(0) };
    this.pendingSnapshots.push(this.snap);
    this.wal.saveSnapshotMarker(this.snap.meta, false);
  }

  // ---- mutators (staged; durable after sync()) ---------------------------------------------------

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
    this.wal.saveHardState(hs);
  }

  /** Appends entries, replacing any conflicting suffix (entries at or below the snapshot are ignored). */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return;
    const from = first > entries[0]!.index ? entries.slice(first - entries[0]!.index) : entries;
    const at = from[0]!.index - this.offset;
    if (at > this.ents.length) {
      throw new Error(`storage: append at ${from[0]!.index} leaves a gap after last index ${this.lastIndex()}`);
    }
    this.ents.length = at;
    for (const e of from) this.ents.push(e);
    this.wal.saveEntries(from);
  }

  /** Replaces the whole log with a snapshot received from the leader. */
  applySnapshot(snap: Snapshot): void {
    if (snap.meta.index <= this.snap.meta.index) throw new SnapshotOutOfDateError(snap.meta.index, this.snap.meta.index);
    this.snap = snap;
    this.ents = [{ index: snap.meta.index, term: snap.meta.term, type: 'normal', data: new Uint8Array(0) }];
    this.pendingSnapshots.push(snap);
    this.wal.saveSnapshotMarker(snap.meta, true);
    this.releaseIndex = Math.max(this.releaseIndex, snap.meta.index);
  }

  /** Records a snapshot of the applied state at `index` (which must be in the log). */
  createSnapshot(index: number, conf: ConfState | undefined, data: Uint8Array): Snapshot {
    if (index <= this.snap.meta.index) throw new SnapshotOutOfDateError(index, this.snap.meta.index);
    if (index > this.lastIndex()) {
      throw new Error(`storage: snapshot index ${index} is beyond the last index ${this.lastIndex()}`);
    }
    const meta: SnapshotMeta = { index, term: this.term(index), conf: conf ?? this.snap.meta.conf };
    this.snap = { meta, data };
    this.pendingSnapshots.push(this.snap);
    this.wal.saveSnapshotMarker(meta, false);
    return this.snap;
  }

  /** Drops entries up to and including `compactIndex` from memory; WAL segments follow once covered by a durable snapshot. */
  compact(compactIndex: number): void {
    const offset = this.offset;
    if (compactIndex <= offset) throw new CompactedError(compactIndex);
    if (compactIndex > this.lastIndex()) {
      throw new Error(`storage: compact ${compactIndex} is beyond the last index ${this.lastIndex()}`);
    }
    const i = compactIndex - offset;
    const dummy: Entry = { index: compactIndex, term: this.ents[i]!.term, type: 'normal', data: new Uint8Array(0) };
    this.ents = [dummy, ...this.ents.slice(i + 1)];
    this.releaseIndex = Math.max(this.releaseIndex, compactIndex);
  }

  /** True when sync() has something to make durable. */
  get dirty(): boolean {
    return this.wal.hasPending || this.pendingSnapshots.length > 0;
  }

  /**
   * Makes all staged mutations durable. Calls are serialised; an fsync failure is fatal for the caller.
   * mustSync=false (only the commit index moved, which Raft can always re-learn) skips the I/O: the
   * staged records ride along with the next durable batch, as etcd's MustSync rule allows.
   */
  async sync(mustSync = true): Promise<void> {
    if (!mustSync && this.pendingSnapshots.length === 0) return;
    while (this.syncing) await this.syncing;
    const p = this.doSync();
    this.syncing = p;
    try {
      await p;
    } finally {
      this.syncing = undefined;
    }
  }

  private async doSync(): Promise<void> {
    const snaps = this.pendingSnapshots;
    this.pendingSnapshots = [];
    // Snapshot files before the WAL markers that vouch for them.
    for (const s of snaps) {
      await this.snapshotter.save(s);
      if (s.meta.index > this.durableSnapIndex) this.durableSnapIndex = s.meta.index;
    }
    await this.wal.sync();
    const release = Math.min(this.releaseIndex, this.durableSnapIndex);
    if (release > this.releasedTo) {
      this.releasedTo = release;
      const removed = await this.wal.releaseTo(release);
      await this.snapshotter.purge(this.opts.keepSnapshots ?? 2);
      if (removed > 0) this.opts.log?.('storage.released_segments', { dir: this.dir, upTo: release, segments: removed });
    }
  }

  async close(): Promise<void> {
    while (this.syncing) await this.syncing;
    await this.wal.close();
  }
}
