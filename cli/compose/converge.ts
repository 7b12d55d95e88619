// Carries out an UpPlan against the engine: networks and volumes first, then each service's
// containers are created as soon as its dependencies' exist, and started as soon as those have met
// their depends_on conditions — so independent services run in parallel, a dependant is made while
// its dependency becomes healthy, and a chain waits exactly as long as it must.
import { parseDuration, serviceImage, type Dependency, type Project, type Service } from '../../compose-spec/index.js';
import { VERSION } from '../../lib/version.js';
import type { Api, ContainerState } from './engine.js';
import { containerEvents } from './event-feed.js';
import { ANONYMOUS_VOLUME_LABEL, type ContainerAction, type EngineState, type ObservedContainer, type ServicePlan, type UpPlan } from './plan.js';
import type { Progress } from './progress.js';
import { containerSpec, keptAnonymousVolumes, needsImageVolumes } from './spec.js';
import { mark } from './timing.js';

export interface ConvergeContext {
  api: Api;
  project: Project;
  progress: Progress;
  files: { secrets: Record<string, string>; configs: Record<string, string> };
  state: EngineState;
  /** Create but do not start (`create`, `up --no-start`). */
  noStart?: boolean;
  /** Overrides the services' stop_grace_period when stopping old containers (-t). */
  timeout?: number;
  /** -V: recreated containers get new anonymous volumes; the old ones are removed. */
  renewAnonVolumes?: boolean;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Seconds to wait for a graceful stop: -t, else the service's stop_grace_period, else the engine's default. */
export function stopTimeout(svc: Service | undefined, override?: number): number | undefined {
  if (override !== undefined) return override;
  const ns = svc?.stop_grace_period !== undefined ? parseDuration(svc.stop_grace_period) : undefined;
  return ns === undefined ? undefined : Math.ceil(ns / 1e9);
}

export class DependencyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DependencyError';
  }
}

/** Waits until the dependency's containers satisfy the condition; rejects with compose's wording when they cannot. */
export async function waitCondition(ctx: ConvergeContext, dep: string, d: Dependency, containers: Array<{ id: string; name: string }>): Promise<void> {
  if (d.condition === 'service_started') return;
  if (d.condition === 'service_completed_successfully') {
    await Promise.all(
      containers.map(async (c) => {
        ctx.progress.update('Container', c.name, 'Waiting');
        const code = await ctx.api.wait(c.id);
        if (code !== 0) {
          ctx.progress.update('Container', c.name, `Exited (${code})`, 'error');
          throw new DependencyError(`service "${dep}" didn't complete successfully: exit ${code}`);
        }
        ctx.progress.update('Container', c.name, 'Exited', 'done');
      }),
    );
    return;
  }
  for (const c of containers) ctx.progress.update('Container', c.name, 'Waiting');
  await watchUntil(ctx.api, ctx.project.name, containers, HEALTH_WAIT_EVENTS, (c, s) => {
    if (s.health === undefined) throw new DependencyError(`dependency failed to start: container ${c.name} has no healthcheck configured`);
    if (s.health === 'healthy') {
      ctx.progress.update('Container', c.name, 'Healthy', 'done');
      return true;
    }
    if (s.health === 'unhealthy') {
      ctx.progress.update('Container', c.name, 'Unhealthy', 'error');
      throw new DependencyError(`dependency failed to start: container ${c.name} is unhealthy`);
    }
    if (!s.running && s.status !== 'restarting') {
      ctx.progress.update('Container', c.name, `Exited (${s.exitCode})`, 'error');
      throw new DependencyError(`dependency failed to start: container ${c.name} exited (${s.exitCode})`);
    }
    return false;
  });
}

/**
 * The container events after which a health wait looks again: a health change, and the ends and
 * restarts that decide "exited" versus "restarting".
 */
const HEALTH_WAIT_EVENTS = ['health_status', 'start', 'die', 'destroy'];

/**
 * Like pollUntil, but looks again only when the daemon reports one of `actions` for a pending
 * container. The first look comes after the subscription is in place, so a change between the two
 * is seen either by that look or as an event.
 */
export async function watchUntil<C extends { id: string }>(api: Api, project: string, containers: C[], actions: string[], done: (c: C, s: ContainerState) => boolean): Promise<void> {
  const pending = [...containers];
  if (pending.length === 0) return;
  const feed = await containerEvents(api.client, pending.map((c) => c.id), actions);
  try {
    for (;;) {
      const states = await api.states(project, pending.map((c) => c.id));
      for (let i = 0; i < pending.length; ) {
        if (done(pending[i]!, states.get(pending[i]!.id)!)) pending.splice(i, 1);
        else i++;
      }
      if (pending.length === 0) return;
      await feed.next();
    }
  } finally {
    feed.close();
  }
}

/**
 * Milliseconds between two looks at containers being waited on by pollUntil (`up --wait`): looking
 * every 20 ms for the first 2 s, where most waits end, adds at most 20 ms to them, for a list call
 * that costs the daemon well under a millisecond; longer waits are looked at every 100 ms.
 */
