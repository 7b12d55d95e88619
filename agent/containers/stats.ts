// Docker-shaped container stats (`GET /containers/{id}/stats`), `top` through the host's ps, and the
// size of a container's writable layer. Read from the cgroup (through the runtime), /proc and the
// container's upper dir.
import { execFile } from 'node:child_process';
import { readFile, readdir, lstat } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseMountinfo } from '../../runtime/cgroups/mountinfo.js';
import type { CgroupStats } from '../../runtime/cgroups/index.js';

const execFileP = promisify(execFile);

/** USER_HZ: /proc/stat counts in 1/100 s on every Linux architecture we run on. */
const NS_PER_TICK = 1e9 / 100;

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export interface DockerStats {
  read: string;
  preread: string;
  id: string;
  name: string;
  pids_stats: { current?: number; limit?: number };
  memory_stats: { usage?: number; limit?: number; stats?: Record<string, number> };
  cpu_stats: CpuStats;
  precpu_stats: CpuStats;
  networks?: Record<string, { rx_bytes: number; rx_packets: number; rx_errors: number; rx_dropped: number; tx_bytes: number; tx_packets: number; tx_errors: number; tx_dropped: number }>;
  blkio_stats: { io_service_bytes_recursive: BlkioEntry[] | null };
}

export interface CpuStats {
  cpu_usage: { total_usage: number; usage_in_usermode?: number; usage_in_kernelmode?: number };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data?: { periods: number; throttled_periods: number; throttled_time: number };
}

/** One sample: the cgroup's counters plus the host's CPU time at (about) the same moment. */
export interface Sample {
  at: Date;
  cg: CgroupStats;
  systemNs: number;
}

/** Host CPU time as Docker counts it: the sum of the first /proc/stat line's fields, in ns. */
export async function systemCpuNs(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0] ?? '';
  // "cpu user nice system idle iowait irq softirq steal guest guest_nice": Docker sums the first 7 + steal.
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  return f.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0) * NS_PER_TICK;
}

export async function sample(cgStats: () => Promise<CgroupStats>): Promise<Sample> {
  const [cg, systemNs] = await Promise.all([cgStats(), systemCpuNs()]);
  return { at: new Date(), cg, systemNs };
}

