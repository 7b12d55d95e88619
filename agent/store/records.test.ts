import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordStore } from './records.js';

interface Rec {
  id: string;
  n: number;
}
const validate = (v: unknown, id: string): Rec => {
  const r = v as Partial<Rec>;
  if (typeof r !== 'object' || r === null || r.id !== id || typeof r.n !== 'number') throw new Error(`record ${id}: expected {id, n}`);
  return r as Rec;
};

describe('agent/store/records', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'records-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('puts, reloads, deletes', async () => {
    const s = new RecordStore<Rec>(join(dir, 'containers'), { validate });
    await s.load();
    await s.put('a', { id: 'a', n: 1 });
    await s.put('b', { id: 'b', n: 2 });
    assert.equal(s.get('a')?.n, 1);
    const again = new RecordStore<Rec>(join(dir, 'containers'), { validate });
    assert.deepEqual(await again.load(), { loaded: 2, corrupt: [] });
    assert.deepEqual(again.ids().sort(), ['a', 'b']);
    await again.delete('a');
    await again.delete('missing');
    const third = new RecordStore<Rec>(join(dir, 'containers'), { validate });
    await third.load();
    assert.deepEqual(third.all(), [{ id: 'b', n: 2 }]);
  });

  it('writes of one record land in order and snapshot the value', async () => {
    const s = new RecordStore<Rec>(dir);
    await s.load();
    const r = { id: 'x', n: 0 };
    const writes: Promise<void>[] = [];
    for (let i = 1; i <= 20; i++) {
      r.n = i;
      writes.push(s.put('x', { ...r }));
    }
    const first = s.put('y', r);
    r.n = 99;
    await Promise.all([...writes, first]);
    await s.flush();
    assert.equal(JSON.parse(await readFile(join(dir, 'x.json'), 'utf8')).n, 20);
    assert.equal(JSON.parse(await readFile(join(dir, 'y.json'), 'utf8')).n, 20);
  });

  it('moves corrupt records aside and reports them; removes stale temp files', async () => {
    await writeFile(join(dir, 'good.json'), JSON.stringify({ id: 'good', n: 1 }));
    await writeFile(join(dir, 'torn.json'), '{"id": "torn", "n"');
    await writeFile(join(dir, 'wrong.json'), JSON.stringify({ id: 'wrong', n: 'x' }));
    await writeFile(join(dir, '.good.json.tmp-1-abc'), 'partial');
    await writeFile(join(dir, 'README'), 'not a record');
    const s = new RecordStore<Rec>(dir, { validate, now: () => new Date('2024-01-02T03:04:05.678Z') });
    const r = await s.load();
    assert.equal(r.loaded, 1);
    assert.deepEqual(r.corrupt.map((c) => c.id), ['torn', 'wrong']);
    assert.match(r.corrupt[1]!.error, /expected \{id, n\}/);
    assert.equal(r.corrupt[0]!.movedTo, join(dir, 'corrupt', 'torn.json.2024-01-02T03-04-05-678Z'));
    assert.deepEqual((await readdir(dir)).sort(), ['README', 'corrupt', 'good.json']);
    assert.deepEqual((await readdir(join(dir, 'corrupt'))).length, 2);
  });

  it('refuses ids that could escape the directory', async () => {
    const s = new RecordStore<Rec>(dir);
    await s.load();
    assert.throws(() => void s.put('../x', { id: 'x', n: 1 }), /invalid record id "\.\.\/x"/);
  });
});