export function pollDelay(elapsedMs: number): number {
  return elapsedMs < 2000 ? 20 : 100;
}

/**
 * Looks at the containers (one list call per round, see Api.states) until `done` has said true for
 * each; `done` throws to give up. Containers are judged in the order given.
 */
export async function pollUntil<C extends { id: string }>(api: Api, project: string, containers: C[], done: (c: C, s: ContainerState) => boolean): Promise<void> {
  const pending = [...containers];
  const t0 = Date.now();
  while (pending.length > 0) {
    const states = await api.states(project, pending.map((c) => c.id));
    for (let i = 0; i < pending.length; ) {
      if (done(pending[i]!, states.get(pending[i]!.id)!)) pending.splice(i, 1);
      else i++;
    }
    if (pending.length > 0) await sleep(pollDelay(Date.now() - t0));
  }
}

export interface Converged {
  /** Service → its containers after `up`, in number order. */
  containers: Map<string, Array<{ id: string; name: string }>>;
}

/** A container of a service after the create phase, and what the start phase still has to do. */
interface Prepared {
  id: string;
  name: string;
  then: 'start' | 'restart' | 'none';
}

/**
 * Two phases per service, as docker compose runs them: create (removals, recreations, new
 * containers) as soon as the dependencies' containers exist — a network_mode service: needs their
 * ids — and start once the dependencies have started and met their depends_on conditions. So a
 * dependant's containers are made while its dependency is still becoming healthy, and start order
 * is what it always was.
 */
export async function converge(ctx: ConvergeContext, plan: UpPlan): Promise<Converged> {
  const { api, project, progress } = ctx;
  for (const w of plan.warnings) process.stderr.write(`WARN ${w}\n`);

  const create = async (kind: 'Network' | 'Volume', name: string, work: () => Promise<unknown>): Promise<void> => {
    progress.update(kind, name, 'Creating');
    try {
      await work();
    } catch (e) {
      progress.update(kind, name, 'Error', 'error');
      throw new Error(`create ${kind.toLowerCase()} ${name}: ${(e as Error).message}`);
    }
    progress.update(kind, name, 'Created', 'done');
  };
  await Promise.all([
    ...plan.networks.filter((n) => n.kind === 'create').map((n) => create('Network', n.name, () => api.createNetwork(project.name, n.key, project.networks[n.key]!, VERSION))),
    ...plan.volumes.filter((v) => v.kind === 'create').map((v) => create('Volume', v.name, () => api.createVolume(project.name, v.key, project.volumes[v.key]!, VERSION))),
    ...(plan.removeOrphans ? plan.orphans.map((c) => removeContainer(ctx, c.id, c.name, undefined)) : []),
  ]);

  mark('converge.networksVolumes');
  const result = new Map<string, Array<{ id: string; name: string }>>();
  // Services outside the plan (--no-deps) still count for conditions and network_mode: service:.
  for (const c of ctx.state.containers) {
    const svc = c.labels['com.docker.compose.service'];
    if (svc && c.labels['com.docker.compose.oneoff'] !== 'True') result.set(svc, [...(result.get(svc) ?? []), { id: c.id, name: c.name }]);
  }
  const anonymous = new Set(ctx.state.volumes.filter((v) => Object.hasOwn(v.labels, ANONYMOUS_VOLUME_LABEL)).map((v) => v.name));
  const created = new Map<string, Promise<Prepared[]>>();
  const started = new Map<string, Promise<void>>();
  for (const sp of plan.levels.flat()) {
    const svc = project.services[sp.service]!;
    const deps = Object.entries(svc.depends_on).filter(([dep]) => created.has(dep) || result.has(dep));
    const made = (async () => {
      for (const [dep] of deps) await created.get(dep);
      const prepared = await prepareService(ctx, svc, sp, result, anonymous);
      result.set(
        sp.service,
        prepared.map(({ id, name }) => ({ id, name })),
      );
      mark(`converge.${sp.service}.create`);
      return prepared;
    })();
    created.set(sp.service, made);
    started.set(
      sp.service,
      (async () => {
        const prepared = await made;
        for (const [dep] of deps) await started.get(dep);
        if (!ctx.noStart && deps.length > 0) {
          await Promise.all(deps.map(([dep, d]) => waitCondition(ctx, dep, d, result.get(dep) ?? [])));
          mark(`converge.${sp.service}.waitDependencies`);
        }
        await startService(ctx, svc, prepared);
        mark(`converge.${sp.service}`);
      })(),
    );
  }
  // Every creation is awaited by its own start task, so these settle only when all work has ended.
  const settled = await Promise.allSettled(started.values());
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return { containers: result };
}

async function removeContainer(ctx: ConvergeContext, id: string, name: string, svc: Service | undefined): Promise<void> {
  ctx.progress.update('Container', name, 'Stopping');
  try {
    await ctx.api.stop(id, stopTimeout(svc, ctx.timeout));
    ctx.progress.update('Container', name, 'Removing');
    await ctx.api.remove(id, { force: true });
  } catch (e) {
    ctx.progress.update('Container', name, 'Error', 'error');
    throw new Error(`remove container ${name}: ${(e as Error).message}`);
  }
  ctx.progress.update('Container', name, 'Removed', 'done');
}

