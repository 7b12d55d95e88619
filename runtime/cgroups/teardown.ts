// Removing groups that may still hold processes or child groups: shared by both backends.
import { readOptional, removeDir, subtreeDeepestFirst, waitFor, type RmdirOutcome } from './fsio.js';
import { parsePidList } from './stats-parse.js';

export interface TeardownOptions {
  /** Runs once if anything is left, before the kill loop: thaw, write cgroup.kill, … */
  beforeKill(busyGroups: string[]): void;
  removeDir?: (dir: string) => RmdirOutcome;
  timeoutMs?: number;
}

/** All PIDs in the given group directories (direct members of each). */
export function pidsIn(dirs: string[]): number[] {
  const out: number[] = [];
  for (const d of dirs) {
    const text = readOptional(`${d}/cgroup.procs`);
    if (text !== undefined) out.push(...parsePidList(text));
  }
  return out;
}

/**
 * Removes each group directory. The common case (an exited container) is one rmdir each; only groups
 * that refuse get the slow path: kill every member, wait for them to go, rmdir deepest first.
 */
export async function teardownGroups(groups: string[], opts: TeardownOptions): Promise<void> {
  const rm = opts.removeDir ?? removeDir;
  const busy = groups.filter((g) => rm(g) === 'busy');
  if (busy.length === 0) return;
  opts.beforeKill(busy);
  const dirs = busy.flatMap(subtreeDeepestFirst);
  await waitFor(
    `the processes in ${busy.join(', ')} to exit`,
    () => {
      const pids = pidsIn(dirs);
      // Repeat the kill each round: a member may have forked since the last look.
      for (const pid of pids) killQuietly(pid);
      return pids.length === 0;
    },
    opts.timeoutMs,
  );
  // The kernel releases an emptied group asynchronously, so rmdir can still say EBUSY for a moment.
  await waitFor(
    `rmdir of ${busy.join(', ')}`,
    () => dirs.every((d) => rm(d) !== 'busy'),
    opts.timeoutMs,
  );
}

function killQuietly(pid: number): void {
  // Never our own process, in case the daemon was (wrongly) placed in the group.
  if (pid === process.pid || pid <= 0) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // ESRCH: already gone, which is the goal.
  }
}
