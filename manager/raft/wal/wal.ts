// Segmented write-ahead log. Callers buffer records (entries, hard state, snapshot markers) and then
// call sync() once per Ready: one writev + one fdatasync for the whole batch (group commit).
//
// Every segment starts with a header, the current hard state and the latest snapshot marker, so any
// prefix of segments whose entries are all covered by a snapshot can be deleted without losing the
// term/vote. Recovery truncates a torn tail of the last segment and refuses anything else.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Entry, HardState, SnapshotMeta } from '../types.js';
import { BinaryReader, BinaryWriter } from '../transport/binary.js';
import {
  readEntry,
  readHardState,
  readSnapshotMeta,
  writeEntry,
  writeHardState,
  writeSnapshotMeta,
} from '../transport/codec.js';
import { encodeRecord, hasValidRecordAfter, parseRecord, RecordType } from './record.js';

export const WAL_FORMAT_VERSION = 1;
export const DEFAULT_SEGMENT_SIZE = 64 * 1024 * 1024;

export class CorruptWalError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    reason: string,
  ) {
    super(`wal: corrupt record in ${file} at offset ${offset}: ${reason}`);
    this.name = 'CorruptWalError';
  }
}

export interface SnapshotMarker {
  meta: SnapshotMeta;
  /** true when the snapshot replaced the whole log (received from the leader), false for local compaction. */
  restore: boolean;
}

export interface WalRecovery {
  hardState?: HardState;
  /** The log as replayed: later entries replace conflicting suffixes; a restore marker clears it. */
  entries: Entry[];
  /** Snapshot markers in the order written; the newest is last. */
  markers: SnapshotMarker[];
  /** Torn bytes dropped from the tail of the last segment (0 when the shutdown was clean). */
  truncatedBytes: number;
}

export interface WalOptions {
  segmentSize?: number;
  log?: (event: string, fields: Record<string, unknown>) => void;
}

interface Segment {
  seq: number;
  file: string;
  /** Highest entry index written into this segment (0 if none). */
  maxIndex: number;
}

const SEGMENT_RE = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;

