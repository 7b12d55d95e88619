// Checks linux.resources before anything touches the kernel, so a bad value fails with the field named
// instead of as an EINVAL from some cgroup file halfway through create().
import { validateDevices } from './devices.js';
import { CgroupError, type CgroupResources } from './types.js';

const F = 'linux.resources';

function integer(field: string, v: number): void {
  if (!Number.isSafeInteger(v)) throw new CgroupError(field, `must be an integer, got ${v}`);
}

/** -1 (unlimited), 0 (unset) or a positive integer. */
function limitOrUnlimited(field: string, v: number | undefined): void {
  if (v === undefined) return;
  integer(field, v);
  if (v < -1) throw new CgroupError(field, `must be ≥ 0 or -1, got ${v}`);
}

const CPUSET_LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

/** Validates a cpuset list ("0-3,5"); returns a reason it is bad, or undefined. */
export function cpusetListProblem(list: string): string | undefined {
  if (!CPUSET_LIST.test(list)) return `must be a list like "0-2,4", got ${JSON.stringify(list)}`;
  for (const part of list.split(',')) {
    const [lo, hi] = part.split('-').map(Number);
    if (hi !== undefined && lo! > hi) return `range ${part} is backwards in ${JSON.stringify(list)}`;
  }
  return undefined;
}

export function validateResources(r: CgroupResources): void {
  const m = r.memory;
  if (m) {
    limitOrUnlimited(`${F}.memory.limit`, m.limit);
    limitOrUnlimited(`${F}.memory.swap`, m.swap);
    limitOrUnlimited(`${F}.memory.reservation`, m.reservation);
    const limit = m.limit ?? 0;
    if (limit > 0 && m.swap !== undefined && m.swap > 0 && m.swap < limit) {
      throw new CgroupError(
        `${F}.memory.swap`,
        `memory+swap must be ≥ memory.limit (${limit}), got ${m.swap}`,
      );
    }
    if (limit > 0 && m.reservation !== undefined && m.reservation > limit) {
      throw new CgroupError(
        `${F}.memory.reservation`,
        `must be ≤ memory.limit (${limit}), got ${m.reservation}`,
      );
    }
  }
  const c = r.cpu;
  if (c) {
    if (c.shares !== undefined) {
      integer(`${F}.cpu.shares`, c.shares);
      if (c.shares !== 0 && (c.shares < 2 || c.shares > 262144)) {
        throw new CgroupError(`${F}.cpu.shares`, `must be 2..262144 (or 0 = unset), got ${c.shares}`);
      }
    }
    if (c.quota !== undefined) {
      integer(`${F}.cpu.quota`, c.quota);
      // The kernel rejects quotas under 1 ms (min_cfs_quota_period).
      if (c.quota !== -1 && c.quota !== 0 && c.quota < 1000) {
        throw new CgroupError(
          `${F}.cpu.quota`,
          `must be ≥ 1000 µs, or -1 = unlimited, got ${c.quota}`,
        );
      }
    }
    if (c.period !== undefined) {
      integer(`${F}.cpu.period`, c.period);
      if (c.period !== 0 && (c.period < 1000 || c.period > 1_000_000)) {
        throw new CgroupError(`${F}.cpu.period`, `must be 1000..1000000 µs, got ${c.period}`);
      }
    }
    for (const key of ['cpus', 'mems'] as const) {
      const v = c[key];
      if (v === undefined || v === '') continue;
      const problem = cpusetListProblem(v);
      if (problem) throw new CgroupError(`${F}.cpu.${key}`, problem);
    }
  }
  if (r.pids?.limit !== undefined) {
    integer(`${F}.pids.limit`, r.pids.limit);
    if (r.pids.limit < -1) {
      throw new CgroupError(`${F}.pids.limit`, `must be ≥ 0 or -1, got ${r.pids.limit}`);
    }
  }
  if (r.devices !== undefined) validateDevices(r.devices);
}

/**
 * Normalises a group path ("tsswarm/<id>", a leading "/" tolerated as Docker writes cgroupsPath) and
 * refuses anything that could escape the hierarchy.
 */
export function normaliseGroupPath(path: string): string {
  const trimmed = path.replace(/^\/+/, '').replace(/\/+$/, '');
  const parts = trimmed.split('/');
  if (trimmed === '' || parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\0'))) {
    throw new CgroupError('linux.cgroupsPath', `must be a relative path like "tsswarm/<id>", got ${JSON.stringify(path)}`);
  }
  return parts.join('/');
}
