// linux.resources → cgroup v2 file writes (runc's conversions). Pure.
import { CgroupError, type CgroupResources } from './types.js';
import type { CgroupWrite } from './v1-files.js';

export type { CgroupWrite };

const F = 'linux.resources';

/** runc's shares → weight mapping: [2, 262144] onto [1, 10000]. */
export function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** OCI memory.swap is memory+swap; v2 memory.swap.max is swap alone. Undefined = leave as is. */
export function swapToV2(swap: number, limit: number): string | undefined {
  if (limit === -1 && swap === 0) return 'max';
  if (swap === -1) return 'max';
  if (swap === 0) return undefined;
  if (limit === 0 || limit === -1) {
    throw new CgroupError(`${F}.memory.swap`, 'a swap limit needs a memory limit on cgroup v2');
  }
  if (swap < limit) {
    throw new CgroupError(`${F}.memory.swap`, `memory+swap must be ≥ memory.limit (${limit}), got ${swap}`);
  }
  return String(swap - limit);
}

/** The controller a v2 interface file belongs to ("memory.max" → "memory"). */
export function controllerOf(file: string): string {
  return file.slice(0, file.indexOf('.'));
}

/** Writes in a safe order (no ordering constraints exist between these v2 files). */
export function toV2Writes(r: CgroupResources): CgroupWrite[] {
  const out: CgroupWrite[] = [];
  const m = r.memory ?? {};
  const limit = m.limit ?? 0;
  if (limit !== 0) {
    out.push({ file: 'memory.max', value: limit === -1 ? 'max' : String(limit), field: `${F}.memory.limit` });
  }
  const swap = swapToV2(m.swap ?? 0, limit);
  if (swap !== undefined) out.push({ file: 'memory.swap.max', value: swap, field: `${F}.memory.swap` });
  if (m.reservation) {
    // -1 means "no soft limit"; v2's equivalent is no protection, i.e. memory.low 0.
    const low = m.reservation === -1 ? '0' : String(m.reservation);
    out.push({ file: 'memory.low', value: low, field: `${F}.memory.reservation` });
  }

  const c = r.cpu ?? {};
  if (c.quota || c.period) {
    // Like runc, an absent period is left out so the kernel keeps the current one (100 ms on a new group).
    let value = c.quota && c.quota > 0 ? String(c.quota) : 'max';
    if (c.period) value += ` ${c.period}`;
    out.push({ file: 'cpu.max', value, field: c.quota ? `${F}.cpu.quota` : `${F}.cpu.period` });
  }
  if (c.shares) {
    out.push({ file: 'cpu.weight', value: String(sharesToWeight(c.shares)), field: `${F}.cpu.shares` });
  }
  if (c.cpus) out.push({ file: 'cpuset.cpus', value: c.cpus, field: `${F}.cpu.cpus` });
  if (c.mems) out.push({ file: 'cpuset.mems', value: c.mems, field: `${F}.cpu.mems` });

  const pids = r.pids?.limit;
  if (pids !== undefined) {
    out.push({ file: 'pids.max', value: pids > 0 ? String(pids) : 'max', field: `${F}.pids.limit` });
  }
  return out;
}
