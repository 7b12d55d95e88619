// The rows of `stack ls`, in Docker's columns. `stack services` and `stack ps` use the `service ls` and
// `service ps` rows (cli/service/format.ts). Pure.
import type { Service } from '../../api/swarm.js';
import { LABELS } from '../../api/swarm-labels.js';
import { compareStrings } from '../../lib/compare.js';

export const STACK_LS_TABLE = 'table {{.Name}}\t{{.Services}}';
export const HEADERS = { Name: 'NAME', Services: 'SERVICES' };

/** Stacks by name with their number of services, from the services' namespace labels. */
export function stackRows(services: Pick<Service, 'Spec'>[]): { Name: string; Services: number }[] {
  const counts = new Map<string, number>();
  for (const s of services) {
    const ns = s.Spec.Labels?.[LABELS.stackNamespace];
    if (ns !== undefined) counts.set(ns, (counts.get(ns) ?? 0) + 1);
  }
  return [...counts].sort(([a], [b]) => compareStrings(a, b)).map(([Name, Services]) => ({ Name, Services }));
}
