// Real-kernel test of the cgroup layer on this host (hybrid: v1 controllers). Groups live only under a
// unique tsswarm-test-<random> parent, removed in after() even when a test fails.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { CgroupV1, CgroupV2, DEFAULT_DEVICE_RULES, detectCgroups, type CgroupManager } from '../runtime/cgroups/index.js';
import { devbpfPath, devbpfSource, helperAttach } from '../runtime/cgroups/devbpf.js';

const MiB = 1 << 20;

function sleeper(): ChildProcess & { pid: number } {
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  assert.ok(child.pid, 'sleep did not start');
  return child as ChildProcess & { pid: number };
}

const exited = (c: ChildProcess): Promise<unknown> =>
  c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : once(c, 'exit');

/** Builds dist/tsdevbpf from its source when missing or stale, as scripts/build.mjs would. */
function ensureDevbpf(): string {
  const out = devbpfPath();
  const src = devbpfSource();
  if (fs.existsSync(out) && fs.statSync(out).mtimeMs >= fs.statSync(src).mtimeMs) return out;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  // Build aside and rename: another test process may be running the old binary.
  const tmp = `${out}.${randomBytes(4).toString('hex')}.tmp`;
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-static-pie', '-o', tmp, src], { stdio: 'inherit' });
  fs.renameSync(tmp, out);
  return out;
}

