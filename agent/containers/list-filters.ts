// The `docker ps` filters beyond name/label/status: publish, expose, before, since, volume, is-task,
// with Docker's semantics. Pure: the caller resolves before/since to records first.
import { FilterError, type Filters } from '../../lib/filters.js';
import type { ContainerRecord } from './record.js';

export const EXTRA_LIST_FILTERS = ['publish', 'expose', 'before', 'since', 'volume', 'is-task'] as const;

interface PortRange {
  from: number;
  to: number;
  proto: string;
}

/** "80", "80/udp", "8000-8080/tcp" as Docker's nat.ParsePortRange reads them; tcp when unsaid. */
export function parsePortFilter(v: string, key: string): PortRange {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/.exec(v);
  if (!m) throw new FilterError(`invalid filter '${key}=${v}': expected PORT[-PORT][/tcp|udp|sctp]`);
  const from = Number(m[1]);
  const to = m[2] ? Number(m[2]) : from;
  if (to < from || to > 65535) throw new FilterError(`invalid filter '${key}=${v}': invalid port range`);
  return { from, to, proto: m[3] ?? 'tcp' };
}

function portsMatch(keys: string[], wanted: PortRange[]): boolean {
  return keys.some((k) => {
    const [p, proto = 'tcp'] = k.split('/');
    const n = Number(p);
    return wanted.some((w) => w.proto === proto && n >= w.from && n <= w.to);
  });
}

export interface ResolvedExtraFilters {
  publish?: PortRange[];
  expose?: PortRange[];
  /** Creation times of the before/since containers. */
  before?: string;
  since?: string;
  volume?: string[];
  isTask?: boolean;
}

/** Checks the values and resolves before/since through `lookup` (which throws not-found as Docker does). */
export function resolveExtraFilters(f: Filters, lookup: (ref: string) => ContainerRecord): ResolvedExtraFilters {
  const out: ResolvedExtraFilters = {};
  if (f.publish) out.publish = f.publish.map((v) => parsePortFilter(v, 'publish'));
  if (f.expose) out.expose = f.expose.map((v) => parsePortFilter(v, 'expose'));
  // Docker takes the last value given for before/since.
  if (f.before?.length) out.before = lookup(f.before[f.before.length - 1]!).Created;
  if (f.since?.length) out.since = lookup(f.since[f.since.length - 1]!).Created;
  if (f.volume) out.volume = f.volume;
  if (f['is-task']) {
    const v = f['is-task'][f['is-task'].length - 1]!;
    if (v !== 'true' && v !== 'false') throw new FilterError(`invalid filter 'is-task=${v}': expected true or false`);
    out.isTask = v === 'true';
  }
  return out;
}

export function matchesExtra(c: ContainerRecord, f: ResolvedExtraFilters): boolean {
  if (f.publish && !portsMatch(Object.keys(c.HostConfig.PortBindings ?? {}), f.publish)) return false;
  if (f.expose && !portsMatch([...Object.keys(c.Config.ExposedPorts ?? {}), ...Object.keys(c.HostConfig.PortBindings ?? {})], f.expose)) return false;
  if (f.before !== undefined && !(c.Created < f.before)) return false;
  if (f.since !== undefined && !(c.Created > f.since)) return false;
  // A volume by its name, or any mount by where it is mounted (Docker's volume filter takes both).
  if (f.volume && !f.volume.some((v) => c.Mounts.some((m) => m.Name === v || m.Destination === v || m.Source === v))) return false;
  if (f.isTask !== undefined && ('com.docker.swarm.task' in (c.Config.Labels ?? {}) || 'com.docker.swarm.task.id' in (c.Config.Labels ?? {})) !== f.isTask) return false;
  return true;
}
