import assert from 'node:assert/strict';
import { toV1Writes, type V1Writes } from './v1-files.js';

const fresh = { memsw: true, currentMemoryLimit: Infinity };
const files = (w: V1Writes, c: keyof V1Writes): [string, string][] => (w[c] ?? []).map((x) => [x.file, x.value]);

describe('cgroups/v1-files', () => {
  it('maps every resource to its v1 file', () => {
    const w = toV1Writes(
      {
        memory: { limit: 1000, swap: 3000, reservation: 500 },
        cpu: { shares: 512, quota: 50_000, period: 200_000, cpus: '0-1', mems: '0' },
        pids: { limit: 64 },
      },
      fresh,
    );
    assert.deepEqual(files(w, 'memory'), [
      ['memory.limit_in_bytes', '1000'],
      ['memory.memsw.limit_in_bytes', '3000'],
      ['memory.soft_limit_in_bytes', '500'],
    ]);
    assert.deepEqual(files(w, 'cpu'), [
      ['cpu.shares', '512'],
      ['cpu.cfs_period_us', '200000'],
      ['cpu.cfs_quota_us', '50000'],
    ]);
    assert.deepEqual(files(w, 'cpuset'), [['cpuset.cpus', '0-1'], ['cpuset.mems', '0']]);
    assert.deepEqual(files(w, 'pids'), [['pids.max', '64']]);
  });

  it('writes nothing for an empty or all-unset request', () => {
    assert.deepEqual(toV1Writes({}, fresh), {});
    assert.deepEqual(toV1Writes({ memory: { limit: 0 }, cpu: { shares: 0, quota: 0, cpus: '' } }, fresh), {});
  });

  it('orders memory and memsw so memsw ≥ limit holds after each write', () => {
    // Raising memsw above the current limit: memsw first.
    const raise = toV1Writes({ memory: { limit: 2000, swap: 4000 } }, { memsw: true, currentMemoryLimit: 1000 });
    assert.deepEqual(files(raise, 'memory').map(([f]) => f), ['memory.memsw.limit_in_bytes', 'memory.limit_in_bytes']);
    // Lowering below the current limit (and on a fresh, unlimited group): limit first.
    const lower = toV1Writes({ memory: { limit: 500, swap: 800 } }, { memsw: true, currentMemoryLimit: 1000 });
    assert.deepEqual(files(lower, 'memory').map(([f]) => f), ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes']);
    const create = toV1Writes({ memory: { limit: 500, swap: 800 } }, fresh);
    assert.deepEqual(files(create, 'memory').map(([f]) => f), ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes']);
    // Unlimited swap: memsw first, always.
    const unl = toV1Writes({ memory: { limit: 500, swap: -1 } }, fresh);
    assert.deepEqual(files(unl, 'memory'), [['memory.memsw.limit_in_bytes', '-1'], ['memory.limit_in_bytes', '500']]);
  });

  it('makes unlimited memory imply unlimited memsw when swap is unspecified', () => {
    const w = toV1Writes({ memory: { limit: -1 } }, { memsw: true, currentMemoryLimit: 1000 });
    assert.deepEqual(files(w, 'memory'), [['memory.memsw.limit_in_bytes', '-1'], ['memory.limit_in_bytes', '-1']]);
  });

  it('skips memsw when the host has no swap accounting', () => {
    const w = toV1Writes({ memory: { limit: 1000, swap: 2000 } }, { memsw: false, currentMemoryLimit: Infinity });
    assert.deepEqual(files(w, 'memory'), [['memory.limit_in_bytes', '1000']]);
    assert.deepEqual(toV1Writes({ memory: { limit: -1 } }, { memsw: false, currentMemoryLimit: 5 }).memory?.length, 1);
  });

  it('writes unlimited values as the kernel wants them', () => {
    const w = toV1Writes({ cpu: { quota: -1 }, pids: { limit: -1 } }, fresh);
    assert.deepEqual(files(w, 'cpu'), [['cpu.cfs_quota_us', '-1']]);
    assert.deepEqual(files(w, 'pids'), [['pids.max', 'max']]);
    assert.deepEqual(files(toV1Writes({ pids: { limit: 0 } }, fresh), 'pids'), [['pids.max', 'max']]);
  });

  it('carries the OCI field for error messages', () => {
    const w = toV1Writes({ cpu: { quota: 20_000 } }, fresh);
    assert.equal(w.cpu?.[0]?.field, 'linux.resources.cpu.quota');
  });
});
