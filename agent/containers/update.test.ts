import assert from 'node:assert/strict';
import { UpdateError, parseUpdateBody, planUpdate } from './update.js';
import type { HostConfig } from './create-config.js';

describe('planUpdate (docker update)', () => {
  const base: HostConfig = { Memory: 64 << 20, RestartPolicy: { Name: 'no', MaximumRetryCount: 0 } };

  it('leaves zero/absent fields as they are and writes the merged limits, a lifted pids limit as -1', () => {
    const p = planUpdate(base, 'busybox', parseUpdateBody({ Memory: 0, CpuShares: 0, NanoCpus: 500_000_000, PidsLimit: -1, Devices: null }));
    assert.equal(p.hostConfig.Memory, 64 << 20);
    assert.equal(p.hostConfig.NanoCpus, 500_000_000);
    assert.equal(p.hostConfig.PidsLimit, 0);
    assert.deepEqual(p.resources, { memory: { limit: 64 << 20 }, cpu: { quota: 50_000, period: 100_000 }, pids: { limit: -1 } });
  });

  it('a restart-policy-only update touches no cgroup', () => {
    const p = planUpdate(base, 'busybox', parseUpdateBody({ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } }));
    assert.equal(p.resources, undefined);
    assert.deepEqual(p.hostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
  });

  it("refuses with Docker's wording: memory above the set swap, NanoCpus over a set quota, restart with --rm", () => {
    const withSwap: HostConfig = { ...base, MemorySwap: 128 << 20 };
    assert.throws(() => planUpdate(withSwap, 'busybox', { Memory: 256 << 20 }), (e: unknown) => e instanceof UpdateError && /smaller than already set memoryswap/.test(e.message));
    assert.throws(() => planUpdate({ CpuQuota: 50_000 }, 'busybox', { NanoCpus: 1e9 }), /Nano CPUs cannot be updated as CPU Quota has already been set/);
    assert.throws(() => planUpdate({ AutoRemove: true }, 'busybox', { RestartPolicy: { Name: 'always' } }), /AutoRemove is enabled/);
    assert.throws(() => planUpdate(base, 'busybox', { Memory: 1 << 20 }), /Minimum memory limit allowed is 6MB/);
  });

  it('names the bad field of a malformed body', () => {
    assert.throws(() => parseUpdateBody({ Memory: 'lots' }), (e: unknown) => e instanceof UpdateError && /Memory/.test(e.message));
  });
});
