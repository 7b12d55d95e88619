import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { detectCgroups } from './detect.js';
import { fakeV1Tree, fakeV2Tree } from './fake-cgroupfs.js';
import { CgroupV1 } from './v1.js';

describe('cgroups/detect', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  it('picks v1 for a hybrid tree (v1 controllers, empty unified)', () => {
    const t = fakeV1Tree();
    cleanups.push(t.cleanup);
    assert.equal(detectCgroups({ root: t.root }).version, 1);
  });

  it('picks v1 for a co-mounted cpu,cpuacct tree', () => {
    const t = fakeV1Tree({ coMountCpu: true });
    cleanups.push(t.cleanup);
    const cg = detectCgroups({ root: t.root });
    assert.ok(cg instanceof CgroupV1);
    assert.equal(cg.procsFiles('x').length, 6); // cpu,cpuacct cpuset memory pids freezer devices
  });

  it('picks v2 for a v2-only tree', () => {
    const t = fakeV2Tree();
    cleanups.push(t.cleanup);
    assert.equal(detectCgroups({ root: t.root }).version, 2);
  });

  it('fails clearly for a tree with no hierarchy', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsswarm-nocg-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    assert.throws(() => detectCgroups({ root: dir }), /no cgroup hierarchy under/);
  });

  it('uses mountinfo mount points, separate or co-mounted', () => {
    const t = fakeV1Tree({ coMountCpu: true });
    cleanups.push(t.cleanup);
    const mi = ['cpu,cpuacct', 'memory', 'pids']
      .map((d, i) => `${30 + i} 24 0:${26 + i} / ${t.root}/${d} rw shared:1 - cgroup cgroup rw,${d}`)
      .join('\n');
    const cg = detectCgroups({ mountinfo: mi });
    assert.ok(cg instanceof CgroupV1);
    const real = fs.realpathSync(t.root);
    assert.equal(cg.mounts['cpuacct'], `${real}/cpu,cpuacct`);
    assert.deepEqual(cg.procsFiles('g').sort(), [`${real}/cpu,cpuacct/g/cgroup.procs`, `${real}/memory/g/cgroup.procs`, `${real}/pids/g/cgroup.procs`]);
  });

  it('uses a cgroup2 mountinfo entry when it has controllers', () => {
    const t = fakeV2Tree();
    cleanups.push(t.cleanup);
    const cg = detectCgroups({ mountinfo: `29 23 0:26 / ${t.root} rw shared:4 - cgroup2 cgroup2 rw,nsdelegate\n` });
    assert.equal(cg.version, 2);
  });
});
