import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CompactedError, UnavailableError, type Entry } from '../types.js';
import { DiskStorage, SnapshotOutOfDateError } from './disk-storage.js';
import { Snapshotter } from './snapshotter.js';

function ent(index: number, term = 1, size = 4): Entry {
  return { index, term, type: 'normal', data: new Uint8Array(size).fill(index & 0xff) };
}
const conf = { voters: ['a', 'b', 'c'], learners: [] };
const ids = (es: Entry[]) => es.map((e) => `${e.index}@${e.term}`);

describe('raft/storage DiskStorage', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disk-storage-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('bootstraps, appends and recovers hard state, conf and entries', async () => {
    let s = await DiskStorage.open(dir);
    assert.ok(s.isEmpty());
    s.bootstrap(conf);
    s.setHardState({ term: 2, vote: 'a', commit: 1 });
    s.append([ent(1, 1), ent(2, 2), ent(3, 2)]);
    await s.sync();
    assert.equal(s.dirty, false);
    await s.close();
    s = await DiskStorage.open(dir);
    assert.equal(s.isEmpty(), false);
    assert.deepEqual(s.initialState(), { hardState: { term: 2, vote: 'a', commit: 1 }, conf });
    assert.equal(s.firstIndex(), 1);
    assert.equal(s.lastIndex(), 3);
    assert.equal(s.term(0), 0);
    assert.equal(s.term(3), 2);
    assert.deepEqual(ids(s.entries(1, 4)), ['1@1', '2@2', '3@2']);
    assert.throws(() => s.bootstrap(conf), /already holds raft state/);
    await s.close();
  });

  it('loses what was never synced (crash before fsync)', async () => {
    let s = await DiskStorage.open(dir);
    s.append([ent(1), ent(2)]);
    await s.sync();
    s.append([ent(3)]);
    s.setHardState({ term: 5, vote: 'x', commit: 0 });
    await s.close();
    s = await DiskStorage.open(dir);
    assert.equal(s.lastIndex(), 2);
    assert.equal(s.initialState().hardState.term, 0);
    await s.close();
  });

  it('append replaces a conflicting suffix, also after recovery', async () => {
    let s = await DiskStorage.open(dir);
    s.append([ent(1), ent(2), ent(3), ent(4)]);
    s.append([ent(3, 2)]);
    assert.deepEqual(ids(s.entries(1, s.lastIndex() + 1)), ['1@1', '2@1', '3@2']);
    await s.sync();
    await s.close();
    s = await DiskStorage.open(dir);
    assert.deepEqual(ids(s.entries(1, s.lastIndex() + 1)), ['1@1', '2@1', '3@2']);
    assert.throws(() => s.append([ent(6)]), /gap/);
    await s.close();
  });

  it('entries/term report compacted and unavailable ranges; maxBytes limits but returns at least one', async () => {
    const s = await DiskStorage.open(dir);
    s.append([ent(1, 1, 100), ent(2, 1, 100), ent(3, 1, 100), ent(4, 1, 100)]);
    assert.equal(s.entries(1, 5, 0).length, 1);
    assert.equal(s.entries(1, 5, 250).length, 2);
    assert.throws(() => s.entries(1, 6), UnavailableError);
    assert.throws(() => s.term(5), UnavailableError);
    s.createSnapshot(2, conf, new Uint8Array([9]));
    s.compact(2);
    assert.throws(() => s.entries(2, 4), CompactedError);
    assert.throws(() => s.term(1), CompactedError);
    assert.equal(s.term(2), 1);
    assert.equal(s.firstIndex(), 3);
    assert.throws(() => s.compact(2), CompactedError);
    assert.throws(() => s.createSnapshot(2, conf, new Uint8Array()), SnapshotOutOfDateError);
    await s.close();
  });

  it('snapshot + compaction removes WAL segments behind it and recovers from the snapshot', async () => {
    let s = await DiskStorage.open(dir, { segmentSize: 1024 });
    s.bootstrap(conf);
    for (let i = 1; i <= 300; i += 10) {
      s.append(Array.from({ length: 10 }, (_, k) => ent(i + k, 3, 16)));
      s.setHardState({ term: 3, vote: 'b', commit: i + 9 });
      await s.sync();
    }
    const walDir = path.join(dir, 'wal');
    const before = fs.readdirSync(walDir).length;
    s.createSnapshot(250, conf, Buffer.from('state@250'));
    s.compact(250);
    await s.sync();
    const after = fs.readdirSync(walDir).length;
    assert.ok(after < before, `segments ${before} -> ${after}`);
    await s.close();
    s = await DiskStorage.open(dir, { segmentSize: 1024 });
    assert.equal(s.snapshot().meta.index, 250);
    assert.equal(Buffer.from(s.snapshot().data).toString(), 'state@250');
    assert.equal(s.firstIndex(), 251);
    assert.equal(s.lastIndex(), 300);
    assert.deepEqual(s.initialState().hardState, { term: 3, vote: 'b', commit: 300 });
    assert.deepEqual(s.initialState().conf, conf);
    await s.close();
  });

  it('applySnapshot replaces the log and survives restart', async () => {
    let s = await DiskStorage.open(dir);
    s.bootstrap(conf);
    s.append([ent(1), ent(2), ent(3)]);
    await s.sync();
    s.applySnapshot({ meta: { index: 10, term: 4, conf }, data: Buffer.from('leader-state') });
    s.setHardState({ term: 4, vote: '', commit: 10 });
    await s.sync();
    s.append([ent(11, 4)]);
    await s.sync();
    await s.close();
    s = await DiskStorage.open(dir);
    assert.equal(s.firstIndex(), 11);
    assert.equal(s.lastIndex(), 11);
    assert.equal(s.term(10), 4);
    assert.equal(Buffer.from(s.snapshot().data).toString(), 'leader-state');
    assert.throws(() => s.applySnapshot({ meta: { index: 5, term: 4, conf }, data: new Uint8Array() }), SnapshotOutOfDateError);
    await s.close();
  });

  it('ignores a snapshot file that has no WAL marker (crash between file and marker)', async () => {
    let s = await DiskStorage.open(dir);
    s.bootstrap(conf);
    s.append([ent(1), ent(2)]);
    await s.sync();
    await s.close();
    await new Snapshotter(path.join(dir, 'snap')).save({ meta: { index: 2, term: 1, conf }, data: Buffer.from('x') });
    s = await DiskStorage.open(dir);
    assert.equal(s.snapshot().meta.index, 0);
    assert.equal(s.lastIndex(), 2);
    await s.close();
  });

  it('refuses to start when the marked snapshot is corrupt and its entries are gone', async () => {
    let s = await DiskStorage.open(dir);
    s.bootstrap(conf);
    s.applySnapshot({ meta: { index: 10, term: 2, conf }, data: Buffer.from('abc') });
    await s.sync();
    await s.close();
    const snapDir = path.join(dir, 'snap');
    const f = fs.readdirSync(snapDir).find((n) => n.endsWith('0a.snap'))!;
    const buf = fs.readFileSync(path.join(snapDir, f));
    buf[buf.length - 1]! ^= 1;
    fs.writeFileSync(path.join(snapDir, f), buf);
    await assert.rejects(DiskStorage.open(dir), /missing or corrupt/);
  });
});
