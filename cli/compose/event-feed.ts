// A subscription to the daemon's event stream (GET /events) for some containers, as a "something
// happened" signal: callers re-read the containers' state when it fires rather than polling.
import type { IncomingMessage } from 'node:http';
import type { Client } from '../client.js';

export interface EventFeed {
  /** Resolves once an event has arrived since the previous call (at once if one already has); rejects if the stream ends. */
  next(): Promise<void>;
  close(): void;
}

/**
 * Subscribes to `actions` of the given containers. Resolves once the daemon has answered: the daemon
 * subscribes before it sends the response headers, so no event after this point is missed.
 */
export async function containerEvents(client: Client, ids: string[], actions: string[]): Promise<EventFeed> {
  const filters = JSON.stringify({ type: ['container'], container: ids, event: actions });
  const res: IncomingMessage = await client.raw('/events', { query: { filters } });
  if ((res.statusCode ?? 0) >= 400) {
    res.resume();
    throw new Error(`GET /events: the daemon answered ${res.statusCode} to filters ${filters}`);
  }
  let seen = 0;
  let taken = 0;
  let ended: Error | undefined;
  let wake: (() => void) | undefined;
  let closed = false;
  const poke = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  let partial = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    if (lines.some((l) => l.trim() !== '')) {
      seen++;
      poke();
    }
  });
  const stop = (why: string): void => {
    ended ??= new Error(why);
    poke();
  };
  res.on('end', () => stop('the daemon closed the event stream'));
  res.on('error', (e) => stop(`the event stream failed: ${e.message}`));
  return {
    async next() {
      while (seen === taken) {
        if (ended) throw closed ? new Error('event feed closed') : ended;
        await new Promise<void>((r) => (wake = r));
      }
      taken = seen;
    },
    close() {
      closed = true;
      res.destroy();
    },
  };
}
