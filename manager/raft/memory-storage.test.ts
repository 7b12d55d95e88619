import assert from 'node:assert/strict';
import { MemoryStorage, SnapshotOutOfDateError } from './memory-storage.js';
import { CompactedError, UnavailableError, type Entry } from './types.js';

const e = (index: number, term: number, size = 0): Entry => ({ index, term, type: 'normal', data: new Uint8Array(size) });

function storage(): MemoryStorage {
  // Entries 3..5 after a snapshot at 3 (the dummy entry).
  const s = new MemoryStorage({ voters: ['a'], learners: [] });
  s.append([e(1, 1), e(2, 2), e(3, 3), e(4, 4), e(5, 5)]);
  s.createSnapshot(3, undefined, new Uint8Array([9]));
  s.compact(3);
  return s;
}

describe('MemoryStorage', () => {
  it('keeps a dummy entry at the snapshot index', () => {
    const s = storage();
    assert.equal(s.firstIndex(), 4);
    assert.equal(s.lastIndex(), 5);
    assert.equal(s.term(3), 3);
    assert.throws(() => s.term(2), CompactedError);
    assert.throws(() => s.term(6), UnavailableError);
  });

  it('returns entries in [lo, hi), limited by size but at least one', () => {
    const s = new MemoryStorage();
    s.append([e(1, 1, 100), e(2, 1, 100), e(3, 1, 100)]);
    assert.equal(s.entries(1, 4).length, 3);
    assert.equal(s.entries(1, 4, 1).length, 1);
    assert.equal(s.entries(1, 4, 260).length, 2);
    assert.throws(() => storage().entries(3, 5), CompactedError);
    assert.throws(() => s.entries(2, 9), UnavailableError);
  });

  it('append truncates a conflicting suffix and ignores what is compacted', () => {
    const s = storage();
    s.append([e(4, 6), e(5, 6), e(6, 6)]);
    assert.deepEqual([s.term(4), s.term(5), s.term(6)], [6, 6, 6]);
    s.append([e(5, 7)]);
    assert.equal(s.lastIndex(), 5);
    assert.equal(s.term(5), 7);
    s.append([e(2, 2), e(3, 3), e(4, 6)]); // overlaps the snapshot
    assert.equal(s.firstIndex(), 4);
    assert.equal(s.lastIndex(), 4);
    assert.throws(() => s.append([e(9, 9)]), /missing/);
  });

  it('compacts and snapshots only forwards', () => {
    const s = storage();
    assert.throws(() => s.compact(3), CompactedError);
    assert.throws(() => s.compact(9));
    assert.throws(() => s.createSnapshot(2, undefined, new Uint8Array()), SnapshotOutOfDateError);
    s.compact(4);
    assert.equal(s.firstIndex(), 5);
    assert.equal(s.term(4), 4);
  });

  it('applySnapshot replaces the log; its conf becomes the initial state', () => {
    const s = storage();
    const conf = { voters: ['a', 'b'], learners: [] };
    s.applySnapshot({ meta: { index: 10, term: 7, conf }, data: new Uint8Array() });
    assert.equal(s.firstIndex(), 11);
    assert.equal(s.lastIndex(), 10);
    assert.equal(s.term(10), 7);
    assert.deepEqual(s.initialState().conf, conf);
    assert.throws(() => s.applySnapshot({ meta: { index: 10, term: 7, conf }, data: new Uint8Array() }), SnapshotOutOfDateError);
  });

  it('keeps the hard state', () => {
    const s = new MemoryStorage();
    s.setHardState({ term: 3, vote: 'b', commit: 0 });
    assert.deepEqual(s.initialState().hardState, { term: 3, vote: 'b', commit: 0 });
  });
});
