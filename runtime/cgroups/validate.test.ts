import assert from 'node:assert/strict';
import { CgroupError } from './types.js';
import { cpusetListProblem, normaliseGroupPath, validateResources } from './validate.js';

function rejects(r: Parameters<typeof validateResources>[0], field: string, message: RegExp): void {
  assert.throws(
    () => validateResources(r),
    (e: unknown) => e instanceof CgroupError && e.field === field && message.test(e.message),
  );
}

describe('cgroups/validate', () => {
  it('accepts a full, sensible set and the unset/unlimited values', () => {
    const accepted: Parameters<typeof validateResources>[0][] = [
      {
        memory: { limit: 256 << 20, swap: 512 << 20, reservation: 128 << 20 },
        cpu: { shares: 512, quota: 50_000, period: 100_000, cpus: '0-1,3', mems: '0' },
        pids: { limit: 100 },
      },
      { memory: { limit: -1, swap: -1, reservation: -1 }, cpu: { quota: -1, shares: 0, period: 0, cpus: '' }, pids: { limit: 0 } },
      { pids: { limit: -1 } },
      {},
    ];
    for (const r of accepted) {
      const before = JSON.stringify(r);
      assert.doesNotThrow(() => validateResources(r), JSON.stringify(r));
      // Validation only reads: what it accepts reaches the cgroup writer unchanged.
      assert.equal(JSON.stringify(r), before);
    }
  });

  it('names the field and the value for a negative memory limit', () => {
    assert.throws(() => validateResources({ memory: { limit: -5 } }), {
      message: 'linux.resources.memory.limit: must be ≥ 0 or -1, got -5',
    });
  });

  it('rejects swap below the limit, and reservation above it', () => {
    rejects({ memory: { limit: 200, swap: 100 } }, 'linux.resources.memory.swap', /≥ memory\.limit \(200\), got 100/);
    rejects({ memory: { limit: 200, reservation: 300 } }, 'linux.resources.memory.reservation', /≤ memory\.limit/);
  });

  it('rejects non-integers', () => {
    rejects({ memory: { limit: 1.5 } }, 'linux.resources.memory.limit', /integer/);
    rejects({ cpu: { shares: Number.NaN } }, 'linux.resources.cpu.shares', /integer/);
  });

  it('bounds shares, quota and period', () => {
    rejects({ cpu: { shares: 1 } }, 'linux.resources.cpu.shares', /2\.\.262144/);
    rejects({ cpu: { shares: 262145 } }, 'linux.resources.cpu.shares', /got 262145/);
    rejects({ cpu: { quota: 999 } }, 'linux.resources.cpu.quota', /≥ 1000/);
    rejects({ cpu: { quota: -2 } }, 'linux.resources.cpu.quota', /got -2/);
    rejects({ cpu: { period: 999 } }, 'linux.resources.cpu.period', /1000\.\.1000000/);
    rejects({ cpu: { period: 1_000_001 } }, 'linux.resources.cpu.period', /got 1000001/);
  });

  it('checks cpuset syntax', () => {
    assert.equal(cpusetListProblem('0'), undefined);
    assert.equal(cpusetListProblem('0-3,5,7-8'), undefined);
    for (const bad of ['a', '0-', '-1', '0,,1', '1 2', '3-1']) assert.ok(cpusetListProblem(bad), bad);
    rejects({ cpu: { cpus: '0-x' } }, 'linux.resources.cpu.cpus', /"0-x"/);
    rejects({ cpu: { mems: '2-1' } }, 'linux.resources.cpu.mems', /backwards/);
  });

  it('rejects pids below -1', () => {
    rejects({ pids: { limit: -2 } }, 'linux.resources.pids.limit', /got -2/);
  });

  it('normalises group paths and refuses escapes', () => {
    assert.equal(normaliseGroupPath('tsswarm/abc'), 'tsswarm/abc');
    assert.equal(normaliseGroupPath('/tsswarm/abc/'), 'tsswarm/abc');
    for (const bad of ['', '/', 'a/../b', '..', 'a//b', './a']) {
      assert.throws(() => normaliseGroupPath(bad), (e: unknown) => e instanceof CgroupError && e.field === 'linux.cgroupsPath', bad);
    }
  });
});
