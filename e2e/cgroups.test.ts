// Real-kernel test of the cgroup layer on this host (hybrid: v1 controllers). Groups live only under a
// unique tsswarm-test-<random> parent, removed in after() even when a test fails.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { once } from 'node:events';
import { CgroupV1, detectCgroups, type CgroupManager } from '../runtime/cgroups/index.js';

const MiB = 1 << 20;

function sleeper(): ChildProcess & { pid: number } {
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  assert.ok(child.pid, 'sleep did not start');
  return child as ChildProcess & { pid: number };
}

const exited = (c: ChildProcess): Promise<unknown> =>
  c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : once(c, 'exit');

describe('e2e: cgroups on the real kernel', function () {
  const parent = `tsswarm-test-${randomBytes(4).toString('hex')}`;
  const group = `${parent}/c1`;
  let cg: CgroupManager;
  const children: ChildProcess[] = [];

  before(function () {
    if (process.getuid?.() !== 0) this.skip();
    cg = detectCgroups();
  });

  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    // Destroying the parent kills whatever is left and removes the children deepest first.
    if (cg) await cg.destroy(parent);
  });

  it('detects v1 on this hybrid host, with cpu and cpuacct as separate hierarchies', function () {
    if (!fs.existsSync('/sys/fs/cgroup/unified') || !fs.existsSync('/sys/fs/cgroup/memory')) this.skip();
    assert.equal(cg.version, 1);
    assert.ok(cg instanceof CgroupV1);
    assert.equal(cg.mounts['cpu'], '/sys/fs/cgroup/cpu');
    assert.equal(cg.mounts['cpuacct'], '/sys/fs/cgroup/cpuacct');
  });

  describe('v1', () => {
    before(function () {
      if (!cg || cg.version !== 1) this.skip();
    });
    const file = (ctrl: string, name: string): string =>
      fs.readFileSync(`/sys/fs/cgroup/${ctrl}/${group}/${name}`, 'utf8').trim();

    it('creates a group whose kernel files hold the limits', async () => {
      await cg.create(group, {
        memory: { limit: 64 * MiB, swap: 64 * MiB, reservation: 32 * MiB },
        cpu: { shares: 512, quota: 50_000, period: 100_000, cpus: '0' },
        pids: { limit: 32 },
      });
      assert.equal(file('memory', 'memory.limit_in_bytes'), String(64 * MiB));
      assert.equal(file('memory', 'memory.soft_limit_in_bytes'), String(32 * MiB));
      if (fs.existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes')) {
        assert.equal(file('memory', 'memory.memsw.limit_in_bytes'), String(64 * MiB));
      }
      assert.equal(file('cpu', 'cpu.shares'), '512');
      assert.equal(file('cpu', 'cpu.cfs_quota_us'), '50000');
      assert.equal(file('cpu', 'cpu.cfs_period_us'), '100000');
      assert.equal(file('cpuset', 'cpuset.cpus'), '0');
      assert.notEqual(file('cpuset', 'cpuset.mems'), '', 'mems inherited from the parent');
      assert.equal(file('pids', 'pids.max'), '32');
      assert.equal(await cg.exists(group), true);
    });

    it('raises memory and memsw in the right order on update', async () => {
      await cg.update(group, { memory: { limit: 128 * MiB, swap: 256 * MiB } });
      assert.equal(file('memory', 'memory.limit_in_bytes'), String(128 * MiB));
      await cg.update(group, { memory: { limit: 48 * MiB, swap: 48 * MiB }, cpu: { quota: -1 } });
      assert.equal(file('memory', 'memory.limit_in_bytes'), String(48 * MiB));
      assert.equal(file('cpu', 'cpu.cfs_quota_us'), '-1');
    });

    it('takes a process, and stats show it', async () => {
      const child = sleeper();
      children.push(child);
      await cg.addProcess(group, child.pid);
      const self = fs.readFileSync(`/proc/${child.pid}/cgroup`, 'utf8');
      for (const ctrl of ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'freezer']) {
        assert.match(self, new RegExp(`:${ctrl}:/${group}$`, 'm'), ctrl);
      }
      assert.deepEqual(await cg.pids(group), [child.pid]);
      const s = await cg.stats(group);
      assert.equal(s.pids.current, 1);
      assert.equal(s.pids.limit, 32);
      assert.equal(s.memory.limit, 48 * MiB);
      assert.ok(s.memory.usage >= 0);
      assert.ok(s.memory.stat && 'rss' in s.memory.stat);
      assert.equal(typeof s.cpu.usageNs, 'number');
      assert.equal(await cg.oomKills(group), 0);
    });

    it('freezes and thaws it', async () => {
      const [pid] = await cg.pids(group);
      await cg.freeze(group);
      assert.equal(file('freezer', 'freezer.state'), 'FROZEN');
      // A frozen task sits in the refrigerator, never runnable.
      const frozenState = /^State:\s+(\S)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      assert.notEqual(frozenState, 'R');
      await cg.thaw(group);
      assert.equal(file('freezer', 'freezer.state'), 'THAWED');
    });

    it('destroys a frozen, populated group: kills the process and leaves nothing', async () => {
      const child = children[0]!;
      await cg.freeze(group);
      await cg.destroy(group);
      await exited(child);
      assert.equal(child.signalCode, 'SIGKILL');
      for (const ctrl of ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'freezer']) {
        assert.ok(!fs.existsSync(`/sys/fs/cgroup/${ctrl}/${group}`), ctrl);
      }
      assert.equal(await cg.exists(group), false);
      await cg.destroy(group); // idempotent
    });

    it('destroys nested groups made inside the group, killing their members', async () => {
      const nest = `${parent}/nest`;
      await cg.create(nest, {});
      // As a container with its own cgroup namespace might: a child group in one hierarchy only.
      const inner = `/sys/fs/cgroup/memory/${nest}/inner`;
      fs.mkdirSync(inner);
      const child = sleeper();
      children.push(child);
      fs.writeFileSync(`${inner}/cgroup.procs`, String(child.pid));
      assert.deepEqual(await cg.pids(nest), [child.pid]);
      await cg.destroy(nest);
      await exited(child);
      assert.equal(child.signalCode, 'SIGKILL');
      assert.ok(!fs.existsSync(`/sys/fs/cgroup/memory/${nest}`));
      assert.equal(await cg.exists(nest), false);
    });

    it('rolls back when the kernel refuses a value', async () => {
      // cpu 63 does not exist on this VM: the cpuset.cpus write fails after every mkdir succeeded.
      await assert.rejects(cg.create(`${parent}/bad`, { cpu: { cpus: '63' } }), /linux\.resources\.cpu\.cpus: write "63" to \/sys\/fs\/cgroup\/cpuset\/.*\/bad\/cpuset\.cpus/);
      for (const ctrl of ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'freezer']) {
        assert.ok(!fs.existsSync(`/sys/fs/cgroup/${ctrl}/${parent}/bad`), ctrl);
      }
    });

    it('counts an OOM kill', async function () {
      if (fs.readFileSync('/proc/swaps', 'utf8').trim().split('\n').length > 1 &&
          !fs.existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes')) this.skip();
      const oom = `${parent}/oom`;
      await cg.create(oom, { memory: { limit: 16 * MiB, swap: 16 * MiB } });
      // The shell waits for a line on stdin, so it allocates only once it is inside the group.
      const child = spawn('sh', ['-c', 'read go; x=$(head -c 200000000 /dev/zero | tr "\\0" a); echo done'], { stdio: ['pipe', 'ignore', 'ignore'] });
      children.push(child);
      assert.ok(child.pid);
      await cg.addProcess(oom, child.pid);
      child.stdin!.end('go\n');
      await exited(child);
      assert.ok((await cg.oomKills(oom)) >= 1);
      assert.ok((await cg.stats(oom)).memory.oomKills >= 1);
      await cg.destroy(oom);
    });
  });
});
