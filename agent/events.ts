// The daemon's event stream (Docker's GET /events): services publish, the API route subscribes. A
// bounded ring of recent events serves `--since` replays, as dockerd keeps a fixed-size log in memory.

export type EventType = 'container' | 'image' | 'network' | 'volume';

/** One event in Docker's JSON shape, with the legacy `status`/`id`/`from` fields it still sends. */
export interface EngineEvent {
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
  status?: string;
  id?: string;
  from?: string;
}

export type EventListener = (e: EngineEvent) => void;

const RING_SIZE = 1000;

export class EventBus {
  private readonly ring: EngineEvent[] = [];
  private readonly listeners = new Set<EventListener>();
  private lastNano = 0;

  publish(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): void {
    // Strictly increasing nanoseconds, so --since/--until at an event's own time are unambiguous.
    const nano = Math.max(Date.now() * 1e6, this.lastNano + 1);
    this.lastNano = nano;
    const e: EngineEvent = { Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope: 'local', time: Math.floor(nano / 1e9), timeNano: nano };
    // Docker adds the pre-1.22 fields for containers and images only.
    if (type === 'container' || type === 'image') {
      e.status = action;
      e.id = id;
      if (attributes.image !== undefined) e.from = attributes.image;
    }
    this.ring.push(e);
    if (this.ring.length > RING_SIZE) this.ring.shift();
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // One broken subscriber must not stop the others or the publisher.
      }
    }
  }

  /** Events kept in the ring with timeNano in [sinceNano, untilNano]. */
  replay(sinceNano: number, untilNano = Infinity): EngineEvent[] {
    return this.ring.filter((e) => e.timeNano >= sinceNano && e.timeNano <= untilNano);
  }

  subscribe(l: EventListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}

/** Docker's time arguments: unix seconds with an optional fraction, RFC 3339, or a duration ago (10m). */
export function parseEventTime(s: string, nowMs = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(s)) {
    const [sec, frac = ''] = s.split('.');
    return Number(sec) * 1e9 + Number((frac + '000000000').slice(0, 9));
  }
  const d = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(s);
  if (d) {
    const mult: Record<string, number> = { ns: 1e-6, us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };
    return (nowMs - Number(d[1]) * mult[d[2]!]!) * 1e6;
  }
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new Error(`failed to parse value as time or duration: "${s}"`);
  return t * 1e6;
}

/** Docker's event filters: type, event (action), container/image/network/volume (id or name), label. */
export function matchEvent(e: EngineEvent, f: Record<string, string[]>): boolean {
  const any = (k: string, test: (v: string) => boolean): boolean => !f[k]?.length || f[k]!.some(test);
  const actorIs = (v: string): boolean => e.Actor.ID === v || e.Actor.ID.startsWith(v) || e.Actor.Attributes.name === v;
  return (
    any('type', (v) => v === e.Type) &&
    // "health_status" matches "health_status: healthy", as in Docker.
    any('event', (v) => e.Action === v || e.Action.startsWith(`${v}:`)) &&
    (!f.container?.length || (e.Type === 'container' && f.container.some(actorIs))) &&
    (!f.image?.length || f.image.some((v) => (e.Type === 'image' && actorIs(v)) || e.Actor.Attributes.image === v)) &&
    (!f.network?.length || (e.Type === 'network' && f.network.some(actorIs))) &&
    (!f.volume?.length || (e.Type === 'volume' && f.volume.some(actorIs))) &&
    any('label', (v) => {
      const i = v.indexOf('=');
      return i < 0 ? v in e.Actor.Attributes : e.Actor.Attributes[v.slice(0, i)] === v.slice(i + 1);
    })
  );
}
