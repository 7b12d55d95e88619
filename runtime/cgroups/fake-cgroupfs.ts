// Test support: a cgroupfs look-alike in a temp dir. Its mkdir populates interface files the way the
// kernel would (v1 per hierarchy; v2 per controller enabled in the parent's subtree_control), and its
// rmdir refuses a group with members or children. Everything else is plain files the test can inspect
// or edit to play the kernel's part (e.g. flip cgroup.events to "frozen 1").
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFile, type CgroupDirOps, type RmdirOutcome } from './fsio.js';

const V1_MAX = '9223372036854771712';

const V1_FILES: Record<string, Record<string, string>> = {
  memory: {
    'memory.limit_in_bytes': V1_MAX,
    'memory.memsw.limit_in_bytes': V1_MAX,
    'memory.soft_limit_in_bytes': V1_MAX,
    'memory.usage_in_bytes': '0',
    'memory.max_usage_in_bytes': '0',
    'memory.failcnt': '0',
    'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n',
    'memory.stat': 'cache 0\nrss 0\n',
  },
  cpu: { 'cpu.shares': '1024', 'cpu.cfs_quota_us': '-1', 'cpu.cfs_period_us': '100000', 'cpu.stat': 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\n' },
  cpuacct: { 'cpuacct.usage': '0', 'cpuacct.usage_user': '0', 'cpuacct.usage_sys': '0', 'cpuacct.stat': 'user 0\nsystem 0\n' },
  cpuset: { 'cpuset.cpus': '', 'cpuset.mems': '' },
  pids: { 'pids.max': 'max', 'pids.current': '0' },
  freezer: { 'freezer.state': 'THAWED' },
  devices: { 'devices.allow': '', 'devices.deny': '', 'devices.list': 'a *:* rwm\n' },
};

const V2_FILES: Record<string, Record<string, string>> = {
  memory: {
    'memory.max': 'max', 'memory.swap.max': 'max', 'memory.low': '0', 'memory.current': '0',
    'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n', 'memory.stat': 'anon 0\nfile 0\n',
  },
  cpu: { 'cpu.max': 'max 100000', 'cpu.weight': '100' },
  cpuset: { 'cpuset.cpus': '', 'cpuset.mems': '' },
  pids: { 'pids.max': 'max', 'pids.current': '0' },
};

export interface FakeTree {
  root: string;
  ops: CgroupDirOps;
  read(rel: string): string;
  write(rel: string, value: string): void;
  exists(rel: string): boolean;
  cleanup(): void;
  /** Every write made through ops.writeFile, in order, with paths relative to root. */
  writes: { file: string; value: string }[];
}

function writeAll(dir: string, files: Record<string, string>): void {
  for (const [name, value] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), value);
}

