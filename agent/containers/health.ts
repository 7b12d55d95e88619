// Healthchecks as Docker runs them, minus the I/O: the engine runs each probe (exec in the container)
// and feeds the result here. State is Docker's State.Health: Status, FailingStreak, Log (last 5).
// All times are passed in (ms since epoch) so tests need no clock.
import type { HealthConfig } from './create-config.js';
import { formatDuration } from '../../lib/units.js';

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

export interface HealthLogEntry {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

export interface HealthState {
  Status: HealthStatus;
  FailingStreak: number;
  Log: HealthLogEntry[];
}

/** Docker's defaults (ns), used where the container's and image's config leave a field 0. */
export const DEFAULT_INTERVAL_NS = 30e9;
export const DEFAULT_TIMEOUT_NS = 30e9;
export const DEFAULT_START_PERIOD_NS = 0;
export const DEFAULT_START_INTERVAL_NS = 5e9;
export const DEFAULT_RETRIES = 3;
export const MAX_LOG_ENTRIES = 5;
/** Docker keeps at most this many bytes of a probe's output. */
export const MAX_OUTPUT_BYTES = 4096;

export interface ResolvedHealthcheck {
  /** argv to exec in the container. */
  argv: string[];
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  startIntervalMs: number;
  retries: number;
}

/**
 * Merges the container's healthcheck over the image's, as Docker does field by field (0 or empty
 * means "inherit"), and resolves defaults. Returns undefined when there is no healthcheck or it is
 * disabled with ["NONE"].
 */
export function resolveHealthcheck(container: HealthConfig | undefined, image?: HealthConfig): ResolvedHealthcheck | undefined {
  const test = container?.Test && container.Test.length > 0 ? container.Test : image?.Test;
  if (!test || test.length === 0 || test[0] === 'NONE') return undefined;
  const pick = (f: 'Interval' | 'Timeout' | 'StartPeriod' | 'StartInterval', dflt: number): number => {
    const v = container?.[f] || image?.[f] || dflt;
    return v / 1e6;
  };
  let argv: string[];
  if (test[0] === 'CMD') argv = test.slice(1);
  else if (test[0] === 'CMD-SHELL') argv = ['/bin/sh', '-c', test.slice(1).join(' ')];
  else throw new Error(`Healthcheck.Test must start with NONE, CMD or CMD-SHELL (got "${test[0]}")`);
  if (argv.length === 0 || argv[0] === '') throw new Error('Healthcheck.Test has no command after ' + test[0]);
  return {
    argv,
    intervalMs: pick('Interval', DEFAULT_INTERVAL_NS),
    timeoutMs: pick('Timeout', DEFAULT_TIMEOUT_NS),
    startPeriodMs: pick('StartPeriod', DEFAULT_START_PERIOD_NS),
    startIntervalMs: pick('StartInterval', DEFAULT_START_INTERVAL_NS),
    retries: container?.Retries || image?.Retries || DEFAULT_RETRIES,
  };
}

/** A fresh state for a container that has just started. */
export const initialHealth = (): HealthState => ({ Status: 'starting', FailingStreak: 0, Log: [] });

export interface ProbeResult {
  startMs: number;
  endMs: number;
  exitCode: number;
  output: string;
}

/** The result to record when a probe ran past its timeout (Docker's wording). */
export function timeoutResult(startMs: number, endMs: number, timeoutMs: number): ProbeResult {
  return { startMs, endMs, exitCode: -1, output: `Health check exceeded timeout (${formatDuration(timeoutMs * 1e6)})` };
}

/** The result to record when the probe could not be run at all (exec failed). */
export function errorResult(startMs: number, endMs: number, err: Error): ProbeResult {
  return { startMs, endMs, exitCode: -1, output: err.message };
}

function truncateOutput(s: string): string {
  const b = Buffer.from(s, 'utf8');
  return b.length <= MAX_OUTPUT_BYTES ? s : b.subarray(0, MAX_OUTPUT_BYTES).toString('utf8');
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Applies one probe result (Docker's handleProbeResult). Exit 0 → healthy and the streak resets.
 * A failure while still `starting` and inside the start period does not count; otherwise the
 * streak grows and reaching `retries` makes the container unhealthy.
 */
export function applyProbe(state: HealthState, r: ProbeResult, hc: ResolvedHealthcheck, containerStartedMs: number): HealthState {
  const entry: HealthLogEntry = { Start: iso(r.startMs), End: iso(r.endMs), ExitCode: r.exitCode, Output: truncateOutput(r.output) };
  const Log = [...state.Log, entry].slice(-MAX_LOG_ENTRIES);
  if (r.exitCode === 0) return { Status: 'healthy', FailingStreak: 0, Log };
  const inStartPeriod = state.Status === 'starting' && r.startMs - containerStartedMs < hc.startPeriodMs;
  if (inStartPeriod) return { Status: state.Status, FailingStreak: state.FailingStreak, Log };
  const FailingStreak = state.FailingStreak + 1;
  return { Status: FailingStreak >= hc.retries ? 'unhealthy' : state.Status, FailingStreak, Log };
}

/**
 * How long to wait before the next probe (after the previous one finished, or after the start).
 * Docker probes at StartInterval while the container is still `starting` inside its start period,
 * and at Interval otherwise.
 */
export function nextProbeDelay(state: HealthState, hc: ResolvedHealthcheck, containerStartedMs: number, nowMs: number): number {
  if (nowMs - containerStartedMs >= hc.startPeriodMs) return hc.intervalMs;
  return state.Status === 'starting' ? hc.startIntervalMs : hc.intervalMs;
}
