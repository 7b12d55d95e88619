// The reconcile planner of `up` and `down`: from the project, the options and what the engine has now,
// decide what to create, keep, start, recreate and remove — and in which order. Pure and deterministic,
// so every convergence rule of docker compose can be unit tested without a daemon.
import { LABELS, dependencyLevels, resourceName, serviceConfigHash, serviceContainerName, serviceImage, type Network, type Project, type Service, type Volume } from '../../compose-spec/index.js';

/** A container of the engine, reduced to what the planner needs (read from its labels and state). */
export interface ObservedContainer {
  id: string;
  name: string;
  labels: Record<string, string>;
  /** Engine state: created, running, paused, restarting, exited, dead, removing. */
  state: string;
  /** Its volume mounts (from the list call), for carrying anonymous volumes over a recreation. */
  mounts?: ObservedMount[];
  /** HostConfig.NetworkMode (e.g. container:<id>), when the engine reports it. */
  networkMode?: string;
}

export interface ObservedMount {
  type: string;
  /** Volume name ('' for binds and tmpfs). */
  name: string;
  destination: string;
  rw: boolean;
}

export interface ObservedNetwork {
  id: string;
  name: string;
  labels: Record<string, string>;
  /** What the engine reports of its configuration; absent: not compared. */
  config?: { driver: string; internal: boolean; options: Record<string, string>; ipam: Array<{ subnet?: string; gateway?: string }> };
}

export interface ObservedVolume {
  name: string;
  labels: Record<string, string>;
  /** What the engine reports of its configuration; absent: not compared. */
  config?: { driver: string; options: Record<string, string> };
}

/** The label the engine puts on volumes it created without a name (Docker's). */
export const ANONYMOUS_VOLUME_LABEL = 'com.docker.volume.anonymous';

export interface EngineState {
  containers: ObservedContainer[];
  networks: ObservedNetwork[];
  volumes: ObservedVolume[];
}

export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

export type RecreatePolicy = 'diverged' | 'force' | 'never';

export interface UpOptions {
  /** Services named on the command line; empty: all. Their dependencies are included. */
  services: string[];
  /** --scale SVC=N overrides. */
  scale: Record<string, number>;
  recreate: RecreatePolicy;
  /** Recreate policy for dependencies of the named services (compose: --always-recreate-deps). */
  recreateDeps?: RecreatePolicy;
  removeOrphans: boolean;
  /** --no-deps: do not pull in dependencies of the named services. */
  noDeps?: boolean;
}

export type ResourceAction<T> =
  | { kind: 'create'; key: string; name: string; spec: T }
  | { kind: 'exists'; key: string; name: string; external: boolean };

export type ContainerAction =
  /** A new replica with this number. */
  | { kind: 'create'; number: number; name: string }
  /**
   * Remove the old container and create the same number anew: config changed, forced, or the
   * container whose network namespace it shares (network_mode: service:) is another one now.
   */
  | { kind: 'recreate'; number: number; name: string; old: ObservedContainer; reason: 'diverged' | 'forced' | 'network' }
  /** Up to date but not running. */
  | { kind: 'start'; number: number; name: string; container: ObservedContainer }
  /** Up to date and running, but a dependency with restart: true is being recreated. */
  | { kind: 'restart'; number: number; name: string; container: ObservedContainer }
  | { kind: 'keep'; number: number; name: string; container: ObservedContainer }
  /** Above the wanted scale: the highest numbers go. */
  | { kind: 'remove'; number: number; name: string; container: ObservedContainer };

export interface ServicePlan {
  service: string;
  scale: number;
  /** In container-number order. */
  actions: ContainerAction[];
}

export interface UpPlan {
  networks: ResourceAction<Network>[];
  volumes: ResourceAction<Volume>[];
  /** Services in dependency levels; a level only depends on earlier ones. */
  levels: ServicePlan[][];
  /** Containers of this project whose service is gone. Removed when removeOrphans, else reported. */
  orphans: ObservedContainer[];
  removeOrphans: boolean;
  warnings: string[];
}

