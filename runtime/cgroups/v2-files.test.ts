import assert from 'node:assert/strict';
import { CgroupError } from './types.js';
import { controllerOf, sharesToWeight, swapToV2, toV2Writes } from './v2-files.js';

const pairs = (r: Parameters<typeof toV2Writes>[0]): [string, string][] => toV2Writes(r).map((w) => [w.file, w.value]);

describe('cgroups/v2-files', () => {
  it('maps every resource to its v2 file', () => {
    assert.deepEqual(
      pairs({
        memory: { limit: 1000, swap: 3000, reservation: 500 },
        cpu: { shares: 1024, quota: 50_000, period: 100_000, cpus: '0-1', mems: '0' },
        pids: { limit: 64 },
      }),
      [
        ['memory.max', '1000'],
        ['memory.swap.max', '2000'],
        ['memory.low', '500'],
        ['cpu.max', '50000 100000'],
        ['cpu.weight', '39'],
        ['cpuset.cpus', '0-1'],
        ['cpuset.mems', '0'],
        ['pids.max', '64'],
      ],
    );
  });

  it('converts shares to weight as runc does', () => {
    assert.equal(sharesToWeight(2), 1);
    assert.equal(sharesToWeight(262144), 10000);
    assert.equal(sharesToWeight(1024), 39);
    assert.equal(sharesToWeight(512), 20);
  });

  it('writes cpu.max as "quota period", "max period", or alone without a period', () => {
    assert.deepEqual(pairs({ cpu: { quota: -1, period: 50_000 } }), [['cpu.max', 'max 50000']]);
    assert.deepEqual(pairs({ cpu: { period: 50_000 } }), [['cpu.max', 'max 50000']]);
    assert.deepEqual(pairs({ cpu: { quota: 20_000 } }), [['cpu.max', '20000']]);
  });

  it('uses OCI swap semantics (memory+swap) for memory.swap.max', () => {
    assert.equal(swapToV2(3000, 1000), '2000');
    assert.equal(swapToV2(1000, 1000), '0');
    assert.equal(swapToV2(-1, 1000), 'max');
    assert.equal(swapToV2(0, 1000), undefined);
    assert.equal(swapToV2(0, -1), 'max'); // unlimited memory ⇒ unlimited swap
    assert.throws(() => swapToV2(3000, 0), (e: unknown) => e instanceof CgroupError && e.field === 'linux.resources.memory.swap');
    assert.throws(() => swapToV2(500, 1000), /≥ memory\.limit/);
  });

  it('writes unlimited values as "max" and reservation -1 as no protection', () => {
    assert.deepEqual(pairs({ memory: { limit: -1, reservation: -1 }, pids: { limit: 0 } }), [
      ['memory.max', 'max'],
      ['memory.swap.max', 'max'],
      ['memory.low', '0'],
      ['pids.max', 'max'],
    ]);
  });

  it('writes nothing for unset values', () => {
    assert.deepEqual(pairs({ memory: {}, cpu: { shares: 0, quota: 0, cpus: '' } }), []);
  });

  it('knows which controller owns a file', () => {
    assert.equal(controllerOf('memory.swap.max'), 'memory');
    assert.equal(controllerOf('cpuset.cpus'), 'cpuset');
  });
});
