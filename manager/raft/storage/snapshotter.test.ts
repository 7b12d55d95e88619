import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CorruptSnapshotError, Snapshotter, snapshotFileName } from './snapshotter.js';

describe('raft/storage Snapshotter', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapshotter-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const conf = { voters: ['a'], learners: [] };

  it('saves atomically by term-index name, loads, and detects corruption', async () => {
    const s = new Snapshotter(dir);
    const file = await s.save({ meta: { index: 42, term: 3, conf }, data: Buffer.from('hello') });
    assert.equal(path.basename(file), snapshotFileName({ term: 3, index: 42 }));
    assert.deepEqual(fs.readdirSync(dir), [path.basename(file)]);
    const back = await s.load({ term: 3, index: 42 });
    assert.equal(Buffer.from(back.data).toString(), 'hello');
    assert.deepEqual(back.meta, { index: 42, term: 3, conf });
    const buf = fs.readFileSync(file);
    buf[buf.length - 2]! ^= 0x10;
    fs.writeFileSync(file, buf);
    await assert.rejects(s.load({ term: 3, index: 42 }), CorruptSnapshotError);
  });

  it('purge removes interrupted saves and keeps the newest files', async () => {
    const s = new Snapshotter(dir);
    for (const index of [5, 10, 15, 20]) await s.save({ meta: { index, term: 1, conf }, data: Buffer.alloc(3) });
    fs.writeFileSync(path.join(dir, `${snapshotFileName({ term: 1, index: 25 })}.tmp`), 'partial');
    await s.purge(2);
    assert.deepEqual(fs.readdirSync(dir).sort(), [snapshotFileName({ term: 1, index: 15 }), snapshotFileName({ term: 1, index: 20 })]);
  });
});