const numberOf = (c: ObservedContainer): number => Number(c.labels[LABELS.containerNumber] ?? '0');
const isOneoff = (c: ObservedContainer): boolean => c.labels[LABELS.oneoff] === 'True';

/** The project's own, non-one-off containers by service, in number order. */
export function projectContainers(project: string, state: EngineState): Map<string, ObservedContainer[]> {
  const out = new Map<string, ObservedContainer[]>();
  for (const c of state.containers) {
    if (c.labels[LABELS.project] !== project || isOneoff(c)) continue;
    const svc = c.labels[LABELS.service] ?? '';
    out.set(svc, [...(out.get(svc) ?? []), c]);
  }
  for (const list of out.values()) list.sort((a, b) => numberOf(a) - numberOf(b) || a.name.localeCompare(b.name));
  return out;
}

/** The named services plus, unless noDeps, everything they depend on (transitively). */
export function selectServices(project: Project, names: readonly string[], noDeps = false): string[] {
  for (const n of names) {
    if (!project.services[n]) {
      const hint = project.disabled_services.includes(n) ? ' (it is disabled by its profiles; enable one with --profile)' : '';
      throw new PlanError(`no such service: ${n}${hint}`);
    }
  }
  if (names.length === 0) return Object.keys(project.services).sort();
  const out = new Set<string>();
  const visit = (n: string): void => {
    if (out.has(n)) return;
    out.add(n);
    if (noDeps) return;
    for (const [dep, d] of Object.entries(project.services[n]!.depends_on)) {
      if (project.services[dep]) visit(dep);
      else if (d.required) throw new PlanError(`service ${n} depends on undefined service ${dep}`);
    }
  };
  names.forEach(visit);
  return [...out].sort();
}

/** Dependency levels of a subset of the services. */
export function serviceLevels(project: Project, names: readonly string[]): string[][] {
  const set = new Set(names);
  return dependencyLevels(Object.fromEntries(names.map((n) => [n, Object.keys(project.services[n]!.depends_on).filter((d) => set.has(d))])));
}

/** The wanted number of containers of a service: --scale, else its scale; container_name allows one. */
export function wantedScale(svc: Service, overrides: Record<string, number>): number {
  const n = overrides[svc.name] ?? svc.scale;
  if (!Number.isInteger(n) || n < 0) throw new PlanError(`invalid scale ${n} for service ${svc.name}: expected a whole number ≥ 0`);
  if (svc.container_name && n > 1) {
    throw new PlanError(`service "${svc.name}" has container_name "${svc.container_name}" and cannot be scaled to ${n}: a container name must be unique`);
  }
  return n;
}

function planResources<T extends Network | Volume>(
  project: Project,
  kind: 'network' | 'volume',
  wanted: Record<string, T>,
  existing: Map<string, ObservedNetwork | ObservedVolume>,
): ResourceAction<T>[] {
  const label = kind === 'network' ? LABELS.network : LABELS.volume;
  const out: ResourceAction<T>[] = [];
  for (const key of Object.keys(wanted).sort()) {
    const spec = wanted[key]!;
    const name = spec.name || resourceName(project.name, key);
    const found = existing.get(name);
    if (spec.external) {
      if (!found) throw new PlanError(`${kind} ${name} declared as external, but could not be found (create it first)`);
      out.push({ kind: 'exists', key, name, external: true });
      continue;
    }
    if (!found) {
      out.push({ kind: 'create', key, name, spec });
      continue;
    }
    const labels = found.labels;
    // Same check as compose: a resource of that name that another project (or key) made is not ours to use.
    const ownKey = labels[label];
    if (ownKey !== undefined && ownKey !== key) {
      throw new PlanError(`${kind} ${name} was found but has incorrect label ${label} set to "${ownKey}" (expected "${key}")`);
    }
    const ownProject = labels[LABELS.project];
    if (ownProject !== undefined && ownProject !== project.name) {
      throw new PlanError(`${kind} ${name} was found but has incorrect label ${LABELS.project} set to "${ownProject}" (expected "${project.name}")`);
    }
    // Compose does not change a network or volume in place: one whose configuration differs from the
    // file would leave containers on the old one, so the user is told to take the project down first.
    const diff = kind === 'network' ? networkDiff(spec as Network, found as ObservedNetwork) : volumeDiff(spec as Volume, found as ObservedVolume);
    if (diff.length > 0) {
      const hint =
        kind === 'network'
          ? 'run "tscompose down" to remove it (and the containers on it), then "up" again'
          : 'remove it with "tscompose down -v" (its data will be lost), then "up" again';
      throw new PlanError(`${kind} ${name} exists but doesn't match the configuration in the compose file (${diff.join('; ')}): ${hint}`);
    }
    out.push({ kind: 'exists', key, name, external: false });
  }
  return out;
}

