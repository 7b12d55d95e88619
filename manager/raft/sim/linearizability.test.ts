import assert from 'node:assert/strict';
import { checkLinearizable, type HistoryOp } from './linearizability.js';

const put = (client: number, value: string, call: number, ret: number, key = 'k'): HistoryOp => ({ client, key, kind: 'put', value, call, ret });
const app = (client: number, value: string, call: number, ret: number, key = 'k'): HistoryOp => ({ client, key, kind: 'append', value, call, ret });
const get = (client: number, value: string, call: number, ret: number, key = 'k'): HistoryOp => ({ client, key, kind: 'get', value, call, ret });

describe('linearizability checker', () => {
  it('accepts a sequential history', () => {
    assert.ok(checkLinearizable([put(1, 'a', 0, 1), get(2, 'a', 2, 3), app(1, 'b', 4, 5), get(2, 'ab', 6, 7)]).ok);
  });

  it('accepts concurrent operations ordered either way', () => {
    // The read overlaps the write: seeing the old or the new value is fine.
    assert.ok(checkLinearizable([put(1, 'a', 0, 1), put(1, 'b', 2, 10), get(2, 'a', 3, 4)]).ok);
    assert.ok(checkLinearizable([put(1, 'a', 0, 1), put(1, 'b', 2, 10), get(2, 'b', 3, 4)]).ok);
  });

  it('rejects a stale read', () => {
    const r = checkLinearizable([put(1, 'a', 0, 1), put(1, 'b', 2, 3), get(2, 'a', 4, 5)]);
    assert.equal(r.ok, false);
  });

  it('rejects a lost write', () => {
    // Both appends were acknowledged, yet a later read misses one.
    const r = checkLinearizable([app(1, 'x', 0, 1), app(2, 'y', 0, 2), get(3, 'x', 5, 6)]);
    assert.equal(r.ok, false);
  });

  it('rejects a read of a value never written', () => {
    assert.equal(checkLinearizable([put(1, 'a', 0, 1), get(2, 'z', 2, 3)]).ok, false);
  });

  it('rejects reads that go back in time across clients', () => {
    // Once c2 saw b, c3 (starting later) must not see a.
    const h = [put(1, 'a', 0, 1), put(1, 'b', 2, 20), get(2, 'b', 3, 4), get(3, 'a', 5, 6)];
    assert.equal(checkLinearizable(h).ok, false);
  });

  it('rejects appends applied twice (a retried write not deduplicated)', () => {
    assert.equal(checkLinearizable([app(1, 'x', 0, 3), get(2, 'xx', 4, 5)]).ok, false);
  });

  it('treats an ambiguous write as taking effect or not', () => {
    const amb = app(1, 'x', 0, Infinity);
    assert.ok(checkLinearizable([amb, get(2, '', 1, 2), get(2, 'x', 3, 4)]).ok);
    assert.ok(checkLinearizable([amb, get(2, '', 1, 2), get(2, '', 3, 4)]).ok);
    // …but not taking effect and then vanishing.
    assert.equal(checkLinearizable([amb, get(2, 'x', 1, 2), get(2, '', 3, 4)]).ok, false);
  });

  it('checks keys independently', () => {
    const ok = checkLinearizable([put(1, 'a', 0, 1, 'k1'), put(1, 'b', 0, 1, 'k2'), get(2, 'a', 2, 3, 'k1'), get(2, 'b', 2, 3, 'k2')]);
    assert.ok(ok.ok);
    const bad = checkLinearizable([put(1, 'a', 0, 1, 'k1'), put(1, 'b', 0, 1, 'k2'), get(2, 'b', 2, 3, 'k1')]);
    assert.equal(bad.ok, false);
    assert.equal(bad.ok ? '' : bad.key, 'k1');
  });

  it('handles a larger concurrent history quickly', () => {
    const h: HistoryOp[] = [];
    let v = '';
    for (let i = 0; i < 300; i++) {
      const tok = `t${i};`;
      v += tok;
      // Each append overlaps its neighbours; each read sees the prefix up to its own time.
      h.push(app(i % 8, tok, i * 2, i * 2 + 3));
      h.push(get(100 + (i % 8), v, i * 2 + 3, i * 2 + 4));
    }
    assert.ok(checkLinearizable(h).ok);
  });
});
