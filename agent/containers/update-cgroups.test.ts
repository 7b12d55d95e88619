// The update plan applied by both cgroup backends on fake trees: this VM's v2 hierarchy is empty, so
// the e2e test exercises v1 live and this one the v2 files.
import assert from 'node:assert/strict';
import { fakeV2Tree } from '../../runtime/cgroups/fake-cgroupfs.js';
import { CgroupV2 } from '../../runtime/cgroups/v2.js';
import { planUpdate } from './update.js';

describe('docker update on the cgroup backends (fake trees)', () => {
  it('v2: memory.max, memory.swap.max, cpu.max and pids.max take the new values; a lifted pids limit is "max"', async () => {
    const tree = fakeV2Tree();
    try {
      const cg = new CgroupV2({ root: tree.root, ops: tree.ops });
      await cg.create('tsswarm/u1', { memory: { limit: 64 << 20 }, pids: { limit: 20 } });
      const p = planUpdate({ Memory: 64 << 20, PidsLimit: 20 }, 'busybox', { Memory: 96 << 20, MemorySwap: 192 << 20, NanoCpus: 1_500_000_000, PidsLimit: -1 });
      await cg.update('tsswarm/u1', p.resources!);
      assert.equal(tree.read('tsswarm/u1/memory.max'), String(96 << 20));
      assert.equal(tree.read('tsswarm/u1/memory.swap.max'), String(96 << 20));
      assert.equal(tree.read('tsswarm/u1/cpu.max'), '150000 100000');
      assert.equal(tree.read('tsswarm/u1/pids.max'), 'max');
    } finally {
      tree.cleanup();
    }
  });
});