/** Runs a shell script inside a group (it waits on stdin until it has been moved in); its output. */
async function runIn(cg: CgroupManager, group: string, script: string, children: ChildProcess[]): Promise<string> {
  const child = spawn('sh', ['-c', `read go; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  assert.ok(child.pid);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await cg.addProcess(group, child.pid);
  child.stdin!.end('go\n');
  await exited(child);
  return out;
}

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
      for (const ctrl of ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'freezer', 'devices']) {
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
      for (const ctrl of ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'freezer', 'devices']) {
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
      for (const ctrl of ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'freezer', 'devices']) {
        assert.ok(!fs.existsSync(`/sys/fs/cgroup/${ctrl}/${parent}/bad`), ctrl);
      }
    });

    it('enforces device rules: /dev/null opens, a node not on the list does not', async () => {
      const dev = `${parent}/dev`;
      await cg.create(dev, { devices: [{ allow: false, access: 'rwm' }, ...DEFAULT_DEVICE_RULES] });
      const list = fs.readFileSync(`/sys/fs/cgroup/devices/${dev}/devices.list`, 'utf8').trim().split('\n');
      assert.deepEqual(list.slice(0, 3), ['c *:* m', 'b *:* m', 'c 1:3 rwm']);
      assert.ok(!list.includes('a *:* rwm'));
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsswarm-devtest-'));
      try {
        execFileSync('mknod', [`${tmp}/kmsg`, 'c', '1', '11']); // /dev/kmsg: exists here, not on the list
        fs.closeSync(fs.openSync(`${tmp}/kmsg`, 'r')); // outside the group it opens
        const out = await runIn(cg, dev, `(exec 3</dev/null) && echo null-ok; (exec 4<${tmp}/kmsg) && echo kmsg-opened; mknod ${tmp}/sda b 8 0 && echo mknod-ok`, children);
        assert.match(out, /null-ok/);
        assert.doesNotMatch(out, /kmsg-opened/);
        assert.match(out, /Operation not permitted/);
        assert.match(out, /mknod-ok/, 'mknod itself stays allowed (b *:* m)');
        // Rules are replaced on update: allow all, and the same open succeeds.
        await cg.update(dev, { devices: [{ allow: true, access: 'rwm' }] });
        assert.equal(fs.readFileSync(`/sys/fs/cgroup/devices/${dev}/devices.list`, 'utf8').trim(), 'a *:* rwm');
        assert.match(await runIn(cg, dev, `(exec 4<${tmp}/kmsg) && echo kmsg-opened`, children), /kmsg-opened/);
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
      await cg.destroy(dev);
      assert.ok(!fs.existsSync(`/sys/fs/cgroup/devices/${dev}`));
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

  // This hybrid host's cgroup2 tree has no controllers, but device programs attach to any cgroup2
  // directory: the v2 backend's eBPF path runs on the real kernel here.
  describe('v2 device programs (cgroup2 tree at /sys/fs/cgroup/unified)', () => {
    const root = '/sys/fs/cgroup/unified';
    const v2parent = `tsswarm-test-${randomBytes(4).toString('hex')}`;
    const v2group = `${v2parent}/c1`;
    let v2: CgroupV2 | undefined;
    let helper = '';
    let tmp = '';

    before(function () {
      if (process.getuid?.() !== 0 || !fs.existsSync(`${root}/cgroup.procs`)) this.skip();
      helper = ensureDevbpf();
      v2 = new CgroupV2({ root, attachDeviceProgram: helperAttach(helper) });
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsswarm-devtest-'));
      execFileSync('mknod', [`${tmp}/kmsg`, 'c', '1', '11']); // /dev/kmsg: exists here, not on the list
    });

    after(async () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      if (v2) await v2.destroy(v2parent);
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    const programs = (): string[] => execFileSync(helper, ['query', `${root}/${v2group}`], { encoding: 'utf8' }).split('\n').filter(Boolean);

    it('attaches a program that lets /dev/null open and refuses a device not on the list', async () => {
      await v2!.create(v2group, { devices: [{ allow: false, access: 'rwm' }, ...DEFAULT_DEVICE_RULES] });
      assert.equal(programs().length, 1);
      const out = await runIn(v2!, v2group, `(exec 3</dev/null) && echo null-ok; echo x >/dev/null && echo null-write-ok; (exec 4<${tmp}/kmsg) && echo kmsg-opened; head -c1 /dev/urandom >/dev/null && echo urandom-ok`, children);
      assert.match(out, /null-ok/);
      assert.match(out, /null-write-ok/);
      assert.match(out, /urandom-ok/);
      assert.doesNotMatch(out, /kmsg-opened/);
      assert.match(out, /Operation not permitted/);
    });

    it('replaces the program on update instead of stacking another', async () => {
      const before = programs();
      await v2!.update(v2group, { devices: [{ allow: true, access: 'rwm' }] });
      const after = programs();
      assert.equal(after.length, 1);
      assert.notDeepEqual(after, before);
      assert.match(await runIn(v2!, v2group, `(exec 4<${tmp}/kmsg) && echo kmsg-opened`, children), /kmsg-opened/);
      // And back to a list where mknod is allowed but reading a block device is not.
      await v2!.update(v2group, { devices: [{ allow: false }, ...DEFAULT_DEVICE_RULES] });
      const out = await runIn(v2!, v2group, `mknod ${tmp}/sda b 8 0 && echo mknod-ok; head -c1 ${tmp}/sda >/dev/null && echo read-sda`, children);
      assert.match(out, /mknod-ok/);
      assert.doesNotMatch(out, /read-sda/);
      assert.match(out, /Operation not permitted/);
    });

    it('reports a program the kernel refuses, and leaves no group behind', async () => {
      const bad = new CgroupV2({
        root,
        attachDeviceProgram: (dir) => helperAttach(helper)(dir, Buffer.from('b700000001000000', 'hex')),
      });
      // "r0 = 1" without an exit: the verifier refuses it.
      await assert.rejects(bad.create(`${v2parent}/bad`, { devices: [] }), /linux\.resources\.devices: .*(verifier|Permission denied|Invalid argument)/s);
      assert.ok(!fs.existsSync(`${root}/${v2parent}/bad`));
    });

    it('destroys the group with its program', async () => {
      await v2!.destroy(v2group);
      assert.ok(!fs.existsSync(`${root}/${v2group}`));
    });
  });
});
