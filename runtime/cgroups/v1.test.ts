import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fakeV1Tree, type FakeTree } from './fake-cgroupfs.js';
import { CgroupError } from './types.js';
import { CgroupV1 } from './v1.js';

const HIER = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'freezer', 'devices'];
const trim = (s: string): string => s.trim();

describe('cgroups/v1 backend (fake tree)', () => {
  let tree: FakeTree;
  let cg: CgroupV1;
  afterEach(() => tree.cleanup());

  describe('separate cpu and cpuacct (this host)', () => {
    beforeEach(() => {
      tree = fakeV1Tree();
      cg = new CgroupV1({ root: tree.root, ops: tree.ops });
    });

    it('creates the group in every hierarchy and writes the limits', async () => {
      await cg.create('tsswarm/c1', {
        memory: { limit: 64 << 20, swap: 128 << 20, reservation: 32 << 20 },
        cpu: { shares: 512, quota: 50_000, period: 100_000 },
        pids: { limit: 50 },
      });
      for (const h of HIER) assert.ok(tree.exists(`${h}/tsswarm/c1`), h);
      assert.equal(tree.read('memory/tsswarm/c1/memory.limit_in_bytes'), String(64 << 20));
      assert.equal(tree.read('memory/tsswarm/c1/memory.memsw.limit_in_bytes'), String(128 << 20));
      assert.equal(tree.read('memory/tsswarm/c1/memory.soft_limit_in_bytes'), String(32 << 20));
      assert.equal(tree.read('cpu/tsswarm/c1/cpu.shares'), '512');
      assert.equal(tree.read('cpu/tsswarm/c1/cpu.cfs_quota_us'), '50000');
      assert.equal(tree.read('cpu/tsswarm/c1/cpu.cfs_period_us'), '100000');
      assert.equal(tree.read('pids/tsswarm/c1/pids.max'), '50');
      assert.equal(await cg.exists('tsswarm/c1'), true);
    });

    it('fills the cpuset of the parent from the root and lets children inherit it', async () => {
      await cg.create('tsswarm/c1', {});
      assert.equal(trim(tree.read('cpuset/tsswarm/cpuset.cpus')), '0-1');
      assert.equal(trim(tree.read('cpuset/tsswarm/cpuset.mems')), '0');
      assert.equal(tree.read('cpuset/tsswarm/cgroup.clone_children'), '1');
      assert.equal(trim(tree.read('cpuset/tsswarm/c1/cpuset.cpus')), '0-1');
      assert.equal(trim(tree.read('cpuset/tsswarm/c1/cpuset.mems')), '0');
      await cg.create('tsswarm/c2', { cpu: { cpus: '1' } });
      assert.equal(tree.read('cpuset/tsswarm/c2/cpuset.cpus'), '1');
      assert.equal(trim(tree.read('cpuset/tsswarm/c2/cpuset.mems')), '0');
    });

    it('fills the cpuset of a group made directly under the root', async () => {
      await cg.create('lonely', {});
      assert.equal(trim(tree.read('cpuset/lonely/cpuset.cpus')), '0-1');
      assert.equal(trim(tree.read('cpuset/lonely/cpuset.mems')), '0');
    });

    it('lists one procs file per hierarchy and adds a process to each', async () => {
      await cg.create('tsswarm/c1', {});
      const files = cg.procsFiles('tsswarm/c1');
      assert.equal(files.length, 7);
      await cg.addProcess('tsswarm/c1', 4242);
      for (const f of files) assert.equal(fs.readFileSync(f, 'utf8'), '4242');
      assert.deepEqual(await cg.pids('tsswarm/c1'), [4242]);
    });

    it('validates before creating anything', async () => {
      await assert.rejects(cg.create('tsswarm/bad', { memory: { limit: -5 } }), (e: unknown) =>
        e instanceof CgroupError && e.field === 'linux.resources.memory.limit');
      for (const h of HIER) assert.ok(!tree.exists(`${h}/tsswarm`), h);
    });

    it('rolls back everything it made when a step fails', async () => {
      tree.cleanup();
      tree = fakeV1Tree({ failMkdirIn: 'pids' });
      cg = new CgroupV1({ root: tree.root, ops: tree.ops });
      await assert.rejects(cg.create('tsswarm/c1', { memory: { limit: 1 << 20 } }), /EACCES.*pids\/tsswarm/);
      for (const h of HIER) assert.ok(!tree.exists(`${h}/tsswarm`), h);
    });

    it('recovers when a prepared parent was removed behind its back', async () => {
      await cg.create('tsswarm/c1', {});
      await cg.destroy('tsswarm/c1');
      for (const h of HIER) assert.equal(tree.ops.removeDir(`${tree.root}/${h}/tsswarm`), 'removed');
      await cg.create('tsswarm/c2', {});
      assert.equal(trim(tree.read('cpuset/tsswarm/c2/cpuset.cpus')), '0-1');
    });

    it('updates limits, reading the current limit to order memory and memsw', async () => {
      await cg.create('tsswarm/c1', { memory: { limit: 1000, swap: 2000 } });
      await cg.update('tsswarm/c1', { memory: { limit: 4000, swap: 8000 }, pids: { limit: -1 } });
      assert.equal(tree.read('memory/tsswarm/c1/memory.limit_in_bytes'), '4000');
      assert.equal(tree.read('memory/tsswarm/c1/memory.memsw.limit_in_bytes'), '8000');
      assert.equal(tree.read('pids/tsswarm/c1/pids.max'), 'max');
      await assert.rejects(cg.update('tsswarm/nope', { pids: { limit: 1 } }), /update cgroup tsswarm\/nope: no such group/);
    });

    it('reads stats and OOM kills from the hierarchies', async () => {
      await cg.create('tsswarm/c1', { memory: { limit: 1 << 20 } });
      tree.write('memory/tsswarm/c1/memory.usage_in_bytes', '4096\n');
      tree.write('memory/tsswarm/c1/memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
      tree.write('cpuacct/tsswarm/c1/cpuacct.usage', '123\n');
      tree.write('pids/tsswarm/c1/pids.current', '1\n');
      const s = await cg.stats('tsswarm/c1');
      assert.equal(s.memory.usage, 4096);
      assert.equal(s.memory.limit, 1 << 20);
      assert.equal(s.memory.oomKills, 2);
      assert.equal(s.cpu.usageNs, 123);
      assert.deepEqual(s.pids, { current: 1, limit: -1 });
      assert.equal(await cg.oomKills('tsswarm/c1'), 2);
      await assert.rejects(cg.stats('tsswarm/none'), /no such group/);
    });

    it('freezes and thaws through freezer.state', async () => {
      await cg.create('tsswarm/c1', {});
      await cg.freeze('tsswarm/c1');
      assert.equal(tree.read('freezer/tsswarm/c1/freezer.state'), 'FROZEN');
      await cg.thaw('tsswarm/c1');
      assert.equal(tree.read('freezer/tsswarm/c1/freezer.state'), 'THAWED');
    });

    it('destroys the group (and nested children) everywhere, keeps the parent, and is idempotent', async () => {
      await cg.create('tsswarm/c1', {});
      await cg.create('tsswarm/c2', {});
      tree.ops.makeDir(`${tree.root}/memory/tsswarm/c1/inner`);
      await cg.destroy('tsswarm/c1');
      for (const h of HIER) {
        assert.ok(!tree.exists(`${h}/tsswarm/c1`), h);
        assert.ok(tree.exists(`${h}/tsswarm/c2`), h);
      }
      assert.equal(await cg.exists('tsswarm/c1'), false);
      await cg.destroy('tsswarm/c1');
      await cg.destroy('never/existed');
    });

    it('writes the device rules to devices.deny and devices.allow, in order, after a reset', async () => {
      await cg.create('tsswarm/c1', {
        devices: [
          { allow: false, access: 'rwm' },
          { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
          { allow: true, type: 'b', access: 'm' },
        ],
      });
      assert.deepEqual(
        tree.writes.filter((w) => w.file.startsWith('devices/')),
        [
          { file: 'devices/tsswarm/c1/devices.deny', value: 'a' },
          { file: 'devices/tsswarm/c1/devices.allow', value: 'c 1:3 rwm' },
          { file: 'devices/tsswarm/c1/devices.allow', value: 'b *:* m' },
        ],
      );
      tree.writes.length = 0;
      // A later update starts from a reset again, so the result never depends on earlier rules.
      await cg.update('tsswarm/c1', { devices: [{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 1 }] });
      assert.deepEqual(tree.writes.map((w) => [w.file, w.value]), [
        ['devices/tsswarm/c1/devices.allow', 'a'],
        ['devices/tsswarm/c1/devices.deny', 'c 1:1 rwm'],
      ]);
    });

    it('leaves the devices group alone without rules', async () => {
      await cg.create('tsswarm/c1', { pids: { limit: 5 } });
      assert.ok(tree.exists('devices/tsswarm/c1'), 'the group is still made, so the container is in it');
      assert.deepEqual(tree.writes.filter((w) => w.file.startsWith('devices/')), []);
    });

    it('refuses device rules when the devices hierarchy is not in use, before making anything', async () => {
      cg = new CgroupV1({ root: tree.root, ops: tree.ops, controllers: ['memory', 'pids'] });
      await assert.rejects(cg.create('tsswarm/c1', { devices: [{ allow: false }] }), (e: unknown) =>
        e instanceof CgroupError && e.field === 'linux.resources.devices' && /devices controller is not mounted/.test(e.message));
      assert.ok(!tree.exists('memory/tsswarm'));
    });

    it('skips memsw when the host has no swap accounting', async () => {
      tree.cleanup();
      tree = fakeV1Tree({ noMemsw: true });
      cg = new CgroupV1({ root: tree.root, ops: tree.ops });
      await cg.create('tsswarm/c1', { memory: { limit: 1000, swap: 2000 } });
      assert.equal(tree.read('memory/tsswarm/c1/memory.limit_in_bytes'), '1000');
      assert.ok(!tree.exists('memory/tsswarm/c1/memory.memsw.limit_in_bytes'));
    });
  });

  describe('co-mounted cpu,cpuacct', () => {
    beforeEach(() => {
      tree = fakeV1Tree({ coMountCpu: true });
      cg = new CgroupV1({ root: tree.root, ops: tree.ops });
    });

    it('treats cpu and cpuacct as one hierarchy', async () => {
      const real = fs.realpathSync(tree.root);
      assert.equal(cg.mounts['cpu'], `${real}/cpu,cpuacct`);
      assert.equal(cg.mounts['cpuacct'], `${real}/cpu,cpuacct`);
      await cg.create('tsswarm/c1', { cpu: { quota: 20_000 } });
      assert.equal(cg.procsFiles('tsswarm/c1').length, 6);
      assert.equal(tree.read('cpu,cpuacct/tsswarm/c1/cpu.cfs_quota_us'), '20000');
      tree.write('cpu,cpuacct/tsswarm/c1/cpuacct.usage', '77');
      assert.equal((await cg.stats('tsswarm/c1')).cpu.usageNs, 77);
      await cg.destroy('tsswarm/c1');
      assert.ok(!tree.exists('cpu,cpuacct/tsswarm/c1'));
    });
  });
});