function base(root: string, dirOps: CgroupDirOps): FakeTree {
  const writes: FakeTree['writes'] = [];
  const ops: CgroupDirOps = {
    ...dirOps,
    writeFile(file, value, context) {
      writeFile(file, value, context);
      writes.push({ file: path.relative(root, file), value });
    },
  };
  return {
    root,
    ops,
    writes,
    read: (rel) => fs.readFileSync(path.join(root, rel), 'utf8'),
    write: (rel, value) => fs.writeFileSync(path.join(root, rel), value),
    exists: (rel) => fs.existsSync(path.join(root, rel)),
    cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

function fakeRemoveDir(dir: string): RmdirOutcome {
  if (!fs.existsSync(dir)) return 'absent';
  const entries = fs.readdirSync(dir, { withFileTypes: true });
  if (entries.some((e) => e.isDirectory())) return 'busy';
  const procs = path.join(dir, 'cgroup.procs');
  if (fs.existsSync(procs) && fs.readFileSync(procs, 'utf8').trim() !== '') return 'busy';
  fs.rmSync(dir, { recursive: true });
  return 'removed';
}

export interface FakeV1Options {
  /** Co-mount cpu and cpuacct as "cpu,cpuacct" with symlinks, as most distributions do. */
  coMountCpu?: boolean;
  /** Leave out memory.memsw.* (swap accounting off). */
  noMemsw?: boolean;
  /** mkdir fails (EACCES) for directories under this hierarchy. */
  failMkdirIn?: string;
}

/** A hybrid-style /sys/fs/cgroup: v1 hierarchies plus an empty unified v2 and name=systemd. */
export function fakeV1Tree(opts: FakeV1Options = {}): FakeTree {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsswarm-fakecg1-'));
  const hierarchyOf = new Map<string, string[]>();
  const dirs = opts.coMountCpu
    ? [['cpu,cpuacct', 'cpu', 'cpuacct'], ['cpuset'], ['memory'], ['pids'], ['freezer'], ['devices']]
    : [['cpu'], ['cpuacct'], ['cpuset'], ['memory'], ['pids'], ['freezer'], ['devices']];
  for (const [name, ...controllers] of dirs) {
    const ctl = controllers.length ? controllers : [name!];
    const dir = path.join(root, name!);
    fs.mkdirSync(dir);
    hierarchyOf.set(name!, ctl);
    fs.writeFileSync(path.join(dir, 'cgroup.procs'), '1\n');
    fs.writeFileSync(path.join(dir, 'cgroup.clone_children'), '0');
    if (ctl.includes('cpuset')) writeAll(dir, { 'cpuset.cpus': '0-1', 'cpuset.mems': '0' });
    if (ctl.includes('memory') && !opts.noMemsw) writeAll(dir, { 'memory.memsw.limit_in_bytes': V1_MAX });
  }
  if (opts.coMountCpu) {
    fs.symlinkSync('cpu,cpuacct', path.join(root, 'cpu'));
    fs.symlinkSync('cpu,cpuacct', path.join(root, 'cpuacct'));
  }
  fs.mkdirSync(path.join(root, 'systemd'));
  fs.mkdirSync(path.join(root, 'unified'));
  fs.writeFileSync(path.join(root, 'unified', 'cgroup.controllers'), '');

  const ops: CgroupDirOps = {
    makeDir(dir) {
      if (fs.existsSync(dir)) return false;
      const top = path.relative(root, dir).split(path.sep)[0]!;
      if (top === opts.failMkdirIn) {
        throw Object.assign(new Error(`EACCES: permission denied, mkdir '${dir}'`), { code: 'EACCES' });
      }
      fs.mkdirSync(dir); // ENOENT for a missing parent, as the kernel
      const parent = path.dirname(dir);
      fs.writeFileSync(path.join(dir, 'cgroup.procs'), '');
      fs.writeFileSync(path.join(dir, 'cgroup.clone_children'), '0');
      for (const c of hierarchyOf.get(top) ?? []) {
        const files = { ...V1_FILES[c] };
        if (c === 'memory' && opts.noMemsw) delete files['memory.memsw.limit_in_bytes'];
        if (c === 'cpuset' && fs.readFileSync(path.join(parent, 'cgroup.clone_children'), 'utf8').trim() === '1') {
          files['cpuset.cpus'] = fs.readFileSync(path.join(parent, 'cpuset.cpus'), 'utf8');
          files['cpuset.mems'] = fs.readFileSync(path.join(parent, 'cpuset.mems'), 'utf8');
        }
        writeAll(dir, files);
      }
      return true;
    },
    removeDir: fakeRemoveDir,
  };
  return base(root, ops);
}

/** A v2-only /sys/fs/cgroup offering cpu, cpuset, memory, pids, io. */
export function fakeV2Tree(opts: { controllers?: string } = {}): FakeTree {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsswarm-fakecg2-'));
  writeAll(root, {
    'cgroup.controllers': opts.controllers ?? 'cpuset cpu io memory pids\n',
    'cgroup.subtree_control': '',
    'cgroup.procs': '1\n',
  });
  const ops: CgroupDirOps = {
    makeDir(dir) {
      if (fs.existsSync(dir)) return false;
      fs.mkdirSync(dir);
      const enabled = fs
        .readFileSync(path.join(path.dirname(dir), 'cgroup.subtree_control'), 'utf8')
        .split(/\s+/)
        .filter(Boolean)
        .map((t) => t.replace(/^\+/, ''));
      writeAll(dir, {
        'cgroup.controllers': enabled.join(' '),
        'cgroup.subtree_control': '',
        'cgroup.procs': '',
        'cgroup.freeze': '0',
        'cgroup.events': 'populated 0\nfrozen 0\n',
        'cgroup.kill': '',
        'cpu.stat': 'usage_usec 0\nuser_usec 0\nsystem_usec 0\n',
      });
      for (const c of enabled) writeAll(dir, V2_FILES[c] ?? {});
      return true;
    },
    removeDir: fakeRemoveDir,
  };
  return base(root, ops);
}
