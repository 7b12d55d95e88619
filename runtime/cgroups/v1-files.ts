// linux.resources → cgroup v1 file writes. Pure; the caller supplies what it knows about the host and
// the group's current state, and applies each controller's list in order.
import { effectiveDevices, ruleLine } from './devices.js';
import type { CgroupResources, DeviceRule } from './types.js';

export type V1Controller = 'memory' | 'cpu' | 'cpuset' | 'pids' | 'devices';

export interface CgroupWrite {
  file: string;
  value: string;
  /** Field in OCI terms, for error messages. */
  field: string;
}

export interface V1Context {
  /** Whether memory.memsw.limit_in_bytes exists (swap accounting on). */
  memsw: boolean;
  /** Current memory.limit_in_bytes in bytes, Infinity when unlimited (a fresh group). */
  currentMemoryLimit: number;
}

/** Writes per controller; within a controller the order matters and must be kept. */
export type V1Writes = Partial<Record<V1Controller, CgroupWrite[]>>;

const F = 'linux.resources';

export function toV1Writes(r: CgroupResources, ctx: V1Context): V1Writes {
  const out: V1Writes = {};
  const memory = memoryWrites(r, ctx);
  if (memory.length) out.memory = memory;

  const cpu: CgroupWrite[] = [];
  const c = r.cpu ?? {};
  if (c.shares) cpu.push({ file: 'cpu.shares', value: String(c.shares), field: `${F}.cpu.shares` });
  // Period before quota: the kernel checks quota/period against the parent's ratio, and a quota written
  // against the old period could be refused where the final pair is fine.
  if (c.period) cpu.push({ file: 'cpu.cfs_period_us', value: String(c.period), field: `${F}.cpu.period` });
  if (c.quota) cpu.push({ file: 'cpu.cfs_quota_us', value: String(c.quota), field: `${F}.cpu.quota` });
  if (cpu.length) out.cpu = cpu;

  const cpuset: CgroupWrite[] = [];
  if (c.cpus) cpuset.push({ file: 'cpuset.cpus', value: c.cpus, field: `${F}.cpu.cpus` });
  if (c.mems) cpuset.push({ file: 'cpuset.mems', value: c.mems, field: `${F}.cpu.mems` });
  if (cpuset.length) out.cpuset = cpuset;

  const pids = r.pids?.limit;
  if (pids !== undefined) {
    out.pids = [{ file: 'pids.max', value: pids > 0 ? String(pids) : 'max', field: `${F}.pids.limit` }];
  }
  if (r.devices) out.devices = deviceWrites(r.devices);
  return out;
}

/**
 * The rules reduced to what they leave (see effectiveDevices): first the reset ("a" to devices.deny or
 * devices.allow), then each exception to the other file. The kernel reaches the same state from the
 * raw list, but the reduced one is shorter and never depends on the group's previous rules.
 */
export function deviceWrites(rules: readonly DeviceRule[]): CgroupWrite[] {
  const state = effectiveDevices(rules);
  const [reset, except] = state.defaultAllow ? ['devices.allow', 'devices.deny'] : ['devices.deny', 'devices.allow'];
  return [
    { file: reset, value: 'a', field: `${F}.devices` },
    ...state.exceptions.map((e) => ({
      file: except,
      value: ruleLine(e.type, e.major, e.minor, e.access),
      field: `${F}.devices[${e.index}]`,
    })),
  ];
}

function memoryWrites(r: CgroupResources, ctx: V1Context): CgroupWrite[] {
  const m = r.memory ?? {};
  const out: CgroupWrite[] = [];
  const limit = m.limit ?? 0;
  let swap = m.swap ?? 0;
  // As runc: "unlimited memory" with swap unspecified means unlimited memory+swap too, otherwise an old
  // memsw limit would cap the raised memory limit.
  if (limit === -1 && swap === 0 && ctx.memsw) swap = -1;
  const limitW: CgroupWrite = { file: 'memory.limit_in_bytes', value: String(limit), field: `${F}.memory.limit` };
  const swapW: CgroupWrite = {
    file: 'memory.memsw.limit_in_bytes',
    value: String(swap),
    field: `${F}.memory.swap`,
  };
  const writeSwap = swap !== 0 && ctx.memsw;
  if (limit !== 0 && writeSwap) {
    // The kernel keeps memsw ≥ limit at every step: raise memsw first when it goes up past the current
    // limit, otherwise lower the limit first.
    const swapFirst = swap === -1 || ctx.currentMemoryLimit <= swap;
    out.push(...(swapFirst ? [swapW, limitW] : [limitW, swapW]));
  } else {
    if (limit !== 0) out.push(limitW);
    if (writeSwap) out.push(swapW);
  }
  if (m.reservation) {
    out.push({
      file: 'memory.soft_limit_in_bytes',
      value: String(m.reservation),
      field: `${F}.memory.reservation`,
    });
  }
  return out;
}
