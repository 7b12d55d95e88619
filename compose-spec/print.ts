// The model as `tscompose config` prints it: docker compose's top-level order, keys sorted below that
// (stable output for diffs), empty collections left out.
import type { Project } from './model.js';
import { isRecord, setOwn } from './util.js';

function prune(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(prune);
  if (isRecord(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = prune(v[k]);
      if (x === undefined) continue;
      // false is every boolean's default except depends_on's `required`; leaving it out reads closer
      // to docker compose's output.
      if (x === false && k !== 'required') continue;
      if (Array.isArray(x) && x.length === 0) continue;
      if (isRecord(x) && Object.keys(x).length === 0) continue;
      setOwn(out, k, x);
    }
    return out;
  }
  return v;
}

function sortTop(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) setOwn(out, k, o[k]);
  return out;
}

export function toPrintable(project: Project): Record<string, unknown> {
  const out: Record<string, unknown> = { name: project.name };
  const services: Record<string, unknown> = {};
  for (const name of Object.keys(project.services).sort()) {
    const { name: _n, networks, extensions, ...svc } = project.services[name]!;
    // x- keys print where the file had them, at the service's top level.
    const printed = prune({ ...svc, ...extensions }) as Record<string, unknown>;
    // An attachment without settings prints as null, as in docker compose, rather than vanishing.
    const nets: Record<string, unknown> = {};
    for (const k of Object.keys(networks).sort()) {
      const v = prune(networks[k]);
      setOwn(nets, k, isRecord(v) && Object.keys(v).length === 0 ? null : v);
    }
    if (Object.keys(nets).length > 0) printed.networks = nets;
    setOwn(services, name, sortTop(printed));
  }
  out.services = services;
  for (const kind of ['networks', 'volumes', 'secrets', 'configs'] as const) {
    if (Object.keys(project[kind]).length > 0) out[kind] = prune(project[kind]);
  }
  if (project.extensions) Object.assign(out, prune(project.extensions));
  return out;
}
