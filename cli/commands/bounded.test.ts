import assert from 'node:assert/strict';
import { inOrderBounded, type Outcome } from './bounded.js';

/** A call per item that finishes only when the test says so, recording how many run at once. */
function gated<I>() {
  const open = new Map<I, { resolve: () => void; reject: (e: Error) => void }>();
  let inFlight = 0;
  let peak = 0;
  const fn = (item: I): Promise<I> => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    return new Promise<I>((resolve, reject) => {
      open.set(item, {
        resolve: () => {
          inFlight--;
          resolve(item);
        },
        reject: (e) => {
          inFlight--;
          reject(e);
        },
      });
    });
  };
  return { fn, open, peak: () => peak };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('inOrderBounded (the CLI fan-out of stop/rm)', function () {
  it('never has more than the limit in flight, and starts the next as one finishes', async function () {
    const g = gated<number>();
    const items = Array.from({ length: 7 }, (_, i) => i);
    const seen: number[] = [];
    const done = inOrderBounded(items, 3, g.fn, (i) => seen.push(i));
    await tick();
    assert.deepEqual([...g.open.keys()], [0, 1, 2]);
    g.open.get(1)!.resolve();
    await tick();
    assert.deepEqual([...g.open.keys()], [0, 1, 2, 3]);
    for (const i of items) {
      g.open.get(i)!.resolve();
      await tick();
    }
    await done;
    assert.equal(g.peak(), 3);
    assert.deepEqual(seen, items);
  });

  it('reports in item order even when later items finish first, failures included', async function () {
    const g = gated<string>();
    const seen: [string, Outcome<string>][] = [];
    const done = inOrderBounded(['a', 'b', 'c'], 10, g.fn, (i, o) => seen.push([i, o]));
    await tick();
    g.open.get('c')!.resolve();
    g.open.get('b')!.reject(new Error('No such container: b'));
    await tick();
    assert.equal(seen.length, 0, 'nothing is reported before the first item is done');
    g.open.get('a')!.resolve();
    await done;
    assert.deepEqual(
      seen.map(([i, o]) => [i, o.ok ? o.value : (o.error as Error).message]),
      [
        ['a', 'a'],
        ['b', 'No such container: b'],
        ['c', 'c'],
      ],
    );
  });

  it('refuses a limit that is not a positive integer, naming it', async function () {
    await assert.rejects(
      inOrderBounded(
        [1],
        0,
        async (x) => x,
        () => undefined,
      ),
      /limit must be a positive integer, not 0/,
    );
  });

  it('does nothing for no items', async function () {
    let calls = 0;
    await inOrderBounded(
      [],
      5,
      async () => calls++,
      () => calls++,
    );
    assert.equal(calls, 0);
  });
});
