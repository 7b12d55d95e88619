import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fakeV2Tree, type FakeTree } from './fake-cgroupfs.js';
import { CgroupError } from './types.js';
import { deviceProgram, encodeProgram } from './devices-bpf.js';
import { CgroupV2 } from './v2.js';

/** Plays the kernel: waits (by polling, without timing anything) until a file holds `value`. */
async function until(tree: FakeTree, rel: string, value: string): Promise<void> {
  while (!tree.exists(rel) || tree.read(rel).trim() !== value) await new Promise((r) => setImmediate(r));
}

describe('cgroups/v2 backend (fake tree)', () => {
  let tree: FakeTree;
  let cg: CgroupV2;
  beforeEach(() => {
    tree = fakeV2Tree();
    cg = new CgroupV2({ root: tree.root, ops: tree.ops });
  });
  afterEach(() => tree.cleanup());

  it('enables controllers top-down and writes the limits', async () => {
    await cg.create('tsswarm/c1', {
      memory: { limit: 64 << 20, swap: 96 << 20, reservation: 16 << 20 },
      cpu: { shares: 1024, quota: 50_000, period: 100_000, cpus: '0', mems: '0' },
      pids: { limit: 50 },
    });
    assert.equal(tree.read('cgroup.subtree_control'), '+cpu +cpuset +memory +pids');
    assert.equal(tree.read('tsswarm/cgroup.subtree_control'), '+cpu +cpuset +memory +pids');
    assert.equal(tree.read('tsswarm/c1/cgroup.subtree_control'), '', 'the leaf delegates nothing');
    assert.equal(tree.read('tsswarm/c1/memory.max'), String(64 << 20));
    assert.equal(tree.read('tsswarm/c1/memory.swap.max'), String(32 << 20));
    assert.equal(tree.read('tsswarm/c1/memory.low'), String(16 << 20));
    assert.equal(tree.read('tsswarm/c1/cpu.max'), '50000 100000');
    assert.equal(tree.read('tsswarm/c1/cpu.weight'), '39');
    assert.equal(tree.read('tsswarm/c1/cpuset.cpus'), '0');
    assert.equal(tree.read('tsswarm/c1/cpuset.mems'), '0');
    assert.equal(tree.read('tsswarm/c1/pids.max'), '50');
    assert.deepEqual(cg.procsFiles('tsswarm/c1'), [`${tree.root}/tsswarm/c1/cgroup.procs`]);
  });

  describe('device rules', () => {
    const rules = [{ allow: false }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }] as const;
    let attached: { dir: string; program: Buffer; existed: boolean }[];
    beforeEach(() => {
      attached = [];
      cg = new CgroupV2({
        root: tree.root,
        ops: tree.ops,
        attachDeviceProgram: (dir, program) => attached.push({ dir, program, existed: fs.existsSync(dir) }),
      });
    });

    it('attaches the generated program to the new group', async () => {
      await cg.create('tsswarm/c1', { devices: [...rules] });
      assert.equal(attached.length, 1);
      assert.equal(attached[0]!.dir, `${tree.root}/tsswarm/c1`);
      assert.ok(attached[0]!.existed);
      assert.deepEqual(attached[0]!.program, encodeProgram(deviceProgram([...rules])));
      await cg.update('tsswarm/c1', { devices: [{ allow: true }] });
      assert.equal(attached.length, 2);
      assert.deepEqual(attached[1]!.program, encodeProgram(deviceProgram([{ allow: true }])));
    });

    it('attaches nothing without rules', async () => {
      await cg.create('tsswarm/c1', { pids: { limit: 3 } });
      await cg.update('tsswarm/c1', { pids: { limit: 4 } });
      assert.deepEqual(attached, []);
    });

    it('refuses bad rules before making anything', async () => {
      await assert.rejects(cg.create('tsswarm/c1', { devices: [{ allow: true, type: 'c', access: 'rx' }] }), (e: unknown) =>
        e instanceof CgroupError && e.field === 'linux.resources.devices[0].access');
      assert.ok(!tree.exists('tsswarm'));
      assert.deepEqual(attached, []);
    });

    it('rolls back the group when the program cannot be attached', async () => {
      cg = new CgroupV2({
        root: tree.root,
        ops: tree.ops,
        attachDeviceProgram: () => {
          throw new CgroupError('linux.resources.devices', 'no bpf here');
        },
      });
      await assert.rejects(cg.create('tsswarm/c1', { devices: [...rules] }), /no bpf here/);
      assert.ok(!tree.exists('tsswarm'));
    });
  });

  it('writes "max" for unlimited values', async () => {
    await cg.create('tsswarm/c1', { memory: { limit: -1 }, cpu: { quota: -1, period: 100_000 }, pids: { limit: -1 } });
    assert.equal(tree.read('tsswarm/c1/memory.max'), 'max');
    assert.equal(tree.read('tsswarm/c1/memory.swap.max'), 'max');
    assert.equal(tree.read('tsswarm/c1/cpu.max'), 'max 100000');
    assert.equal(tree.read('tsswarm/c1/pids.max'), 'max');
  });

  it('only enables controllers the root offers, and refuses limits for missing ones', async () => {
    tree.cleanup();
    tree = fakeV2Tree({ controllers: 'cpu pids' });
    cg = new CgroupV2({ root: tree.root, ops: tree.ops });
    await assert.rejects(cg.create('tsswarm/c1', { memory: { limit: 1 << 20 } }), (e: unknown) =>
      e instanceof CgroupError && e.field === 'linux.resources.memory.limit' && /memory controller/.test(e.message));
    assert.ok(!tree.exists('tsswarm'));
    await cg.create('tsswarm/c1', { pids: { limit: 5 } });
    assert.equal(tree.read('tsswarm/cgroup.subtree_control'), '+cpu +pids');
  });

  it('refuses a swap limit without a memory limit (nothing created)', async () => {
    await assert.rejects(cg.create('tsswarm/c1', { memory: { swap: 1 << 20 } }), /linux\.resources\.memory\.swap: a swap limit needs a memory limit/);
    assert.ok(!tree.exists('tsswarm'));
  });

  it('skips memory.swap.max when the kernel has no swap accounting', async () => {
    const ops = { ...tree.ops, makeDir: (dir: string) => {
      const made = tree.ops.makeDir(dir);
      fs.rmSync(`${dir}/memory.swap.max`, { force: true });
      return made;
    } };
    cg = new CgroupV2({ root: tree.root, ops });
    await cg.create('tsswarm/c1', { memory: { limit: 1000, swap: 2000 } });
    assert.equal(tree.read('tsswarm/c1/memory.max'), '1000');
  });

  it('rolls back the leaf and the parents it made when a write fails', async () => {
    const ops = { ...tree.ops, makeDir: (dir: string) => {
      const made = tree.ops.makeDir(dir);
      if (dir.endsWith('/c1')) fs.rmSync(`${dir}/pids.max`);
      return made;
    } };
    cg = new CgroupV2({ root: tree.root, ops });
    await assert.rejects(cg.create('tsswarm/c1', { pids: { limit: 5 } }), /linux\.resources\.pids\.limit: write "5" to .*tsswarm\/c1\/pids\.max: ENOENT/);
    assert.ok(!tree.exists('tsswarm'));
  });

  it('keeps a parent it did not make when rolling back', async () => {
    await cg.create('tsswarm/c0', {});
    const ops = { ...tree.ops, makeDir: (dir: string) => {
      const made = tree.ops.makeDir(dir);
      if (dir.endsWith('/c1')) fs.rmSync(`${dir}/pids.max`);
      return made;
    } };
    const other = new CgroupV2({ root: tree.root, ops });
    await assert.rejects(other.create('tsswarm/c1', { pids: { limit: 5 } }), /ENOENT/);
    assert.ok(!tree.exists('tsswarm/c1'));
    assert.ok(tree.exists('tsswarm/c0'));
  });

  it('adds processes, lists pids recursively, reads stats and OOM kills', async () => {
    await cg.create('tsswarm/c1', { memory: { limit: 1 << 20 }, pids: { limit: 10 } });
    await cg.addProcess('tsswarm/c1', 1111);
    assert.equal(tree.read('tsswarm/c1/cgroup.procs'), '1111');
    tree.ops.makeDir(`${tree.root}/tsswarm/c1/inner`);
    tree.write('tsswarm/c1/inner/cgroup.procs', '2222\n');
    assert.deepEqual(await cg.pids('tsswarm/c1'), [1111, 2222]);
    tree.write('tsswarm/c1/memory.current', '8192\n');
    tree.write('tsswarm/c1/memory.events', 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
    tree.write('tsswarm/c1/cpu.stat', 'usage_usec 10\nuser_usec 6\nsystem_usec 4\nnr_throttled 2\n');
    tree.write('tsswarm/c1/pids.current', '2\n');
    const s = await cg.stats('tsswarm/c1');
    assert.equal(s.memory.usage, 8192);
    assert.equal(s.memory.limit, 1 << 20);
    assert.equal(s.memory.failcnt, 3);
    assert.equal(s.memory.oomKills, 1);
    assert.equal(s.memory.maxUsage, undefined, 'no memory.peak on this kernel');
    assert.deepEqual(s.cpu, { usageNs: 10_000, userNs: 6000, systemNs: 4000, throttledPeriods: 2, throttledTimeNs: undefined });
    assert.deepEqual(s.pids, { current: 2, limit: 10 });
    assert.equal(await cg.oomKills('tsswarm/c1'), 1);
  });

  it('freezes via cgroup.freeze and waits until cgroup.events says frozen', async () => {
    await cg.create('tsswarm/c1', {});
    let done = false;
    const freezing = cg.freeze('tsswarm/c1').then(() => (done = true));
    await until(tree, 'tsswarm/c1/cgroup.freeze', '1');
    // Give the poller a few turns to prove it does not return before the kernel reports frozen.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    assert.equal(done, false);
    tree.write('tsswarm/c1/cgroup.events', 'populated 1\nfrozen 1\n');
    await freezing;
    const thawing = cg.thaw('tsswarm/c1');
    await until(tree, 'tsswarm/c1/cgroup.freeze', '0');
    tree.write('tsswarm/c1/cgroup.events', 'populated 1\nfrozen 0\n');
    await thawing;
  });

  it('destroys a populated group with cgroup.kill, waits for it to empty, and is idempotent', async () => {
    await cg.create('tsswarm/c1', {});
    // Our own PID: the kill loop never signals itself, so the fake kernel's word is what empties it.
    tree.write('tsswarm/c1/cgroup.procs', `${process.pid}\n`);
    const destroying = cg.destroy('tsswarm/c1');
    await until(tree, 'tsswarm/c1/cgroup.kill', '1');
    tree.write('tsswarm/c1/cgroup.procs', '');
    await destroying;
    assert.ok(!tree.exists('tsswarm/c1'));
    assert.ok(tree.exists('tsswarm'));
    await cg.destroy('tsswarm/c1');
  });
});