const show = (v: unknown): string => (v === undefined ? '(unset)' : JSON.stringify(v));

/** Differences of two string maps, as "what.key: file X, engine Y". */
function mapDiff(what: string, want: Record<string, string>, have: Record<string, string>): string[] {
  const keys = [...new Set([...Object.keys(want), ...Object.keys(have)])].sort();
  return keys.filter((k) => want[k] !== have[k]).map((k) => `${what}.${k}: ${show(want[k])} in the file, ${show(have[k])} on the engine`);
}

/** User labels of an engine object: compose's own (project, key, version, …) are not the file's. */
const userLabels = (labels: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(labels).filter(([k]) => !k.startsWith('com.docker.compose.')));

/** What differs between a network of the file and the engine's network of that name. */
export function networkDiff(spec: Network, found: ObservedNetwork): string[] {
  const have = found.config;
  if (!have) return [];
  const out: string[] = [];
  const driver = spec.driver ?? 'bridge';
  if (driver !== have.driver) out.push(`driver: ${show(driver)} in the file, ${show(have.driver)} on the engine`);
  if (spec.internal !== have.internal) out.push(`internal: ${spec.internal} in the file, ${have.internal} on the engine`);
  out.push(...mapDiff('driver_opts', spec.driver_opts, have.options));
  // Only what the file pins: an unset subnet or gateway is the engine's to choose.
  (spec.ipam?.config ?? []).forEach((c, i) => {
    const h = have.ipam[i];
    if (c.subnet !== undefined && c.subnet !== h?.subnet) out.push(`ipam.config[${i}].subnet: ${show(c.subnet)} in the file, ${show(h?.subnet)} on the engine`);
    if (c.gateway !== undefined && c.gateway !== h?.gateway) out.push(`ipam.config[${i}].gateway: ${show(c.gateway)} in the file, ${show(h?.gateway)} on the engine`);
  });
  out.push(...mapDiff('labels', spec.labels, userLabels(found.labels)));
  return out;
}

/** What differs between a volume of the file and the engine's volume of that name. */
export function volumeDiff(spec: Volume, found: ObservedVolume): string[] {
  const have = found.config;
  if (!have) return [];
  const out: string[] = [];
  const driver = spec.driver ?? 'local';
  if (driver !== have.driver) out.push(`driver: ${show(driver)} in the file, ${show(have.driver)} on the engine`);
  out.push(...mapDiff('driver_opts', spec.driver_opts, have.options));
  out.push(...mapDiff('labels', spec.labels, userLabels(found.labels)));
  return out;
}

/** Networks and volumes the selected services use (a partial `up` creates only those). */
function usedResources(project: Project, services: readonly string[]): { networks: Set<string>; volumes: Set<string> } {
  const networks = new Set<string>();
  const volumes = new Set<string>();
  for (const n of services) {
    const s = project.services[n]!;
    Object.keys(s.networks).forEach((k) => networks.add(k));
    for (const m of s.volumes) if (m.type === 'volume' && m.source && project.volumes[m.source]) volumes.add(m.source);
  }
  return { networks, volumes };
}

const pick = <T>(rec: Record<string, T>, keys: Set<string>): Record<string, T> => Object.fromEntries(Object.entries(rec).filter(([k]) => keys.has(k)));

