// Snapshot files: <term>-<index>.snap, written atomically (tmp + fsync + rename + fsync dir) and
// checked by CRC on load. Which file is authoritative is decided by the WAL's snapshot markers, so a
// snapshot written just before a crash (without its marker) is never trusted.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Snapshot, SnapshotMeta } from '../types.js';
import { BinaryReader, BinaryWriter } from '../transport/binary.js';
import { readSnapshot, writeSnapshot } from '../transport/codec.js';
import { crc32 } from '../wal/crc32.js';
import { fsyncDir } from '../wal/wal.js';

const SNAP_RE = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;

export class CorruptSnapshotError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`snapshot: ${file} is unusable: ${reason}`);
    this.name = 'CorruptSnapshotError';
  }
}

export function snapshotFileName(meta: Pick<SnapshotMeta, 'term' | 'index'>): string {
  return `${meta.term.toString(16).padStart(16, '0')}-${meta.index.toString(16).padStart(16, '0')}.snap`;
}

export class Snapshotter {
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  async save(snap: Snapshot): Promise<string> {
    const w = new BinaryWriter(64 + snap.data.length);
    w.u32(0);
    writeSnapshot(w, snap);
    const buf = w.view();
    buf.writeUInt32LE(crc32(buf.subarray(4)), 0);
    const file = path.join(this.dir, snapshotFileName(snap.meta));
    const tmp = `${file}.tmp`;
    const fh = await fsp.open(tmp, 'w');
    try {
      await fh.writeFile(buf);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
    await fsyncDir(this.dir);
    return file;
  }

  async load(meta: Pick<SnapshotMeta, 'term' | 'index'>): Promise<Snapshot> {
    const file = path.join(this.dir, snapshotFileName(meta));
    const buf = await fsp.readFile(file);
    if (buf.length < 4) throw new CorruptSnapshotError(file, 'shorter than its checksum');
    if (crc32(buf.subarray(4)) !== buf.readUInt32LE(0)) throw new CorruptSnapshotError(file, 'checksum mismatch');
    const r = new BinaryReader(buf.subarray(4));
    const snap = readSnapshot(r);
    if (r.remaining !== 0) throw new CorruptSnapshotError(file, `${r.remaining} trailing bytes`);
    if (snap.meta.term !== meta.term || snap.meta.index !== meta.index) {
      throw new CorruptSnapshotError(file, `contains ${snap.meta.term}-${snap.meta.index}`);
    }
    return snap;
  }

  exists(meta: Pick<SnapshotMeta, 'term' | 'index'>): boolean {
    return fs.existsSync(path.join(this.dir, snapshotFileName(meta)));
  }

  /** Removes leftovers of interrupted saves and all but the newest `keep` snapshot files. */
  async purge(keep: number): Promise<void> {
    const names = (await fsp.readdir(this.dir)).sort();
    for (const n of names) if (n.endsWith('.tmp')) await fsp.rm(path.join(this.dir, n), { force: true });
    const snaps = names
      .filter((n) => SNAP_RE.test(n))
      .map((n) => {
        const m = SNAP_RE.exec(n)!;
        return { n, index: parseInt(m[2]!, 16), term: parseInt(m[1]!, 16) };
      })
      .sort((a, b) => a.index - b.index || a.term - b.term);
    for (const s of snaps.slice(0, Math.max(0, snaps.length - keep))) await fsp.rm(path.join(this.dir, s.n), { force: true });
  }
}
