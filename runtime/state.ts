// The per-container state directory under the runtime root:
//   state.json   our record (written once by create)
//   exec.fifo    exists from create until start (the init blocks on it)
//   exit         written atomically by the monitor when the init ends
//   paused       present while the cgroup is frozen
//   container.log  default log (json lines) when stdio is logged
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { readProcStat } from '../lib/procstat.js';
import type { SpecProcess } from './spec.js';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export interface ContainerRecord {
  id: string;
  bundle: string;
  rootfs: string;
  pid: number;
  /** /proc/<pid>/stat start time, so a reused pid is not mistaken for our init. */
  pidStart: number;
  monitorPid: number;
  monitorStart: number;
  created: string;
  /** Relative group path for the CgroupManager, or null when running without cgroups. */
  cgroupPath: string | null;
  annotations: Record<string, string>;
  logPath: string | null;
  /** The container's process, the base for exec (env, user, capabilities, cwd). */
  process: SpecProcess;
  init: boolean;
  /** linux.seccomp of the spec, applied to exec'd processes too (as runc does); absent = none. */
  seccomp?: unknown;
}

export interface ExitStatus {
  exitCode: number;
  /** Signal number that ended the init, 0 if it exited. */
  signal: number;
  finishedAt: string;
  oomKilled: boolean;
  /** The monitor died before the init: the real status is unknown and exitCode is 255. */
  statusLost?: boolean;
}

/** The OCI runtime-spec state (runtime-spec/runtime.md#state) plus runc's extra fields. */
export interface OciState {
  ociVersion: string;
  id: string;
  status: Status;
  pid: number;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
}

const recordSchema = z.object({
  id: z.string(),
  bundle: z.string(),
  rootfs: z.string(),
  pid: z.number().int(),
  pidStart: z.number(),
  monitorPid: z.number().int(),
  monitorStart: z.number(),
  created: z.string(),
  cgroupPath: z.string().nullable(),
  annotations: z.record(z.string(), z.string()),
  logPath: z.string().nullable(),
  process: z.custom<SpecProcess>((v) => typeof v === 'object' && v !== null),
  init: z.boolean(),
  seccomp: z.unknown().optional(),
});

const exitSchema = z.object({ exitCode: z.number().int(), signal: z.number().int(), finishedAt: z.string() });

export const STATE_FILE = 'state.json';
export const EXIT_FILE = 'exit';
export const FIFO_FILE = 'exec.fifo';
export const PAUSED_FILE = 'paused';

// Sync on purpose: tiny files on /run, on the hot path of every container start; a thread-pool
// round trip per read costs more than the read.
export function readRecord(dir: string): ContainerRecord {
  const text = readFileSync(join(dir, STATE_FILE), 'utf8');
  return recordSchema.parse(JSON.parse(text));
}

export function parseExit(text: string): Omit<ExitStatus, 'oomKilled'> {
  return exitSchema.parse(JSON.parse(text));
}

export function readExit(dir: string): Omit<ExitStatus, 'oomKilled'> | undefined {
  try {
    return parseExit(readFileSync(join(dir, EXIT_FILE), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks), or undefined if gone or a zombie. */
export function processStart(pid: number): number | undefined {
  const stat = readProcStat(pid);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return undefined;
  return Number(stat.startTime);
}

export function isAlive(pid: number, start: number): boolean {
  return pid > 0 && processStart(pid) === start;
}
