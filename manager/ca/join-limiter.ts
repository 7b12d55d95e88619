// Failed joins are rate-limited per source address, so a token cannot be guessed by brute force
// through the one unauthenticated call. Pure: the clock is passed in.
export class JoinLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures = 5,
    private readonly windowMs = 60_000,
  ) {}

  /** Milliseconds until `source` may try again; 0 when it may now. */
  retryAfter(source: string, now: number): number {
    const recent = this.recent(source, now);
    if (recent.length < this.maxFailures) return 0;
    return recent[0]! + this.windowMs - now;
  }

  fail(source: string, now: number): void {
    const recent = this.recent(source, now);
    recent.push(now);
    this.failures.set(source, recent);
  }

  succeed(source: string): void {
    this.failures.delete(source);
  }

  private recent(source: string, now: number): number[] {
    const list = (this.failures.get(source) ?? []).filter((t) => now - t < this.windowMs);
    if (list.length === 0) this.failures.delete(source);
    return list;
  }
}
