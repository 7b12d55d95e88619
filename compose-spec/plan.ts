// Helpers from the model to an execution order, for `up`/`down` and `stack deploy`.
import { dependencyLevels } from './depends.js';
import type { Project, Service } from './model.js';

export function serviceDependencies(svc: Service): string[] {
  return Object.keys(svc.depends_on).sort();
}

/** Levels of service names; each level only depends on earlier ones and can start in parallel. */
export function projectStartOrder(project: Project): string[][] {
  return dependencyLevels(Object.fromEntries(Object.values(project.services).map((s) => [s.name, serviceDependencies(s)])));
}
