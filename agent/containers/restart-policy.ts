// Docker's restart manager as a pure function: whether an exited container is restarted, and after
// what delay. The back-off starts at 100 ms, doubles with each restart, is capped at 1 minute, and
// starts over when the container had run for at least 10 seconds.

export type RestartPolicyName = 'no' | 'always' | 'unless-stopped' | 'on-failure';

export interface RestartPolicyInput {
  Name?: RestartPolicyName | '';
  MaximumRetryCount?: number;
}

/** What the engine keeps per container between exits (persist it with the container record). */
export interface RestartState {
  /** Restarts done so far (Docker's RestartCount). */
  restartCount: number;
  /** The last back-off delay in ms; 0 before the first restart. */
  delayMs: number;
}

export interface ExitEvent {
  exitCode: number;
  /** How long this run lasted, in ms (finishedAt - startedAt, from the injected clock). */
  ranForMs: number;
  /**
   * The user stopped it (`stop`, `kill`, `rm -f`) or the daemon is shutting down. Docker folds the
   * two together: neither leads to a restart from the exit itself.
   */
  stoppedByUser: boolean;
  daemonShutdown?: boolean;
  /**
   * The container was stopped by the user before and has not been started by the user since
   * (Docker's HasBeenManuallyStopped); consulted when the daemon restarts (`unless-stopped`).
   */
  hasBeenManuallyStopped?: boolean;
}

export interface RestartDecision {
  restart: boolean;
  /** Wait this long before starting again (only meaningful when restart is true). */
  delayMs: number;
  /** State to keep for the next exit. */
  next: RestartState;
}

export const INITIAL_DELAY_MS = 100;
export const MAX_DELAY_MS = 60_000;
export const RESET_AFTER_MS = 10_000;

export const initialRestartState = (): RestartState => ({ restartCount: 0, delayMs: 0 });

/** Decides what happens after an exit. Pure. */
export function decideRestart(policy: RestartPolicyInput | undefined, state: RestartState, ev: ExitEvent): RestartDecision {
  const name = policy?.Name || 'no';
  // A run of 10 s or more shows the container can work: the next back-off starts small again.
  let delay = ev.ranForMs >= RESET_AFTER_MS ? 0 : state.delayMs;
  delay = delay === 0 ? INITIAL_DELAY_MS : Math.min(delay * 2, MAX_DELAY_MS);

  const manual = ev.stoppedByUser || ev.daemonShutdown === true;
  let restart = false;
  if (!manual) {
    switch (name) {
      case 'always':
        restart = true;
        break;
      case 'unless-stopped':
        restart = !ev.hasBeenManuallyStopped;
        break;
      case 'on-failure': {
        const max = policy?.MaximumRetryCount ?? 0;
        restart = ev.exitCode !== 0 && (max === 0 || state.restartCount < max);
        break;
      }
      case 'no':
        break;
    }
  }
  if (!restart) return { restart: false, delayMs: 0, next: { restartCount: state.restartCount, delayMs: delay } };
  return { restart: true, delayMs: delay, next: { restartCount: state.restartCount + 1, delayMs: delay } };
}

/**
 * At daemon start: should a container that was running (or restarting) when the daemon stopped be
 * started again? Docker: `always` yes; `unless-stopped` unless the user had stopped it; `on-failure`
 * only if it had failed and retries remain; `no` never.
 */
export function restartOnDaemonStart(
  policy: RestartPolicyInput | undefined,
  c: { exitCode: number; restartCount: number; hasBeenManuallyStopped: boolean },
): boolean {
  const name = policy?.Name || 'no';
  if (name === 'always') return true;
  if (name === 'unless-stopped') return !c.hasBeenManuallyStopped;
  if (name === 'on-failure') {
    const max = policy?.MaximumRetryCount ?? 0;
    return !c.hasBeenManuallyStopped && c.exitCode !== 0 && (max === 0 || c.restartCount < max);
  }
  return false;
}
