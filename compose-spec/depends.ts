// Start order from depends_on: levels of services whose dependencies are all in earlier levels,
// so each level can be started in parallel. Cycles are errors that name the cycle.

export class DependencyCycleError extends Error {
  constructor(readonly cycle: string[]) {
    super(`dependency cycle: ${cycle.join(' -> ')}`);
    this.name = 'DependencyCycleError';
  }
}

/** `deps` maps each service to the services it depends on (unknown names are ignored). */
export function dependencyLevels(deps: Record<string, readonly string[]>): string[][] {
  const names = Object.keys(deps).sort();
  const known = new Set(names);
  const remaining = new Map(names.map((n) => [n, new Set(deps[n]!.filter((d) => known.has(d) && d !== n))]));
  for (const n of names) if (deps[n]!.includes(n)) throw new DependencyCycleError([n, n]);
  const levels: string[][] = [];
  const done = new Set<string>();
  while (done.size < names.length) {
    const level = names.filter((n) => !done.has(n) && [...remaining.get(n)!].every((d) => done.has(d)));
    if (level.length === 0) throw new DependencyCycleError(findCycle(names.filter((n) => !done.has(n)), remaining));
    level.forEach((n) => done.add(n));
    levels.push(level);
  }
  return levels;
}

/** Reverse order, for stopping: dependants before what they depend on. */
export function shutdownLevels(deps: Record<string, readonly string[]>): string[][] {
  return dependencyLevels(deps).reverse();
}

function findCycle(candidates: string[], edges: Map<string, Set<string>>): string[] {
  // Every candidate has an unfinished dependency, so walking dependencies must revisit a node.
  const inSet = new Set(candidates);
  let cur = candidates[0]!;
  const path: string[] = [];
  const index = new Map<string, number>();
  while (!index.has(cur)) {
    index.set(cur, path.length);
    path.push(cur);
    cur = [...edges.get(cur)!].filter((d) => inSet.has(d)).sort()[0]!;
  }
  return [...path.slice(index.get(cur)!), cur];
}
