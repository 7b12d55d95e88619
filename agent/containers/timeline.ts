// Per-container timing of the lifecycle's steps, to answer "where do the milliseconds of
// `run --rm` go" without a profiler. With debug logging every container gets one; otherwise only a
// container whose creator asked for it (`POST /containers/run?timings=1`). The whole timeline is
// logged at debug level as one line when the container is removed, or when an exit is handled.
import type { Logger } from '../../lib/log.js';

interface Timeline {
  t0: number;
  last: number;
  steps: Record<string, number>;
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

export class Timelines {
  private readonly marks = new Map<string, Timeline>();

  constructor(
    private readonly log: Logger,
    private readonly all: boolean,
  ) {}

  /** Starts the clock of `id` at `t0` (performance.now()), when debug logging is on or `force`. */
  begin(id: string, t0: number, force: boolean): void {
    if (this.all || force) this.marks.set(id, { t0, last: t0, steps: {} });
  }

  /** Adds the time since the previous mark of `id` to `step`. */
  mark(id: string, step: string): void {
    const m = this.marks.get(id);
    if (!m) return;
    const now = performance.now();
    m.steps[step] = round(now - m.last + (m.steps[step] ?? 0));
    m.last = now;
  }

  /** The steps so far, and `total` since begin. */
  snapshot(id: string): Record<string, number> | undefined {
    const m = this.marks.get(id);
    return m ? { ...m.steps, total: round(m.last - m.t0) } : undefined;
  }

  /** Logs and forgets the timeline of `id`. */
  flush(id: string, what: string): void {
    const m = this.marks.get(id);
    if (!m) return;
    this.marks.delete(id);
    this.log.debug(what, { id, totalMs: round(m.last - m.t0), stepsMs: m.steps });
  }
}
