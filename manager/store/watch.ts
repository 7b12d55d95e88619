// Watch streams: subscribers get the events of each applied batch in commit order. A subscriber
// that falls behind is closed with a reason rather than allowed to stall apply or grow without bound.
import type { StoreEvent, Table } from './types.js';

export interface WatchFilter {
  tables?: readonly Table[];
  kinds?: readonly StoreEvent['kind'][];
  match?: (e: StoreEvent) => boolean;
}

export interface Watch {
  /** Next event; undefined once the watch is closed (see `closedReason`). */
  next(): Promise<StoreEvent | undefined>;
  close(): void;
  readonly closedReason: string | undefined;
}

class Subscriber implements Watch {
  private readonly queue: StoreEvent[] = [];
  private waiter: ((e: StoreEvent | undefined) => void) | undefined;
  closedReason: string | undefined;

  constructor(
    private readonly filter: WatchFilter,
    private readonly limit: number,
    private readonly onClose: (s: Subscriber) => void,
  ) {}

  offer(e: StoreEvent): void {
    if (this.closedReason) return;
    const f = this.filter;
    if (f.tables && !f.tables.includes(e.table)) return;
    if (f.kinds && !f.kinds.includes(e.kind)) return;
    if (f.match && !f.match(e)) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(e);
      return;
    }
    if (this.queue.length >= this.limit) {
      this.end(`watch fell more than ${this.limit} events behind; resynchronise from a fresh view`);
      return;
    }
    this.queue.push(e);
  }

  next(): Promise<StoreEvent | undefined> {
    const e = this.queue.shift();
    if (e) return Promise.resolve(e);
    if (this.closedReason) return Promise.resolve(undefined);
    return new Promise((resolve) => (this.waiter = resolve));
  }

  end(reason: string): void {
    if (this.closedReason) return;
    this.closedReason = reason;
    this.onClose(this);
    const w = this.waiter;
    this.waiter = undefined;
    w?.(undefined);
  }

  close(): void {
    this.end('closed by the watcher');
  }
}

export class WatchHub {
  private readonly subs = new Set<Subscriber>();
  /** Recent events, so a watch can resume from an index it already saw. */
  private readonly history: StoreEvent[] = [];

  constructor(
    private readonly historyLimit = 10_000,
    private readonly queueLimit = 10_000,
  ) {}

  publish(events: readonly StoreEvent[]): void {
    for (const e of events) {
      this.history.push(e);
      for (const s of this.subs) s.offer(e);
    }
    if (this.history.length > this.historyLimit) this.history.splice(0, this.history.length - this.historyLimit);
  }

  /**
   * A watch from now, or from just after raft index `from` when that is still in the history. When it
   * is not, the watch is closed at once telling the caller to resynchronise.
   */
  watch(filter: WatchFilter = {}, from?: number): Watch {
    const s = new Subscriber(filter, this.queueLimit, (x) => this.subs.delete(x));
    if (from !== undefined) {
      const oldest = this.history[0]?.index;
      if (oldest !== undefined && from < oldest - 1) {
        s.end(`index ${from} is older than the store's change history (from ${oldest}); resynchronise from a fresh view`);
        return s;
      }
      for (const e of this.history) if (e.index > from) s.offer(e);
    }
    this.subs.add(s);
    return s;
  }

  closeAll(reason: string): void {
    for (const s of [...this.subs]) s.end(reason);
  }
}
