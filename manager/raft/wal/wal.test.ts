import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Entry } from '../types.js';
import { crc32, crc32Table } from './crc32.js';
import { CorruptWalError, Wal } from './wal.js';

function ent(index: number, term = 1, size = 8): Entry {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (index * 31 + i) & 0xff;
  return { index, term, type: 'normal', data };
}

function sameEntries(a: Entry[], b: Entry[]): void {
  assert.deepEqual(
    a.map((e) => [e.index, e.term, e.type, Buffer.from(e.data).toString('hex')]),
    b.map((e) => [e.index, e.term, e.type, Buffer.from(e.data).toString('hex')]),
  );
}

describe('raft/wal', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wal-test-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const walFiles = () => fs.readdirSync(dir).filter((n) => n.endsWith('.wal')).sort();

  it('crc32 fallback table matches the native implementation', () => {
    const data = Buffer.from('The quick brown fox jumps over the lazy dog');
    assert.equal(crc32Table(data), 0x414fa339);
    assert.equal(crc32(data), 0x414fa339);
  });

  it('replays entries and the last hard state across reopen', async () => {
    let { wal, recovered } = await Wal.open(dir);
    assert.equal(recovered.entries.length, 0);
    assert.equal(recovered.hardState, undefined);
    wal.saveHardState({ term: 1, vote: 'a', commit: 0 });
    wal.saveEntries([ent(1), ent(2), ent(3)]);
    await wal.sync();
    wal.saveHardState({ term: 2, vote: 'b', commit: 2 });
    wal.saveEntries([ent(4, 2)]);
    await wal.sync();
    await wal.close();
    ({ wal, recovered } = await Wal.open(dir));
    assert.deepEqual(recovered.hardState, { term: 2, vote: 'b', commit: 2 });
    sameEntries(recovered.entries, [ent(1), ent(2), ent(3), ent(4, 2)]);
    assert.equal(recovered.truncatedBytes, 0);
    await wal.close();
  });

  it('a later entry replaces the conflicting suffix', async () => {
    let { wal } = await Wal.open(dir);
    wal.saveEntries([ent(1), ent(2), ent(3), ent(4)]);
    await wal.sync();
    wal.saveEntries([ent(3, 2), ent(4, 2)]);
    await wal.sync();
    wal.saveEntries([ent(2, 3)]);
    await wal.sync();
    await wal.close();
    const { wal: w2, recovered } = await Wal.open(dir);
    sameEntries(recovered.entries, [ent(1), ent(2, 3)]);
    await w2.close();
  });

  it('a restore marker clears the log; a compaction marker does not', async () => {
    let { wal } = await Wal.open(dir);
    wal.saveEntries([ent(1), ent(2), ent(3)]);
    wal.saveSnapshotMarker({ index: 2, term: 1, conf: { voters: ['a'], learners: [] } }, false);
    await wal.sync();
    await wal.close();
    let r = await Wal.open(dir);
    assert.equal(r.recovered.entries.length, 3);
    r.wal.saveSnapshotMarker({ index: 10, term: 3, conf: { voters: ['a', 'b'], learners: [] } }, true);
    r.wal.saveEntries([ent(11, 3)]);
    await r.wal.sync();
    await r.wal.close();
    r = await Wal.open(dir);
    sameEntries(r.recovered.entries, [ent(11, 3)]);
    assert.deepEqual(
      r.recovered.markers.map((m) => [m.meta.index, m.restore]),
      [
        [2, false],
        [10, true],
      ],
    );
    await r.wal.close();
  });

  it('truncates a torn tail at every byte offset of the last records', async () => {
    const { wal } = await Wal.open(dir);
    wal.saveHardState({ term: 1, vote: 'a', commit: 0 });
    wal.saveEntries([ent(1), ent(2)]);
    await wal.sync();
    const sizeAfterTwo = fs.statSync(path.join(dir, walFiles()[0]!)).size;
    wal.saveEntries([ent(3, 1, 40), ent(4, 1, 3)]);
    wal.saveHardState({ term: 1, vote: 'a', commit: 4 });
    await wal.sync();
    await wal.close();
    const file = path.join(dir, walFiles()[0]!);
    const full = fs.readFileSync(file);
    for (let cut = sizeAfterTwo; cut < full.length; cut++) {
      fs.writeFileSync(file, full.subarray(0, cut));
      const { wal: w, recovered } = await Wal.open(dir);
      const n = recovered.entries.length;
      assert.ok(n >= 2 && n <= 4, `cut ${cut}: ${n} entries`);
      sameEntries(recovered.entries, [ent(1), ent(2), ent(3, 1, 40), ent(4, 1, 3)].slice(0, n));
      // The truncated WAL stays appendable and replays what is appended next.
      w.saveEntries([ent(n + 1, 2)]);
      await w.sync();
      await w.close();
      const again = await Wal.open(dir);
      assert.equal(again.recovered.entries.length, n + 1);
      assert.equal(again.recovered.truncatedBytes, 0);
      await again.wal.close();
    }
  });

  it('truncates a zero-filled (preallocated) tail', async () => {
    const { wal } = await Wal.open(dir);
    wal.saveEntries([ent(1), ent(2)]);
    await wal.sync();
    await wal.close();
    const file = path.join(dir, walFiles()[0]!);
    fs.appendFileSync(file, Buffer.alloc(4096));
    const r = await Wal.open(dir);
    assert.equal(r.recovered.entries.length, 2);
    assert.equal(r.recovered.truncatedBytes, 4096);
    await r.wal.close();
  });

  it('a bad checksum in the final record is a torn write and is truncated', async () => {
    const { wal } = await Wal.open(dir);
    wal.saveEntries([ent(1), ent(2), ent(3, 1, 30)]);
    await wal.sync();
    await wal.close();
    const file = path.join(dir, walFiles()[0]!);
    const buf = fs.readFileSync(file);
    buf[buf.length - 5]! ^= 0xff;
    fs.writeFileSync(file, buf);
    const r = await Wal.open(dir);
    assert.equal(r.recovered.entries.length, 2);
    await r.wal.close();
  });

  it('refuses a corrupt record followed by valid ones, naming file and offset', async () => {
    const { wal } = await Wal.open(dir);
    wal.saveEntries([ent(1), ent(2), ent(3), ent(4), ent(5)]);
    await wal.sync();
    await wal.close();
    const file = path.join(dir, walFiles()[0]!);
    const clean = fs.readFileSync(file);
    // Flip every byte of the second record in turn (header and payload alike).
    const hdrEnd = 13 + clean.readUInt32LE(0);
    const rec1End = hdrEnd + 13 + clean.readUInt32LE(hdrEnd);
    const rec2End = rec1End + 13 + clean.readUInt32LE(rec1End);
    for (let at = rec1End; at < rec2End; at++) {
      const buf = Buffer.from(clean);
      buf[at]! ^= 0x5a;
      fs.writeFileSync(file, buf);
      await assert.rejects(Wal.open(dir), (err: unknown) => {
        assert.ok(err instanceof CorruptWalError, String(err));
        assert.equal(err.file, file);
        assert.equal(err.offset, rec1End);
        assert.match(err.message, new RegExp(`${path.basename(file)} at offset ${rec1End}`));
        return true;
      });
    }
  });

  it('rolls segments, carries the hard state forward and releases covered segments', async () => {
    let { wal } = await Wal.open(dir, { segmentSize: 2048 });
    wal.saveHardState({ term: 7, vote: 'x', commit: 0 });
    for (let i = 1; i <= 200; i += 10) {
      wal.saveEntries(Array.from({ length: 10 }, (_, k) => ent(i + k, 7, 20)));
      await wal.sync();
    }
    const before = walFiles().length;
    assert.ok(before > 3, `expected several segments, got ${before}`);
    wal.saveSnapshotMarker({ index: 150, term: 7, conf: { voters: ['x'], learners: [] } }, false);
    await wal.sync();
    const removed = await wal.releaseTo(150);
    assert.ok(removed > 0);
    assert.equal(walFiles().length, before - removed);
    await wal.close();
    const r = await Wal.open(dir, { segmentSize: 2048 });
    assert.deepEqual(r.recovered.hardState, { term: 7, vote: 'x', commit: 0 });
    const entries = r.recovered.entries;
    assert.ok(entries[0]!.index <= 151, `first recovered ${entries[0]!.index}`);
    assert.equal(entries[entries.length - 1]!.index, 200);
    assert.equal(r.recovered.markers[r.recovered.markers.length - 1]!.meta.index, 150);
    await r.wal.close();
  });

  it('refuses a damaged segment that is not the last one', async () => {
    const { wal } = await Wal.open(dir, { segmentSize: 512 });
    for (let i = 1; i <= 60; i += 5) {
      wal.saveEntries(Array.from({ length: 5 }, (_, k) => ent(i + k, 1, 20)));
      await wal.sync();
    }
    await wal.close();
    const files = walFiles();
    assert.ok(files.length >= 2);
    const first = path.join(dir, files[0]!);
    const buf = fs.readFileSync(first);
    fs.writeFileSync(first, buf.subarray(0, buf.length - 3));
    await assert.rejects(Wal.open(dir), CorruptWalError);
  });
});
