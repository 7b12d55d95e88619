// /proc/PID/stat, the fields this project reads: the process state and its start time (field 22,
// clock ticks since boot), which together with the pid tells a live process from a recycled pid.
import { readFileSync } from 'node:fs';

export interface ProcStat {
  /** Field 3: R, S, D, Z (zombie), X (dead), T, t, I … */
  state: string;
  /** Field 22, kept as the kernel's text so that it compares exactly (it may exceed 2^53 in theory). */
  startTime: string;
}

export class ProcStatError extends Error {
  override name = 'ProcStatError';
}

/** Parses the text of /proc/PID/stat. comm (field 2) may hold spaces and parentheses, so the fixed fields are counted from its last ')'. */
export function parseProcStat(text: string): ProcStat {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new ProcStatError(`/proc/PID/stat: no ')' closing the comm field in ${JSON.stringify(text.slice(0, 80))}`);
  const fields = text.slice(close + 2).trimEnd().split(' ');
  const state = fields[0];
  const startTime = fields[19];
  if (!state || startTime === undefined || !/^\d+$/.test(startTime)) {
    throw new ProcStatError(`/proc/PID/stat: expected a state and a numeric field 22 (starttime) after comm, got ${JSON.stringify(text.slice(close + 1, close + 120))}`);
  }
  return { state, startTime };
}

/** Reads and parses /proc/PID/stat; undefined when the process is gone (or the file unreadable). */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return parseProcStat(text);
}
