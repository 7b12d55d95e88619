// Engine API: GET /events, Docker's stream of JSON lines. `since` replays from the daemon's ring of
// recent events, `until` ends the stream at that time, `filters` selects as `docker events --filter`.
import { badRequest, HANDLED, type Router } from './router.js';
import type { Engine } from '../engine.js';
import { matchEvent, parseEventTime, type EngineEvent } from '../events.js';

function parseFilterParam(raw: string | null): Record<string, string[]> {
  if (!raw) return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw badRequest(`invalid filter: ${raw}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badRequest(`invalid filter: ${raw}`);
  const out: Record<string, string[]> = {};
  // Docker's clients send either {"type":["container"]} or the older {"type":{"container":true}}.
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (Array.isArray(val)) out[k] = val.map(String);
    else if (typeof val === 'object' && val !== null) out[k] = Object.keys(val);
    else throw badRequest(`invalid filter: ${raw}`);
  }
  return out;
}

function time(q: string | null, what: string): number | undefined {
  if (!q) return undefined;
  try {
    return parseEventTime(q);
  } catch (e) {
    throw badRequest(`${what}: ${(e as Error).message}`);
  }
}

export function eventRoutes(router: Router, e: Engine): void {
  router.get('/events', async ({ query, req, res }) => {
    const since = time(query.get('since'), 'since');
    const until = time(query.get('until'), 'until');
    const filters = parseFilterParam(query.get('filters'));
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    const send = (ev: EngineEvent): void => {
      if (matchEvent(ev, filters)) res.write(JSON.stringify(ev) + '\n');
    };
    // Subscribed before the replay is read, so no event falls between the two; the replay's last
    // timeNano drops any duplicate.
    const live: EngineEvent[] = [];
    let replaying = true;
    let lastNano = -1;
    const unsubscribe = e.events.subscribe((ev) => {
      if (replaying) live.push(ev);
      else if (ev.timeNano > lastNano && (until === undefined || ev.timeNano <= until)) send(ev);
    });
    if (since !== undefined) {
      for (const ev of e.events.replay(since, until)) {
        send(ev);
        lastNano = ev.timeNano;
      }
    }
    replaying = false;
    for (const ev of live) if (ev.timeNano > lastNano && (until === undefined || ev.timeNano <= until)) send(ev);
    const nowNano = Date.now() * 1e6;
    let timer: NodeJS.Timeout | undefined;
    const end = (): void => {
      unsubscribe();
      if (timer) clearTimeout(timer);
      if (!res.writableEnded) res.end();
    };
    req.once('close', end);
    res.once('close', end);
    if (until !== undefined) {
      if (until <= nowNano) end();
      else timer = setTimeout(end, Math.ceil((until - nowNano) / 1e6));
    }
    return HANDLED;
  });
}
