// Finding the cgroup hierarchies from /proc/self/mountinfo and choosing v1 or v2. Pure.

export interface CgroupMount {
  mountPoint: string;
  version: 1 | 2;
  /** v1: controllers bound to this hierarchy (named hierarchies like name=systemd excluded). */
  controllers: string[];
}

/** Mount points are octal-escaped for space, tab, newline and backslash. */
function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountinfo(text: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of text.split('\n')) {
    // "<id> <parent> <maj:min> <root> <mountpoint> <opts> [optional…] - <fstype> <source> <superopts>"
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const [fstype, , superOpts = ''] = line.slice(sep + 3).split(' ');
    const mountPoint = pre[4];
    if (mountPoint === undefined) continue;
    if (fstype === 'cgroup2') {
      out.push({ mountPoint: unescapeMountPath(mountPoint), version: 2, controllers: [] });
    } else if (fstype === 'cgroup') {
      const controllers = superOpts.split(',').filter((o) => V1_CONTROLLERS.has(o));
      if (controllers.length) {
        out.push({ mountPoint: unescapeMountPath(mountPoint), version: 1, controllers });
      }
    }
  }
  return out;
}

/** v1 controller names as they appear in mount options (everything else there is a mount flag). */
export const V1_CONTROLLERS = new Set([
  'cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'freezer', 'devices', 'blkio', 'net_cls', 'net_prio',
  'perf_event', 'hugetlb', 'rdma', 'misc',
]);

export type CgroupLayout =
  | { version: 1; mounts: Record<string, string> }
  | { version: 2; root: string };

/**
 * v1 when any v1 controller hierarchy is mounted (pure v1, and hybrid where the v2 mount is empty);
 * v2 when a cgroup2 mount has controllers, or it is all there is. `controllersOf` reads a v2 mount's
 * cgroup.controllers.
 */
export function chooseLayout(
  mounts: CgroupMount[],
  controllersOf: (mountPoint: string) => string[],
): CgroupLayout {
  const v1: Record<string, string> = {};
  for (const m of mounts) {
    if (m.version !== 1) continue;
    // First mount wins: later ones are usually bind mounts of the same hierarchy.
    for (const c of m.controllers) v1[c] ??= m.mountPoint;
  }
  const v2 = mounts.filter((m) => m.version === 2);
  const v2WithControllers = v2.find((m) => controllersOf(m.mountPoint).length > 0);
  // A v2 mount that holds the controllers that matter wins even if stray v1 hierarchies exist.
  if (v2WithControllers && !v1['memory'] && !v1['cpu']) {
    return { version: 2, root: v2WithControllers.mountPoint };
  }
  if (Object.keys(v1).length) return { version: 1, mounts: v1 };
  if (v2WithControllers) return { version: 2, root: v2WithControllers.mountPoint };
  const preferred = v2.find((m) => m.mountPoint === '/sys/fs/cgroup') ?? v2[0];
  if (preferred) return { version: 2, root: preferred.mountPoint };
  throw new Error('no cgroup hierarchy is mounted (no cgroup or cgroup2 entry in mountinfo)');
}