/** The create phase of a service: removals, recreations and new containers, none started. */
async function prepareService(
  ctx: ConvergeContext,
  svc: Service,
  sp: ServicePlan,
  known: Map<string, Array<{ id: string; name: string }>>,
  anonymous: ReadonlySet<string>,
): Promise<Prepared[]> {
  const { api, progress, project } = ctx;
  await Promise.all(sp.actions.filter((a) => a.kind === 'remove').map((a) => removeContainer(ctx, a.container.id, a.name, svc)));

  let imageVolumes: Promise<string[]> | undefined;
  const make = async (a: ContainerAction, anonymousVolumes: Record<string, string> = {}): Promise<string> => {
    const spec = containerSpec(project, svc, {
      number: a.number,
      version: VERSION,
      name: a.name,
      secretFiles: ctx.files.secrets,
      configFiles: ctx.files.configs,
      anonymousVolumes,
      serviceContainer: (s) => {
        const c = known.get(s)?.[0];
        if (!c) throw new Error(`service ${svc.name}: network_mode service:${s} needs a container of service ${s}; start it first`);
        return c.id;
      },
    });
    return api.createContainer(spec);
  };
  /** What of the old container's anonymous volumes its successor keeps (none with -V). */
  const carried = async (old: ObservedContainer): Promise<Record<string, string>> => {
    const mounts = old.mounts ?? [];
    if (ctx.renewAnonVolumes) return {};
    // The image is asked for its VOLUMEs only when an old anonymous volume could be one of them.
    const fromImage = needsImageVolumes(svc, mounts, anonymous) ? await (imageVolumes ??= api.imageVolumes(serviceImage(project, svc))) : [];
    return keptAnonymousVolumes(svc, mounts, anonymous, fromImage);
  };
  /** -V: the old container's anonymous volumes go with it (a successor gets new ones). */
  const dropAnonymous = async (old: ObservedContainer): Promise<void> => {
    if (!ctx.renewAnonVolumes) return;
    for (const m of old.mounts ?? []) {
      if (m.type !== 'volume' || !anonymous.has(m.name)) continue;
      await api.removeVolume(m.name).catch((e: Error) => process.stderr.write(`WARN container ${old.name}: anonymous volume ${m.name} was not removed: ${e.message}\n`));
    }
  };

  return Promise.all(
    sp.actions
      .filter((a) => a.kind !== 'remove')
      .map(async (a): Promise<Prepared> => {
        try {
          switch (a.kind) {
            case 'keep':
              progress.update('Container', a.name, 'Running', 'done');
              return { id: a.container.id, name: a.name, then: 'none' };
            case 'start':
              return { id: a.container.id, name: a.name, then: 'start' };
            case 'restart':
              return { id: a.container.id, name: a.name, then: 'restart' };
            case 'recreate': {
              progress.update('Container', a.name, 'Recreate');
              const keep = await carried(a.old);
              await api.stop(a.old.id, stopTimeout(svc, ctx.timeout));
              await api.remove(a.old.id, { force: true });
              await dropAnonymous(a.old);
              const id = await make(a, keep);
              progress.update('Container', a.name, 'Recreated', ctx.noStart ? 'done' : 'working');
              return { id, name: a.name, then: 'start' };
            }
            case 'create': {
              progress.update('Container', a.name, 'Creating');
              const id = await make(a);
              progress.update('Container', a.name, 'Created', ctx.noStart ? 'done' : 'working');
              return { id, name: a.name, then: 'start' };
            }
            default:
              throw new Error(`unexpected action ${(a as ContainerAction).kind}`);
          }
        } catch (e) {
          progress.update('Container', a.name, 'Error', 'error');
          throw new Error(`container ${a.name}: ${(e as Error).message}`);
        }
      }),
  );
}

/** The start phase of a service: start what was made or stopped, restart what a dependency asks. */
async function startService(ctx: ConvergeContext, svc: Service, prepared: Prepared[]): Promise<void> {
  const { api, progress } = ctx;
  await Promise.all(
    prepared.map(async (p) => {
      try {
        if (p.then === 'start') {
          if (ctx.noStart) {
            progress.update('Container', p.name, 'Created', 'done');
            return;
          }
          progress.update('Container', p.name, 'Starting');
          await api.start(p.id);
          progress.update('Container', p.name, 'Started', 'done');
        } else if (p.then === 'restart') {
          progress.update('Container', p.name, 'Restarting');
          await api.restart(p.id, stopTimeout(svc, ctx.timeout));
          progress.update('Container', p.name, 'Restarted', 'done');
        }
      } catch (e) {
        progress.update('Container', p.name, 'Error', 'error');
        throw new Error(`container ${p.name}: ${(e as Error).message}`);
      }
    }),
  );
}
