import assert from 'node:assert/strict';
import { chooseLayout, parseMountinfo } from './mountinfo.js';

// This VM's layout: separate cpu and cpuacct, empty unified v2.
const HYBRID = `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

// Typical systemd v1 layout with optional fields and a co-mounted cpu,cpuacct.
const COMOUNT = `30 24 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,cpu,cpuacct
31 24 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,memory
`;

const V2_ONLY = `29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

describe('cgroups/mountinfo', () => {
  it('parses v1 hierarchies (skipping name=) and v2 mounts', () => {
    const m = parseMountinfo(HYBRID);
    assert.deepEqual(m.find((x) => x.mountPoint === '/sys/fs/cgroup/cpu'), { mountPoint: '/sys/fs/cgroup/cpu', version: 1, controllers: ['cpu'] });
    assert.ok(!m.some((x) => x.mountPoint.endsWith('systemd')));
    assert.deepEqual(m.find((x) => x.version === 2), { mountPoint: '/sys/fs/cgroup/unified', version: 2, controllers: [] });
    assert.deepEqual(parseMountinfo(COMOUNT)[0]?.controllers, ['cpu', 'cpuacct']);
  });

  it('unescapes mount points', () => {
    const m = parseMountinfo('1 2 0:1 / /mnt/my\\040cg rw - cgroup2 none rw\n');
    assert.equal(m[0]?.mountPoint, '/mnt/my cg');
  });

  it('chooses v1 on a hybrid host whose v2 mount is empty', () => {
    const layout = chooseLayout(parseMountinfo(HYBRID), () => []);
    assert.equal(layout.version, 1);
    assert.deepEqual(layout.version === 1 && layout.mounts, {
      cpu: '/sys/fs/cgroup/cpu', cpuacct: '/sys/fs/cgroup/cpuacct', cpuset: '/sys/fs/cgroup/cpuset',
      memory: '/sys/fs/cgroup/memory', freezer: '/sys/fs/cgroup/freezer', pids: '/sys/fs/cgroup/pids',
    });
  });

  it('maps co-mounted controllers to one mount point', () => {
    const layout = chooseLayout(parseMountinfo(COMOUNT), () => []);
    assert.ok(layout.version === 1);
    assert.equal(layout.mounts['cpu'], '/sys/fs/cgroup/cpu,cpuacct');
    assert.equal(layout.mounts['cpuacct'], '/sys/fs/cgroup/cpu,cpuacct');
  });

  it('chooses v2 on a v2-only host', () => {
    const layout = chooseLayout(parseMountinfo(V2_ONLY), () => ['cpu', 'memory', 'pids']);
    assert.deepEqual(layout, { version: 2, root: '/sys/fs/cgroup' });
  });

  it('fails clearly with no cgroup mounts', () => {
    assert.throws(() => chooseLayout([], () => []), /no cgroup hierarchy is mounted/);
  });
});
