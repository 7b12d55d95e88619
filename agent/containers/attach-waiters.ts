// Attach requests for containers that are not running yet: each waits for the container's next
// start, where it is connected after the runtime has created the container and before its process
// runs, so no output is missed.
import type { EventEmitter } from 'node:events';
import type { AttachConnection } from '../../runtime/index.js';

type Waiter = (c: AttachConnection | undefined) => void;

export class AttachWaiters {
  private readonly waiters = new Map<string, Set<Waiter>>();

  /** `events` carries `removed:ID`: a removal resolves the wait with undefined. */
  constructor(private readonly events: EventEmitter) {}

  /** A connection at the next start of `id`; undefined when it is removed first or on cancel(). */
  wait(id: string): { conn: Promise<AttachConnection | undefined>; cancel: () => void } {
    let waiter: Waiter | undefined;
    const conn = new Promise<AttachConnection | undefined>((resolve) => {
      waiter = resolve;
    });
    const set = this.waiters.get(id) ?? new Set();
    set.add(waiter!);
    this.waiters.set(id, set);
    const onRemoved = (): void => cancel();
    const cancel = (): void => {
      this.events.off(`removed:${id}`, onRemoved);
      if (this.waiters.get(id)?.delete(waiter!) && this.waiters.get(id)?.size === 0) this.waiters.delete(id);
      waiter!(undefined);
    };
    this.events.once(`removed:${id}`, onRemoved);
    void conn.then(() => this.events.off(`removed:${id}`, onRemoved));
    return { conn, cancel };
  }

  /** Connects every waiter of `id` (called between the runtime's create and start). */
  async serve(id: string, attach: () => Promise<AttachConnection | undefined>): Promise<void> {
    const set = this.waiters.get(id);
    if (!set?.size) return;
    this.waiters.delete(id);
    await Promise.all([...set].map(async (w) => w(await attach())));
  }
}
