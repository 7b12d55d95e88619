// Start-up reconciliation's decisions, apart from the I/O that gathers their inputs: what a
// container's record says after a daemon restart, given what the runtime still has of it. Pure.
import { isActive, type ContainerRecord } from './record.js';
import { restartOnDaemonStart } from './restart-policy.js';

/** Recorded in State.Error when the daemon stopped a container on shutdown, so the next start resumes it. */
export const SHUTDOWN_MARK = 'stopped by daemon shutdown';

/**
 * The exit code to record for a container that is not running any more. A record that said it was
 * running while the runtime has nothing of it died with the daemon's host (Docker records 255); a
 * runtime state left behind knows its own exit code.
 */
export function exitCodeAtLoad(wasActive: boolean, runtimeHadState: boolean, runtimeExitCode: number | undefined, recorded: number): number {
  if (wasActive && !runtimeHadState) return 255;
  return runtimeExitCode ?? recorded;
}

/**
 * What happens next to a container that is not running at load: started again by its restart policy
 * (only if it was running, or stopped by the daemon's own shutdown), removed (--rm), or kept.
 */
export function nextAtLoad(c: ContainerRecord, wasActive: boolean): 'start' | 'remove' | 'keep' {
  const policy = c.HostConfig.RestartPolicy as Parameters<typeof restartOnDaemonStart>[0];
  const byShutdown = c.State.Error === SHUTDOWN_MARK;
  if ((wasActive || byShutdown) && restartOnDaemonStart(policy, { exitCode: byShutdown ? 0 : c.State.ExitCode, restartCount: c.RestartCount, hasBeenManuallyStopped: c.ManuallyStopped })) {
    return 'start';
  }
  if (c.HostConfig.AutoRemove && !isActive(c.State.Status)) return 'remove';
  return 'keep';
}