function segmentName(seq: number, firstIndex: number): string {
  return `${seq.toString(16).padStart(16, '0')}-${firstIndex.toString(16).padStart(16, '0')}.wal`;
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function encodeHardState(hs: HardState): Buffer {
  const w = new BinaryWriter(64);
  writeHardState(w, hs);
  return encodeRecord(RecordType.HardState, w.view());
}

function encodeMarker(m: SnapshotMarker): Buffer {
  const w = new BinaryWriter(64);
  w.u8(m.restore ? 1 : 0);
  writeSnapshotMeta(w, m.meta);
  return encodeRecord(RecordType.SnapshotMarker, w.view());
}

function encodeSegmentHeader(seq: number, firstIndex: number): Buffer {
  const w = new BinaryWriter(32);
  w.u32(WAL_FORMAT_VERSION);
  w.f64(seq);
  w.f64(firstIndex);
  return encodeRecord(RecordType.SegmentHeader, w.view());
}

export class Wal {
  private pending: Buffer[] = [];
  private pendingMaxIndex = 0;
  private fh: fsp.FileHandle;
  private size: number;
  private syncing = false;
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly segments: Segment[],
    fh: fsp.FileHandle,
    size: number,
    private lastHardState: HardState | undefined,
    private lastMarker: SnapshotMarker | undefined,
    private lastIndex: number,
    private readonly opts: Required<Pick<WalOptions, 'segmentSize'>> & WalOptions,
  ) {
    this.fh = fh;
    this.size = size;
  }

  /** Opens (creating if needed) the WAL in `dir` and replays it. */
  static async open(dir: string, options: WalOptions = {}): Promise<{ wal: Wal; recovered: WalRecovery }> {
    const opts = { segmentSize: DEFAULT_SEGMENT_SIZE, ...options };
    await fsp.mkdir(dir, { recursive: true });
    const names = (await fsp.readdir(dir)).sort();
    for (const n of names) if (n.endsWith('.tmp')) await fsp.rm(path.join(dir, n), { force: true });
    const segNames = names.filter((n) => SEGMENT_RE.test(n));

    const recovered: WalRecovery = { entries: [], markers: [], truncatedBytes: 0 };
    const segments: Segment[] = [];
    let firstEntryIndex = 0; // index of recovered.entries[0]
    for (let i = 0; i < segNames.length; i++) {
      const name = segNames[i]!;
      const file = path.join(dir, name);
      const seq = parseInt(SEGMENT_RE.exec(name)![1]!, 16);
      if (segments.length > 0 && seq !== segments[segments.length - 1]!.seq + 1) {
        throw new CorruptWalError(file, 0, `segment sequence gap after ${segments[segments.length - 1]!.seq}`);
      }
      const isLast = i === segNames.length - 1;
      const buf = await fsp.readFile(file);
      const seg: Segment = { seq, file, maxIndex: 0 };
      let at = 0;
      let first = true;
      while (at < buf.length) {
        const r = parseRecord(buf, at);
        if (r.kind !== 'ok') {
          const reason = r.kind === 'bad' ? r.reason : r.kind === 'zero' ? 'zero-filled tail' : 'truncated record';
          // Only the last segment can have a torn tail: earlier ones were fsynced before the next was created.
          if (!isLast || hasValidRecordAfter(buf, at + 1)) throw new CorruptWalError(file, at, reason);
          await truncateFile(file, at);
          recovered.truncatedBytes = buf.length - at;
          opts.log?.('wal.truncated_tail', { file, offset: at, bytes: buf.length - at, reason });
          break;
        }
        const rd = new BinaryReader(r.payload);
        if (first) {
          if (r.type !== RecordType.SegmentHeader) throw new CorruptWalError(file, at, 'missing segment header');
          const version = rd.u32();
          if (version !== WAL_FORMAT_VERSION) throw new CorruptWalError(file, at, `unsupported WAL version ${version}`);
          const hseq = rd.f64();
          if (hseq !== seq) throw new CorruptWalError(file, at, `header sequence ${hseq} does not match file name`);
          first = false;
        } else {
          switch (r.type) {
            case RecordType.Entry: {
              const e = readEntry(rd, true);
              const last = firstEntryIndex + recovered.entries.length - 1;
              if (recovered.entries.length === 0) {
                firstEntryIndex = e.index;
              } else if (e.index <= last) {
                if (e.index < firstEntryIndex) {
                  recovered.entries = [];
                  firstEntryIndex = e.index;
                } else {
                  recovered.entries.length = e.index - firstEntryIndex;
                }
              } else if (e.index !== last + 1) {
                throw new CorruptWalError(file, at, `entry index ${e.index} leaves a gap after ${last}`);
              }
              recovered.entries.push(e);
              if (e.index > seg.maxIndex) seg.maxIndex = e.index;
              break;
            }
            case RecordType.HardState:
              recovered.hardState = readHardState(rd);
              break;
            case RecordType.SnapshotMarker: {
              const restore = rd.u8() === 1;
              const meta = readSnapshotMeta(rd);
              recovered.markers.push({ meta, restore });
              if (restore) recovered.entries = [];
              break;
            }
            case RecordType.SegmentHeader:
              throw new CorruptWalError(file, at, 'segment header in the middle of a segment');
            default:
              throw new CorruptWalError(file, at, `unknown record type ${r.type}`);
          }
        }
        at = r.next;
      }
      if (first) {
        // A segment without even its header: only possible if the last rename raced a crash.
        if (!isLast) throw new CorruptWalError(file, 0, 'empty segment');
        await fsp.rm(file);
        continue;
      }
      segments.push(seg);
    }

    const lastMarker = recovered.markers[recovered.markers.length - 1];
    const lastIndex =
      recovered.entries.length > 0 ? recovered.entries[recovered.entries.length - 1]!.index : (lastMarker?.meta.index ?? 0);
    let fh: fsp.FileHandle;
    let size: number;
    if (segments.length === 0) {
      const seg = await createSegment(dir, 0, lastIndex + 1, recovered.hardState, lastMarker);
      segments.push(seg.segment);
      fh = seg.fh;
      size = seg.size;
    } else {
      const last = segments[segments.length - 1]!;
      fh = await fsp.open(last.file, 'r+');
      size = (await fh.stat()).size;
    }
    const wal = new Wal(dir, segments, fh, size, recovered.hardState, lastMarker, lastIndex, opts);
    return { wal, recovered };
  }

  saveEntries(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const w = new BinaryWriter(256);
    for (const e of entries) {
      w.reset();
      writeEntry(w, e);
      this.pending.push(encodeRecord(RecordType.Entry, w.view()));
    }
    const last = entries[entries.length - 1]!.index;
    this.lastIndex = last;
    if (last > this.pendingMaxIndex) this.pendingMaxIndex = last;
  }

  saveHardState(hs: HardState): void {
    this.lastHardState = { ...hs };
    this.pending.push(encodeHardState(hs));
  }

  /** Records that a snapshot at meta is durable (its file must already be fsynced). */
  saveSnapshotMarker(meta: SnapshotMeta, restore: boolean): void {
    const m: SnapshotMarker = { meta, restore };
    this.lastMarker = m;
    if (restore) this.lastIndex = meta.index;
    this.pending.push(encodeMarker(m));
  }

  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** Writes everything buffered and makes it durable with one fdatasync. */
  async sync(): Promise<void> {
    if (this.closed) throw new Error(`wal: sync on closed WAL in ${this.dir}`);
    if (this.syncing) throw new Error(`wal: concurrent sync in ${this.dir}`);
    if (this.pending.length === 0) return;
    this.syncing = true;
    try {
      const bufs = this.pending;
      this.pending = [];
      const seg = this.segments[this.segments.length - 1]!;
      if (this.pendingMaxIndex > seg.maxIndex) seg.maxIndex = this.pendingMaxIndex;
      this.pendingMaxIndex = 0;
      await writeAll(this.fh, bufs, this.size);
      for (const b of bufs) this.size += b.length;
      await this.fh.datasync();
      if (this.size >= this.opts.segmentSize) await this.roll();
    } finally {
      this.syncing = false;
    }
  }

  private async roll(): Promise<void> {
    const prev = this.segments[this.segments.length - 1]!;
    const next = await createSegment(this.dir, prev.seq + 1, this.lastIndex + 1, this.lastHardState, this.lastMarker);
    await this.fh.close();
    this.fh = next.fh;
    this.size = next.size;
    this.segments.push(next.segment);
    this.opts.log?.('wal.segment_rolled', { file: next.segment.file, seq: next.segment.seq });
  }

  /** Deletes the oldest segments whose entries are all at or below `index` (never the active one). */
  async releaseTo(index: number): Promise<number> {
    let removed = 0;
    while (this.segments.length > 1 && this.segments[0]!.maxIndex <= index) {
      const seg = this.segments.shift()!;
      await fsp.rm(seg.file, { force: true });
      removed++;
    }
    if (removed > 0) await fsyncDir(this.dir);
    return removed;
  }

  get segmentFiles(): string[] {
    return this.segments.map((s) => s.file);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }
}