export function planUp(project: Project, state: EngineState, opts: UpOptions): UpPlan {
  const selected = selectServices(project, opts.services, opts.noDeps);
  const named = new Set(opts.services.length > 0 ? opts.services : selected);
  const used = usedResources(project, selected);
  const networks = planResources(project, 'network', pick(project.networks, used.networks), new Map(state.networks.map((n) => [n.name, n])));
  const volumes = planResources(project, 'volume', pick(project.volumes, used.volumes), new Map(state.volumes.map((v) => [v.name, v])));
  const byService = projectContainers(project.name, state);
  const warnings: string[] = [];

  const recreated = new Set<string>();
  const planned = new Map<string, ServicePlan>();
  /**
   * For network_mode service:X: the id of the container of X whose namespace the service will join,
   * or null when that container is being made anew (so every container sharing it must be too).
   */
  const namespaceOf = (x: string): string | null | undefined => {
    const p = planned.get(x);
    if (!p) return byService.get(x)?.[0]?.id;
    const first = p.actions.find((a) => a.kind !== 'remove');
    if (!first) return undefined;
    return first.kind === 'create' || first.kind === 'recreate' ? null : first.container.id;
  };
  const levels: ServicePlan[][] = [];
  for (const level of serviceLevels(project, selected)) {
    const plans: ServicePlan[] = [];
    for (const name of level) {
      const svc = project.services[name]!;
      const scale = wantedScale(svc, opts.scale);
      const policy = named.has(name) ? opts.recreate : (opts.recreateDeps ?? (opts.recreate === 'force' ? 'diverged' : opts.recreate));
      const hash = serviceConfigHash(svc);
      const restartForDep = Object.entries(svc.depends_on).some(([dep, d]) => d.restart && recreated.has(dep));
      const nsService = /^service:(.+)$/.exec(svc.network_mode ?? '')?.[1];
      const ns = nsService !== undefined ? namespaceOf(nsService) : undefined;
      // A container keeps the namespace it was created with: when that is not the one of the current
      // container of X (X was or is being recreated), it must be recreated to share X's network again.
      const staleNamespace = (c: ObservedContainer): boolean =>
        nsService !== undefined && policy !== 'never' && (ns === null || (ns !== undefined && c.networkMode !== undefined && c.networkMode !== `container:${ns}`));
      const current = byService.get(name) ?? [];
      const actions: ContainerAction[] = [];
      const keepCount = Math.min(scale, current.length);
      // The lowest numbers stay; scaling down removes the highest.
      current.slice(0, keepCount).forEach((c) => {
        const number = numberOf(c);
        const base = { number, name: c.name };
        const diverged = c.labels[LABELS.configHash] !== hash;
        if (policy === 'force' || (policy === 'diverged' && diverged)) {
          actions.push({ kind: 'recreate', ...base, old: c, reason: policy === 'force' ? 'forced' : 'diverged' });
        } else if (staleNamespace(c)) {
          actions.push({ kind: 'recreate', ...base, old: c, reason: 'network' });
        } else if (c.state !== 'running' && c.state !== 'restarting') {
          actions.push({ kind: 'start', ...base, container: c });
        } else if (restartForDep) {
          actions.push({ kind: 'restart', ...base, container: c });
        } else actions.push({ kind: 'keep', ...base, container: c });
      });
      let next = current.reduce((m, c) => Math.max(m, numberOf(c)), 0) + 1;
      for (let i = keepCount; i < scale; i++, next++) {
        const number = svc.container_name ? 1 : next;
        actions.push({ kind: 'create', number, name: serviceContainerName(project.name, svc, number) });
      }
      current.slice(keepCount).forEach((c) => actions.push({ kind: 'remove', number: numberOf(c), name: c.name, container: c }));
      actions.sort((a, b) => a.number - b.number);
      if (actions.some((a) => a.kind === 'recreate' || a.kind === 'restart')) recreated.add(name);
      const plan = { service: name, scale, actions };
      planned.set(name, plan);
      plans.push(plan);
    }
    levels.push(plans);
  }

  const known = new Set([...Object.keys(project.services), ...project.disabled_services]);
  const orphans = [...byService.entries()]
    .filter(([svc]) => !known.has(svc))
    .flatMap(([, list]) => list)
    .sort((a, b) => a.name.localeCompare(b.name));
  if (orphans.length > 0 && !opts.removeOrphans) {
    warnings.push(
      `Found orphan containers (${orphans.map((c) => c.name).join(', ')}) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`,
    );
  }
  return { networks, volumes, levels, orphans, removeOrphans: opts.removeOrphans, warnings };
}

