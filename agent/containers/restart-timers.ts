// Pending restarts (restart policies' back-off): one timer per container, cancelled by a manual
// start, stop, removal or the daemon's shutdown.

export class RestartTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  /** Runs `fn` after `delayMs`, replacing any restart already pending for `id`. */
  schedule(id: string, delayMs: number, fn: () => void): void {
    this.cancel(id);
    const t = setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, delayMs);
    this.timers.set(id, t);
  }

  cancel(id: string): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
  }

  cancelAll(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