async function writeAll(fh: fsp.FileHandle, bufs: Buffer[], position: number): Promise<void> {
  let pos = position;
  let rest = bufs;
  while (rest.length > 0) {
    const { bytesWritten } = await fh.writev(rest, pos);
    pos += bytesWritten;
    let n = bytesWritten;
    let i = 0;
    while (i < rest.length && n >= rest[i]!.length) n -= rest[i++]!.length;
    rest = rest.slice(i);
    if (n > 0 && rest.length > 0) rest[0] = rest[0]!.subarray(n);
  }
}

async function truncateFile(file: string, size: number): Promise<void> {
  const fh = await fsp.open(file, 'r+');
  try {
    await fh.truncate(size);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Creates a segment atomically (tmp + fsync + rename + fsync dir) so a crash never leaves a headerless one. */
async function createSegment(
  dir: string,
  seq: number,
  firstIndex: number,
  hs: HardState | undefined,
  marker: SnapshotMarker | undefined,
): Promise<{ segment: Segment; fh: fsp.FileHandle; size: number }> {
  const file = path.join(dir, segmentName(seq, firstIndex));
  const tmp = `${file}.tmp`;
  const bufs = [encodeSegmentHeader(seq, firstIndex)];
  if (hs) bufs.push(encodeHardState(hs));
  if (marker) bufs.push(encodeMarker(marker));
  const data = Buffer.concat(bufs);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  await fsp.rename(tmp, file);
  await fsyncDir(dir);
  const fh = await fsp.open(file, 'r+');
  return { segment: { seq, file, maxIndex: 0 }, fh, size: data.length };
}
