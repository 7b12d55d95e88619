import assert from 'node:assert/strict';
import {
  buildCreatePlan,
  buildExecPlan,
  decodePlan,
  encodePlan,
  MS,
  parseCgroupMounts,
  parseMountOptions,
  type Directive,
  type HostInfo,
  type PlanContext,
} from './plan.js';
import { buildSpec, SpecError } from './spec.js';

const MOUNTINFO = `22 27 0:21 / /proc rw,relatime - proc proc rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

const host: HostInfo = { cgroupMounts: parseCgroupMounts(MOUNTINFO), cgroupRoot: '/sys/fs/cgroup', hasKcore: true };

function ctx(over: Partial<PlanContext> = {}): PlanContext {
  return {
    id: 'c1',
    stateDir: '/run/x/c1',
    bundle: '/b',
    cgroupProcs: ['/sys/fs/cgroup/memory/tsswarm/c1/cgroup.procs', '/sys/fs/cgroup/cpu,cpuacct/tsswarm/c1/cgroup.procs'],
    host,
    stdio: 'log',
    logPath: '/run/x/c1/container.log',
    ...over,
  };
}

const of = (d: Directive[], key: string) => d.filter((x) => x[0] === key).map((x) => x.slice(1));

describe('runtime/plan', () => {
  it('encodes and decodes NUL-separated directives', () => {
    const d: Directive[] = [
      ['version', '1'],
      ['env', 'A=line1\nline2'],
      ['mount', 'src', '/dst', 'tmpfs', '0', '0', 'mode=755'],
    ];
    const buf = encodePlan(d);
    assert.equal(buf.at(-1), 0);
    assert.deepEqual(decodePlan(buf), d);
    assert.throws(() => encodePlan([['env', 'a\0b']]), /NUL/);
    assert.throws(() => encodePlan([['mount', 'x'] as unknown as Directive]), /takes 6 arguments/);
  });

  it('parses mount options like runc', () => {
    assert.deepEqual(parseMountOptions(['nosuid', 'noexec', 'nodev', 'ro']), {
      flags: MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RDONLY,
      propagation: 0,
      data: '',
    });
    assert.deepEqual(parseMountOptions(['rbind', 'rw', 'rprivate', 'size=1m', 'mode=755']), {
      flags: MS.BIND | MS.REC,
      propagation: MS.PRIVATE | MS.REC,
      data: 'size=1m,mode=755',
    });
    assert.equal(parseMountOptions(['ro', 'rw']).flags, 0);
  });

  it('parses cgroup mounts from mountinfo', () => {
    assert.deepEqual(host.cgroupMounts, [
      { mountpoint: '/sys/fs/cgroup/cpu,cpuacct', type: 'cgroup', options: 'cpu,cpuacct' },
      { mountpoint: '/sys/fs/cgroup/memory', type: 'cgroup', options: 'memory' },
      { mountpoint: '/sys/fs/cgroup/systemd', type: 'cgroup', options: 'xattr,name=systemd' },
      { mountpoint: '/sys/fs/cgroup/unified', type: 'cgroup2', options: '' },
    ]);
  });

  it('plans namespaces, cgroup, root and process', () => {
    const spec = buildSpec({ args: ['sh', '-c', 'echo hi'], hostname: 'h1', rootPath: 'rootfs', readonlyRootfs: true, env: ['PATH=/bin', 'X=1'] });
    const d = buildCreatePlan(spec, ctx());
    assert.deepEqual(d[0], ['version', '1']);
    assert.deepEqual(of(d, 'ns'), [['pid', ''], ['net', ''], ['ipc', ''], ['uts', ''], ['mnt', ''], ['cgroup', '']]);
    assert.deepEqual(of(d, 'cgproc').length, 2);
    assert.deepEqual(of(d, 'lo'), [['1']]);
    assert.deepEqual(of(d, 'rootfs'), [['/b/rootfs']]);
    assert.deepEqual(of(d, 'rootprop'), [[String(MS.SLAVE | MS.REC)]]);
    assert.deepEqual(of(d, 'readonly'), [['1']]);
    assert.deepEqual(of(d, 'hostname'), [['h1']]);
    assert.deepEqual(of(d, 'arg'), [['sh'], ['-c'], ['echo hi']]);
    assert.deepEqual(of(d, 'env'), [['PATH=/bin'], ['X=1']]);
    assert.deepEqual(of(d, 'cap').find((c) => c[0] === 'b'), ['b', 'a80425fb']);
    assert.deepEqual(of(d, 'cap').find((c) => c[0] === 'a'), ['a', '0']);
    assert.deepEqual(of(d, 'uid'), [['0']]);
    assert.deepEqual(of(d, 'stdio'), [['log']]);
    assert.deepEqual(of(d, 'stdin'), [['null']]);
    assert.deepEqual(of(d, 'log'), [['/run/x/c1/container.log']]);
    assert.deepEqual(of(d, 'mask').length, 12);
    assert.ok(of(d, 'rdonly').some((p) => p[0] === '/proc/sys'));
  });

  it('keeps mount order and expands the cgroup mount per hierarchy', () => {
    const spec = buildSpec({
      args: ['true'],
      mounts: [
        { destination: '/data', type: 'bind', source: 'vol', options: ['rbind', 'ro'] },
        { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
      ],
    });
    const mounts = of(buildCreatePlan(spec, ctx()), 'mount');
    const dests = mounts.map((m) => m[1]);
    assert.deepEqual(dests, [
      '/proc',
      '/dev',
      '/dev/pts',
      '/sys',
      '/sys/fs/cgroup',
      '/sys/fs/cgroup/cpu,cpuacct',
      '/sys/fs/cgroup/memory',
      '/sys/fs/cgroup/systemd',
      '/sys/fs/cgroup', // remounted read-only at the end
      '/dev/mqueue',
      '/dev/shm',
      '/data',
      '/scratch',
    ]);
    const cg = mounts.find((m) => m[1] === '/sys/fs/cgroup/memory')!;
    assert.equal(cg[2], 'cgroup');
    assert.equal(cg[5], 'memory');
    const remount = mounts[8]!;
    assert.equal(Number(remount[3]) & MS.REMOUNT, MS.REMOUNT);
    assert.equal(Number(remount[3]) & MS.RDONLY, MS.RDONLY);
    const data = mounts.find((m) => m[1] === '/data')!;
    assert.deepEqual(data.slice(0, 3), ['/b/vol', '/data', 'bind']);
    assert.equal(Number(data[3]), MS.BIND | MS.REC | MS.RDONLY);
    const d = buildCreatePlan(spec, ctx());
    assert.deepEqual(
      of(d, 'symlink').filter((s) => s[1]!.startsWith('/sys')),
      [
        ['cpu,cpuacct', '/sys/fs/cgroup/cpu'],
        ['cpu,cpuacct', '/sys/fs/cgroup/cpuacct'],
      ],
    );
  });

  it('binds the own cgroup dirs when there is no cgroup namespace', () => {
    const spec = buildSpec({ args: ['true'] });
    spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'cgroup');
    const mounts = of(buildCreatePlan(spec, ctx()), 'mount').filter((m) => m[1]!.startsWith('/sys/fs/cgroup/'));
    assert.deepEqual(
      mounts.map((m) => [m[0], m[1], m[2]]),
      [
        ['/sys/fs/cgroup/cpu,cpuacct/tsswarm/c1', '/sys/fs/cgroup/cpu,cpuacct', 'bind'],
        ['/sys/fs/cgroup/memory/tsswarm/c1', '/sys/fs/cgroup/memory', 'bind'],
      ],
    );
  });

  it('creates the default devices and /dev links', () => {
    const d = buildCreatePlan(buildSpec({ args: ['true'] }), ctx());
    assert.deepEqual(
      of(d, 'device').map((x) => x[0]),
      ['/dev/null', '/dev/zero', '/dev/full', '/dev/tty', '/dev/urandom', '/dev/random'],
    );
    assert.deepEqual(of(d, 'device')[0], ['/dev/null', 'c', '1', '3', String(0o666), '0', '0', '0']);
    assert.deepEqual(of(d, 'symlink').map((x) => x[1]).filter((p) => p!.startsWith('/dev')), ['/dev/fd', '/dev/stdin', '/dev/stdout', '/dev/stderr', '/dev/core', '/dev/ptmx']);
  });

  it('binds devices in a user namespace, where mknod is refused', () => {
    const d = buildCreatePlan(buildSpec({ args: ['true'], userns: { hostID: 100000, size: 65536 } }), ctx());
    assert.equal(of(d, 'device')[0]![7], '1');
    assert.deepEqual(of(d, 'uidmap'), [['0', '100000', '65536']]);
  });

  it('plans an overlay root and checks its paths', () => {
    const spec = buildSpec({ args: ['true'] });
    const d = buildCreatePlan(spec, ctx({ overlay: { lower: ['/l/top', '/l/bottom'], upper: '/u', work: '/w' } }));
    assert.deepEqual(of(d, 'overlay'), [['/l/top:/l/bottom', '/u', '/w']]);
    assert.throws(() => buildCreatePlan(spec, ctx({ overlay: { lower: ['/a,b'], upper: '/u', work: '/w' } })), /rootfs.lower\[0\]/);
    assert.throws(() => buildCreatePlan(spec, ctx({ overlay: { lower: [], upper: '/u', work: '/w' } })), /rootfs.lower/);
  });

  it('joins namespaces given by path', () => {
    const d = buildCreatePlan(buildSpec({ args: ['true'], netns: '/run/netns/n1' }), ctx());
    assert.deepEqual(of(d, 'ns').find((n) => n[0] === 'net'), ['net', '/run/netns/n1']);
    assert.deepEqual(of(d, 'lo'), []);
  });

  it('passes rlimits, user, groups, no_new_privs, sysctl and init', () => {
    const spec = buildSpec({
      args: ['true'],
      user: { uid: 1000, gid: 1000, additionalGids: [5, 6] },
      noNewPrivileges: true,
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }],
      sysctl: { 'net.ipv4.ip_forward': '1' },
      oomScoreAdj: 500,
    });
    const d = buildCreatePlan(spec, ctx({ init: true, stdio: 'inherit' }));
    assert.deepEqual(of(d, 'rlimit'), [['7', '100', '200']]);
    assert.deepEqual(of(d, 'uid'), [['1000']]);
    assert.deepEqual(of(d, 'addgid'), [['5'], ['6']]);
    assert.deepEqual(of(d, 'nnp'), [['1']]);
    assert.deepEqual(of(d, 'sysctl'), [['net.ipv4.ip_forward', '1']]);
    assert.deepEqual(of(d, 'oomscore'), [['500']]);
    assert.deepEqual(of(d, 'init'), [['1']]);
    assert.deepEqual(of(d, 'stdin'), [['inherit']]);
    assert.deepEqual(of(d, 'log'), []);
  });

  it('plans a terminal, its size, the attach socket and a monitor-held stdin', () => {
    const tty = buildSpec({ args: ['sh'] });
    tty.process!.terminal = true;
    tty.process!.consoleSize = { height: 40, width: 100 };
    const d = buildCreatePlan(tty, ctx({ attach: '/run/x/c1/attach', stdin: 'monitor', stdinOnce: true }));
    assert.deepEqual(of(d, 'terminal'), [['1']]);
    assert.deepEqual(of(d, 'winsize'), [['40', '100']]);
    assert.deepEqual(of(d, 'attach'), [['/run/x/c1/attach']]);
    assert.deepEqual(of(d, 'stdin'), [['monitor']]);
    assert.deepEqual(of(d, 'stdinonce'), [['1']]);
    const x = buildExecPlan({ process: tty.process! }, { pid: 5, namespaces: [], cgroupProcs: [] });
    assert.deepEqual(of(x, 'terminal'), [['1']]);
  });

  it('plans a console socket for a terminal with inherited stdio, and refuses it otherwise', () => {
    const tty = buildSpec({ args: ['sh'] });
    tty.process!.terminal = true;
    const d = buildCreatePlan(tty, ctx({ stdio: 'inherit', consoleSocket: '/tmp/c.sock' }));
    assert.deepEqual(of(d, 'console'), [['/tmp/c.sock']]);
    assert.deepEqual(of(d, 'terminal'), [['1']]);
    assert.throws(() => buildCreatePlan(tty, ctx({ stdio: 'inherit' })), /process\.terminal: a terminal needs logged stdio .* or a console socket/);
    assert.throws(() => buildCreatePlan(tty, ctx({ stdio: 'inherit', consoleSocket: 'rel.sock' })), /--console-socket: must be an absolute path/);
    assert.throws(() => buildCreatePlan(tty, ctx({ consoleSocket: '/tmp/c.sock' })), /its output cannot also be logged/);
    assert.throws(() => buildCreatePlan(buildSpec({ args: ['true'] }), ctx({ stdio: 'inherit', consoleSocket: '/tmp/c.sock' })), /needs "terminal": true/);
  });

  it('refuses what cannot be planned, naming the field', () => {
    const noMnt = buildSpec({ args: ['true'] });
    noMnt.linux!.namespaces = noMnt.linux!.namespaces!.filter((n) => n.type !== 'mount');
    assert.throws(() => buildCreatePlan(noMnt, ctx()), (e: unknown) => e instanceof SpecError && e.field === 'mounts');
    // Without mounts, masks and a read-only root it is planned, with no root file system set-up.
    Object.assign(noMnt, { mounts: [], root: { path: '/' } });
    Object.assign(noMnt.linux!, { maskedPaths: [], readonlyPaths: [] });
    const inherited = buildCreatePlan(noMnt, ctx());
    assert.deepEqual(of(inherited, 'device'), []);
    assert.deepEqual(of(inherited, 'ns').map((n) => n[0]).includes('mnt'), false);
    const bindNoSrc = buildSpec({ args: ['true'], mounts: [{ destination: '/x', type: 'bind', options: ['rbind'] }] });
    assert.throws(() => buildCreatePlan(bindNoSrc, ctx()), /mounts\[7\].source: a bind mount needs a source/);
    const tty = buildSpec({ args: ['true'] });
    tty.process!.terminal = true;
    assert.throws(() => buildCreatePlan(tty, { ...ctx(), stdio: 'inherit' }), /process.terminal: a terminal needs logged stdio/);
    const hooks = buildSpec({ args: ['true'] });
    hooks.hooks = { prestart: [{ path: '/bin/true' }] };
    assert.throws(() => buildCreatePlan(hooks, ctx()), /hooks.prestart: hooks are not supported/);
    const badSysctl = buildSpec({ args: ['true'], sysctl: { '../../etc': 'x' } });
    assert.throws(() => buildCreatePlan(badSysctl, ctx()), /linux.sysctl/);
  });

  it('plans exec into the namespaces of a pid', () => {
    const spec = buildSpec({ args: ['ls'] });
    const d = buildExecPlan(spec, { pid: 42, namespaces: ['mnt', 'pid'], cgroupProcs: ['/sys/fs/cgroup/memory/x/cgroup.procs'] });
    assert.deepEqual(of(d, 'pid'), [['42']]);
    assert.deepEqual(of(d, 'ns'), [['mnt', '/proc/42/ns/mnt'], ['pid', '/proc/42/ns/pid']]);
    assert.deepEqual(of(d, 'arg'), [['ls']]);
    assert.deepEqual(decodePlan(encodePlan(d)), d);
  });
});
