// Parsers for cgroup stat files, and assembly of CgroupStats from raw file contents. Pure: the backends
// read the files (absent ones as undefined) and hand the text over.
import type { CgroupStats } from './types.js';

// v1 reports "unlimited" as the page counter's maximum (0x7FFFFFFFFFFFF000 with 4 KiB pages), which is
// not even a safe integer in JS; anything this large is unlimited for our purposes.
const UNLIMITED_FLOOR = 2 ** 60;

/** A single-value file ("123\n", "max\n", "-1") as a number; unlimited → -1. */
export function parseLimitValue(text: string): number {
  const t = text.trim();
  if (t === 'max' || t === '-1') return -1;
  const n = Number(t);
  if (t === '' || !Number.isFinite(n)) throw new Error(`not a number: ${JSON.stringify(t)}`);
  return n >= UNLIMITED_FLOOR ? -1 : n;
}

/** "key value" lines (memory.stat, cpu.stat, memory.events, cpuacct.stat, memory.oom_control). */
export function parseFlatKeyed(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp <= 0) continue;
    const n = Number(line.slice(sp + 1).trim());
    if (Number.isFinite(n)) out[line.slice(0, sp)] = n;
  }
  return out;
}

/** cgroup.procs / tasks: one PID per line. */
export function parsePidList(text: string): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t !== '') out.push(Number(t));
  }
  return out;
}

/** v1 memory.oom_control has "oom_kill N" since Linux 4.13; older kernels report 0 here. */
export function parseV1OomKills(oomControl: string | undefined): number {
  return oomControl === undefined ? 0 : (parseFlatKeyed(oomControl)['oom_kill'] ?? 0);
}

/** v2 memory.events "oom_kill N". */
export function parseV2OomKills(memoryEvents: string | undefined): number {
  return memoryEvents === undefined ? 0 : (parseFlatKeyed(memoryEvents)['oom_kill'] ?? 0);
}

/** v2 cgroup.events "frozen 0|1"; undefined when the key is missing (kernel < 5.2). */
export function parseFrozen(cgroupEvents: string): boolean | undefined {
  const v = parseFlatKeyed(cgroupEvents)['frozen'];
  return v === undefined ? undefined : v === 1;
}

const num = (text: string | undefined): number | undefined =>
  text === undefined ? undefined : parseLimitValue(text);

/** USER_HZ is 100 on every Linux ABI we run on; cpuacct.stat counts in those ticks. */
const NS_PER_TICK = 10_000_000;

export interface V1StatFiles {
  'memory.usage_in_bytes'?: string;
  'memory.limit_in_bytes'?: string;
  'memory.max_usage_in_bytes'?: string;
  'memory.failcnt'?: string;
  'memory.oom_control'?: string;
  'memory.stat'?: string;
  'cpuacct.usage'?: string;
  'cpuacct.usage_user'?: string;
  'cpuacct.usage_sys'?: string;
  'cpuacct.stat'?: string;
  'cpu.stat'?: string;
  'pids.current'?: string;
  'pids.max'?: string;
}

export function buildV1Stats(f: V1StatFiles): CgroupStats {
  const cpuStat = f['cpu.stat'] === undefined ? undefined : parseFlatKeyed(f['cpu.stat']);
  const acctStat = f['cpuacct.stat'] === undefined ? undefined : parseFlatKeyed(f['cpuacct.stat']);
  // usage_user/usage_sys (ns, Linux 4.16+) beat cpuacct.stat's tick counts for precision.
  const userNs = num(f['cpuacct.usage_user']) ?? (acctStat?.['user'] ?? 0) * NS_PER_TICK;
  const systemNs = num(f['cpuacct.usage_sys']) ?? (acctStat?.['system'] ?? 0) * NS_PER_TICK;
  return {
    memory: {
      usage: num(f['memory.usage_in_bytes']) ?? 0,
      limit: num(f['memory.limit_in_bytes']) ?? -1,
      maxUsage: num(f['memory.max_usage_in_bytes']),
      failcnt: num(f['memory.failcnt']),
      oomKills: parseV1OomKills(f['memory.oom_control']),
      stat: f['memory.stat'] === undefined ? undefined : parseFlatKeyed(f['memory.stat']),
    },
    cpu: {
      usageNs: num(f['cpuacct.usage']) ?? 0,
      userNs,
      systemNs,
      throttledPeriods: cpuStat?.['nr_throttled'],
      throttledTimeNs: cpuStat?.['throttled_time'],
    },
    pids: { current: num(f['pids.current']) ?? 0, limit: num(f['pids.max']) ?? -1 },
  };
}

export interface V2StatFiles {
  'memory.current'?: string;
  'memory.max'?: string;
  'memory.peak'?: string;
  'memory.events'?: string;
  'memory.stat'?: string;
  'cpu.stat'?: string;
  'pids.current'?: string;
  'pids.max'?: string;
}

export function buildV2Stats(f: V2StatFiles): CgroupStats {
  const cpu = f['cpu.stat'] === undefined ? {} : parseFlatKeyed(f['cpu.stat']);
  const events = f['memory.events'] === undefined ? undefined : parseFlatKeyed(f['memory.events']);
  const usec = (k: string): number | undefined => (cpu[k] === undefined ? undefined : cpu[k] * 1000);
  return {
    memory: {
      usage: num(f['memory.current']) ?? 0,
      limit: num(f['memory.max']) ?? -1,
      maxUsage: num(f['memory.peak']),
      failcnt: events?.['max'],
      oomKills: events?.['oom_kill'] ?? 0,
      stat: f['memory.stat'] === undefined ? undefined : parseFlatKeyed(f['memory.stat']),
    },
    cpu: {
      usageNs: usec('usage_usec') ?? 0,
      userNs: usec('user_usec') ?? 0,
      systemNs: usec('system_usec') ?? 0,
      throttledPeriods: cpu['nr_throttled'],
      throttledTimeNs: usec('throttled_usec'),
    },
    pids: { current: num(f['pids.current']) ?? 0, limit: num(f['pids.max']) ?? -1 },
  };
}
