// One daemon per data root and per exec root. Node has no flock(2), so the lock is a pid file created
// with O_EXCL ('wx'): its holder is identified by pid plus the process start time from /proc/PID/stat
// (so a recycled pid is not mistaken for a live daemon) and checked to be a tsswarm daemon.
import { readFileSync } from 'node:fs';
import { open, readFile, rename, unlink, link } from 'node:fs/promises';
import { readProcStat } from '../lib/procstat.js';

export class PidFileError extends Error {}

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot); undefined when the pid is gone. */
export function processStartTime(pid: number): string | undefined {
  return readProcStat(pid)?.startTime;
}

/** True when `pid` (started at `start`, when recorded) is alive and runs `tsswarm daemon`. */
function isLiveDaemon(pid: number, start: string | undefined): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  const now = processStartTime(pid);
  if (now === undefined || (start !== undefined && start !== now)) return false;
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return false;
  }
  return argv.some((a) => /tsswarm/.test(a)) && argv.includes('daemon');
}

function parse(text: string): { pid: number; start?: string } {
  const [p, s] = text.split('\n');
  return { pid: Number(p?.trim()), ...(s?.trim() ? { start: s.trim() } : {}) };
}

const message = (path: string): string => `pid file found, ensure tsswarm daemon is not running or delete ${path}`;

/**
 * Creates `path` holding this process's pid and start time, or throws PidFileError when a live daemon
 * holds it. A stale file (its process gone, or not a tsswarm daemon) is replaced.
 */
export async function acquirePidFile(path: string): Promise<void> {
  const content = `${process.pid}\n${processStartTime(process.pid) ?? ''}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o644);
      try {
        await fh.writeFile(content);
      } finally {
        await fh.close();
      }
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const old = await readFile(path, 'utf8').catch(() => undefined);
    if (old === undefined) continue; // removed meanwhile: try again
    const holder = parse(old);
    if (isLiveDaemon(holder.pid, holder.start)) throw new PidFileError(message(path));
    // Stale. Moved aside rather than unlinked, and checked after the move: if another starting daemon
    // replaced it between our read and the move, we moved a live lock and put it back.
    const aside = `${path}.stale-${process.pid}`;
    try {
      await rename(path, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    const moved = await readFile(aside, 'utf8').catch(() => '');
    if (moved !== old) {
      await link(aside, path).catch(() => undefined);
      await unlink(aside).catch(() => undefined);
      throw new PidFileError(message(path));
    }
    await unlink(aside).catch(() => undefined);
  }
  throw new PidFileError(message(path));
}

/** Removes `path` only when it still names this process (a successor's lock is left alone). */
export async function releasePidFile(path: string): Promise<void> {
  const text = await readFile(path, 'utf8').catch(() => '');
  if (parse(text).pid === process.pid) await unlink(path).catch(() => undefined);
}
