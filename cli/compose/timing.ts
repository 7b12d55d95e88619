// TSSWARM_TIMING=1: where a tscompose command's time went, as one stderr line at exit
// (`tscompose: timings {"phase": ms, …}`, each phase the time since the previous mark), the same
// convention as `tsswarm run` so benchmarks can take medians per phase.
const enabled = process.env.TSSWARM_TIMING === '1';
const marks: Array<[string, number]> = [];

/** Records that `phase` ended now. Free when timing is off. */
export function mark(phase: string): void {
  if (enabled) marks.push([phase, performance.now()]);
}

/** The timings line, or nothing when timing is off. The first phase starts at process start. */
export function report(): void {
  if (!enabled || marks.length === 0) return;
  const out: Record<string, number> = {};
  let prev = 0;
  for (const [phase, t] of marks) {
    out[phase] = Math.round((t - prev) * 10) / 10;
    prev = t;
  }
  out.total = Math.round(prev * 10) / 10;
  process.stderr.write(`tscompose: timings ${JSON.stringify(out)}\n`);
}