export interface DownOptions {
  removeOrphans: boolean;
  volumes: boolean;
  rmi?: 'all' | 'local';
}

export interface DownPlan {
  /** Containers in stop order: orphans first, then dependants before their dependencies. */
  levels: ObservedContainer[][];
  networks: string[];
  volumes: string[];
  images: string[];
  warnings: string[];
}

export function planDown(project: Project, state: EngineState, opts: DownOptions): DownPlan {
  const byService = projectContainers(project.name, state);
  // One-off containers (`run`) go too, like compose.
  const oneoffs = state.containers.filter((c) => c.labels[LABELS.project] === project.name && isOneoff(c));
  const known = new Set([...Object.keys(project.services), ...project.disabled_services]);
  const warnings: string[] = [];
  const orphans = [...byService.entries()].filter(([svc]) => !known.has(svc)).flatMap(([, l]) => l);
  const levels: ObservedContainer[][] = [];
  if (orphans.length > 0) {
    if (opts.removeOrphans) levels.push(orphans);
    else warnings.push(`Found orphan containers (${orphans.map((c) => c.name).sort().join(', ')}) for this project. Run with --remove-orphans to remove them.`);
  }
  const all = Object.keys(project.services).filter((n) => byService.has(n) || oneoffs.some((c) => c.labels[LABELS.service] === n));
  for (const level of serviceLevels(project, all).reverse()) {
    const list = level.flatMap((n) => [...(byService.get(n) ?? []), ...oneoffs.filter((c) => c.labels[LABELS.service] === n)]);
    if (list.length > 0) levels.push(list);
  }
  const netNames = new Map(state.networks.map((n) => [n.name, n.labels]));
  const networks = Object.entries(project.networks)
    .filter(([key, n]) => !n.external && netNames.get(n.name || resourceName(project.name, key))?.[LABELS.project] === project.name)
    .map(([key, n]) => n.name || resourceName(project.name, key))
    .sort();
  const volNames = new Map(state.volumes.map((v) => [v.name, v.labels]));
  // -v takes the anonymous volumes of the containers too: those a recreation carried over are
  // mounted by name, so removing the container with v=1 would leave them.
  const anonymous = levels
    .flat()
    .flatMap((c) => c.mounts ?? [])
    .filter((m) => m.type === 'volume' && Object.hasOwn(volNames.get(m.name) ?? {}, ANONYMOUS_VOLUME_LABEL))
    .map((m) => m.name);
  const volumes = opts.volumes
    ? [
        ...new Set([
          ...Object.entries(project.volumes)
            .filter(([key, v]) => !v.external && volNames.has(v.name || resourceName(project.name, key)))
            .map(([key, v]) => v.name || resourceName(project.name, key)),
          ...anonymous,
        ]),
      ].sort()
    : [];
  let images: string[] = [];
  if (opts.rmi) {
    const svcs = Object.values(project.services).filter((s) => opts.rmi === 'all' || !s.image);
    images = [...new Set(svcs.map((s) => serviceImage(project, s)))].sort();
  }
  return { levels, networks, volumes, images, warnings };
}

/** True when the plan changes nothing (every container kept, no resource created). */
export function isNoop(plan: UpPlan): boolean {
  return (
    plan.networks.every((n) => n.kind === 'exists') &&
    plan.volumes.every((v) => v.kind === 'exists') &&
    plan.levels.every((l) => l.every((s) => s.actions.every((a) => a.kind === 'keep'))) &&
    (!plan.removeOrphans || plan.orphans.length === 0)
  );
}
