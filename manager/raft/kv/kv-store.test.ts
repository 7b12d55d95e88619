import assert from 'node:assert/strict';
import type { Entry } from '../types.js';
import { encodeKvCommand, type KvCommand } from './commands.js';
import { KvStore } from './kv-store.js';

function run(kv: KvStore, cmds: KvCommand[], from = 1) {
  return cmds.map((c, i) => {
    const data = encodeKvCommand(c);
    const e: Entry = { index: from + i, term: 1, type: 'normal', data };
    return kv.apply(data, e);
  });
}

describe('raft/kv KvStore', () => {
  it('put/del/cas with revisions', () => {
    const kv = new KvStore();
    const r = run(kv, [
      { op: 'put', key: 'a', value: '1' },
      { op: 'cas', key: 'a', expect: '2', value: '3' },
      { op: 'cas', key: 'a', expect: '1', value: '3' },
      { op: 'cas', key: 'b', expect: null, value: 'x' },
      { op: 'del', key: 'zz' },
      { op: 'del', key: 'b' },
    ]);
    assert.deepEqual(r, [
      { op: 'put', revision: 1 },
      { op: 'cas', revision: 1, ok: false, current: '1' },
      { op: 'cas', revision: 3, ok: true, current: '3' },
      { op: 'cas', revision: 4, ok: true, current: 'x' },
      { op: 'del', revision: 4, deleted: false },
      { op: 'del', revision: 6, deleted: true },
    ]);
    assert.equal(kv.get('a'), '3');
    assert.equal(kv.get('b'), undefined);
  });

  it('is deterministic and snapshot/restore round-trips canonically', () => {
    const cmds: KvCommand[] = [];
    for (let i = 0; i < 200; i++) cmds.push({ op: 'put', key: `k${(i * 7) % 50}`, value: `v${i}` });
    for (let i = 0; i < 50; i += 3) cmds.push({ op: 'del', key: `k${i}` });
    const a = new KvStore();
    const b = new KvStore();
    run(a, cmds);
    run(b, cmds);
    assert.ok(Buffer.from(a.snapshot()).equals(Buffer.from(b.snapshot())));
    const c = new KvStore();
    c.restore(a.snapshot());
    assert.ok(Buffer.from(c.snapshot()).equals(Buffer.from(a.snapshot())));
    assert.equal(c.revision, a.revision);
    c.restore(new Uint8Array());
    assert.equal(c.size, 0);
  });
});