function cpuStats(s: Sample | undefined): CpuStats {
  if (!s) return { cpu_usage: { total_usage: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
  return {
    cpu_usage: { total_usage: s.cg.cpu.usageNs, usage_in_usermode: s.cg.cpu.userNs, usage_in_kernelmode: s.cg.cpu.systemNs },
    system_cpu_usage: s.systemNs,
    online_cpus: cpus().length,
    throttling_data: { periods: 0, throttled_periods: s.cg.cpu.throttledPeriods ?? 0, throttled_time: s.cg.cpu.throttledTimeNs ?? 0 },
  };
}

/** rx/tx counters of every interface but lo, from inside the container's network namespace. */
export async function netStats(pid: number): Promise<DockerStats['networks']> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/net/dev`, 'utf8');
  } catch {
    return undefined;
  }
  const out: NonNullable<DockerStats['networks']> = {};
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (name === 'lo') continue;
    const v = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    out[name] = { rx_bytes: v[0] ?? 0, rx_packets: v[1] ?? 0, rx_errors: v[2] ?? 0, rx_dropped: v[3] ?? 0, tx_bytes: v[8] ?? 0, tx_packets: v[9] ?? 0, tx_errors: v[10] ?? 0, tx_dropped: v[11] ?? 0 };
  }
  return out;
}

/**
 * Block I/O bytes of the container's cgroup: v1 blkio.throttle.io_service_bytes when the process is in
 * a blkio group of its own (not the one the daemon is in, which would count the whole host), else v2
 * io.stat; null when neither is there (shown as 0B / 0B).
 */
export async function blkioStats(pid: number): Promise<BlkioEntry[] | null> {
  try {
    const [mine, self, mountinfo] = await Promise.all([
      readFile(`/proc/${pid}/cgroup`, 'utf8'),
      readFile('/proc/self/cgroup', 'utf8'),
      readFile('/proc/self/mountinfo', 'utf8'),
    ]);
    const mounts = parseMountinfo(mountinfo);
    const pathOf = (text: string, pred: (ctrls: string[]) => boolean): string | undefined => {
      for (const l of text.split('\n')) {
        const m = /^\d+:([^:]*):(.*)$/.exec(l);
        if (m && pred(m[1]!.split(','))) return m[2]!;
      }
      return undefined;
    };
    const isBlkio = (c: string[]): boolean => c.includes('blkio');
    const v1 = mounts.find((m) => m.version === 1 && m.controllers.includes('blkio'));
    const p1 = pathOf(mine, isBlkio);
    if (v1 && p1 !== undefined && p1 !== '/' && p1 !== pathOf(self, isBlkio)) {
      const text = await readFile(join(v1.mountPoint, p1, 'blkio.throttle.io_service_bytes'), 'utf8');
      const out: BlkioEntry[] = [];
      for (const l of text.split('\n')) {
        const m = /^(\d+):(\d+) (\w+) (\d+)$/.exec(l.trim());
        if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3]!, value: Number(m[4]) });
      }
      return out;
    }
    const v2 = mounts.find((m) => m.version === 2);
    const isUnified = (c: string[]): boolean => c.length === 1 && c[0] === '';
    const p2 = pathOf(mine, isUnified);
    if (v2 && p2 !== undefined && p2 !== '/' && p2 !== pathOf(self, isUnified)) {
      const text = await readFile(join(v2.mountPoint, p2, 'io.stat'), 'utf8');
      const out: BlkioEntry[] = [];
      for (const l of text.split('\n')) {
        const [dev, ...kv] = l.trim().split(/\s+/);
        const mm = /^(\d+):(\d+)$/.exec(dev ?? '');
        if (!mm) continue;
        for (const pair of kv) {
          const [k, v] = pair.split('=');
          const op = k === 'rbytes' ? 'read' : k === 'wbytes' ? 'write' : undefined;
          if (op) out.push({ major: Number(mm[1]), minor: Number(mm[2]), op, value: Number(v) });
        }
      }
      return out;
    }
  } catch {
    // No group, or the process is gone: Docker reports nothing either.
  }
  return null;
}

/**
 * The Engine API stats body from a sample and the one before it. The cgroup's "no limit" (a huge
 * number) becomes the host's memory, as Docker reports it.
 */
export async function dockerStats(id: string, name: string, pid: number, cur: Sample, prev: Sample | undefined): Promise<DockerStats> {
  const limit = cur.cg.memory.limit > 0 && cur.cg.memory.limit < totalmem() ? cur.cg.memory.limit : totalmem();
  const [networks, blkio] = await Promise.all([netStats(pid), blkioStats(pid)]);
  return {
    read: cur.at.toISOString(),
    preread: prev ? prev.at.toISOString() : '0001-01-01T00:00:00Z',
    id,
    name,
    pids_stats: { current: cur.cg.pids.current, ...(cur.cg.pids.limit > 0 && cur.cg.pids.limit < 2 ** 53 ? { limit: cur.cg.pids.limit } : {}) },
    memory_stats: { usage: cur.cg.memory.usage, limit, ...(cur.cg.memory.stat ? { stats: cur.cg.memory.stat } : {}) },
    cpu_stats: cpuStats(cur),
    precpu_stats: cpuStats(prev),
    ...(networks ? { networks } : {}),
    blkio_stats: { io_service_bytes_recursive: blkio },
  };
}

export class TopError extends Error {}

/**
 * `top`: the host's ps with the caller's options, keeping the rows whose PID is in the container,
 * parsed the way Docker does (titles split on blanks; the last column takes the rest of the line).
 */
export async function top(psArgs: string, pids: readonly number[]): Promise<{ Titles: string[]; Processes: string[][] }> {
  const args = psArgs.trim() ? psArgs.trim().split(/\s+/) : ['-ef'];
  let stdout: string;
  try {
    ({ stdout } = await execFileP('ps', args, { maxBuffer: 64 << 20 }));
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new TopError(`ps: ${(e.stderr ?? '').trim() || e.message}`);
  }
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  const titles = (lines[0] ?? '').trim().split(/\s+/);
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw new TopError("Couldn't find PID field in ps output");
  const want = new Set(pids);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    const pid = Number(fields[pidIndex]);
    if (!Number.isInteger(pid)) throw new TopError(`Unexpected pid '${fields[pidIndex] ?? ''}': invalid pid`);
    if (!want.has(pid)) continue;
    processes.push([...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')]);
  }
  return { Titles: titles, Processes: processes };
}

/** Bytes of the files under `dir` (the container's upper dir), like the overlay driver's DiffSize. */
export async function dirSize(dir: string): Promise<number> {
  let total = 0;
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return 0;
  }
  for (const name of entries) {
    const p = join(dir, name);
    try {
      const st = await lstat(p);
      if (st.isDirectory()) total += await dirSize(p);
      else if (st.isFile() || st.isSymbolicLink()) total += st.size;
    } catch {
      // Removed while walking: not there any more.
    }
  }
  return total;
}
