// `tscompose up` (and `create`): plan against what the engine has, make images available, converge,
// then optionally wait for health (--wait) or stay attached to the logs (no -d).
import { LABELS } from '../../compose-spec/index.js';
import { parseFlags, UsageError, type GlobalOptions } from './args.js';
import { converge, pollUntil, stopTimeout } from './converge.js';
import { Api } from './engine.js';
import { ensureImages, type Builder, type PullPolicy } from './images.js';
import { followLogs } from './logs.js';
import { planUp, PlanError, selectServices, type RecreatePolicy } from './plan.js';
import { createProgress } from './progress.js';
import { CommandError, contentFiles, loadForCommand } from './project.js';
import { mark } from './timing.js';

const FLAGS = {
  detach: { names: ['-d', '--detach'], value: false },
  scale: { names: ['--scale'], value: true },
  build: { names: ['--build'], value: false },
  noBuild: { names: ['--no-build'], value: false },
  pull: { names: ['--pull'], value: true },
  forceRecreate: { names: ['--force-recreate'], value: false },
  noRecreate: { names: ['--no-recreate'], value: false },
  alwaysRecreateDeps: { names: ['--always-recreate-deps'], value: false },
  removeOrphans: { names: ['--remove-orphans'], value: false },
  noDeps: { names: ['--no-deps'], value: false },
  noStart: { names: ['--no-start'], value: false },
  renewAnonVolumes: { names: ['-V', '--renew-anon-volumes'], value: false },
  wait: { names: ['--wait'], value: false },
  waitTimeout: { names: ['--wait-timeout'], value: true },
  timeout: { names: ['-t', '--timeout'], value: true },
  quietPull: { names: ['--quiet-pull'], value: false },
  progress: { names: ['--progress'], value: true },
  help: { names: ['-h', '--help'], value: false },
};

const HELP = `Usage: tscompose up [OPTIONS] [SERVICE...]

Create and start containers.

Options:
  -d, --detach                 Run containers in the background
      --scale SERVICE=NUM      Scale a service (repeatable)
      --build                  Build images before starting containers
      --no-build               Don't build an image, even if it's missing
      --pull always|missing|never  Pull images before running (default: the service's pull_policy)
      --force-recreate         Recreate containers even if their configuration hasn't changed
      --no-recreate            Don't recreate containers that exist
      --always-recreate-deps   Recreate dependent containers too
      --remove-orphans         Remove containers of services not in the compose file
      --no-deps                Don't start linked services
      --no-start               Don't start the services after creating them
  -V, --renew-anon-volumes     Recreate anonymous volumes instead of retrieving data from the previous containers
      --wait                   Wait for services to be running|healthy (implies -d)
      --wait-timeout SECONDS   Maximum time to wait with --wait
  -t, --timeout SECONDS        Shutdown timeout for containers being replaced
      --progress auto|tty|plain|quiet  Progress output
`;

export function parseScale(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) {
    const m = /^([^=]+)=(\d+)$/.exec(v);
    if (!m) throw new UsageError(`invalid --scale "${v}": expected SERVICE=NUMBER`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

function intFlag(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`invalid ${name} "${v}": expected a whole number of seconds`);
  return Number(v);
}

export async function upCommand(global: GlobalOptions, argv: string[], create = false): Promise<number> {
  const { parsed } = parseFlags(argv, FLAGS, false);
  const has = (k: string) => parsed.values.has(k);
  const last = (k: string) => parsed.values.get(k)?.at(-1);
  if (has('help')) {
    process.stdout.write(create ? HELP.replace('up [OPTIONS]', 'create [OPTIONS]').replace('Create and start containers.', 'Creates containers for a service.') : HELP);
    return 0;
  }
  if (has('forceRecreate') && has('noRecreate')) throw new UsageError('--force-recreate and --no-recreate are incompatible');
  if (has('build') && has('noBuild')) throw new UsageError('--build and --no-build are incompatible');
  const pull = last('pull');
  if (pull !== undefined && !['always', 'missing', 'never', 'build'].includes(pull)) throw new UsageError(`invalid --pull "${pull}": expected always, missing or never`);
  const waitTimeout = intFlag(last('waitTimeout'), '--wait-timeout');
  const timeout = intFlag(last('timeout'), '--timeout');
  const detach = create || has('detach') || has('wait');
  const mode = (last('progress') ?? 'auto') as 'auto' | 'tty' | 'plain' | 'quiet';
  if (!['auto', 'tty', 'plain', 'quiet'].includes(mode)) throw new UsageError(`invalid --progress "${mode}": expected auto, tty, plain or quiet`);

  const loaded = loadForCommand(global);
  mark('loadProject');
  const { project } = loaded;
  const api = new Api();
  const recreate: RecreatePolicy = has('forceRecreate') ? 'force' : has('noRecreate') ? 'never' : 'diverged';
  const services = parsed.positional;
  let plan;
  const state = await api.state(project.name);
  mark('engineState');
  try {
    plan = planUp(project, state, {
      services,
      scale: parseScale(parsed.values.get('scale') ?? []),
      recreate,
      ...(has('alwaysRecreateDeps') ? { recreateDeps: recreate } : {}),
      removeOrphans: has('removeOrphans') || process.env.COMPOSE_REMOVE_ORPHANS === 'true',
      noDeps: has('noDeps'),
    });
  } catch (e) {
    if (e instanceof PlanError) throw new CommandError(e.message);
    throw e;
  }
  const progress = createProgress(create ? 'Creating' : 'Running', process.stderr, mode);
  try {
    const needed = plan.levels.flat().filter((s) => s.actions.some((a) => a.kind === 'create' || a.kind === 'recreate')).map((s) => s.service);
    const toCheck = has('build') ? selectServices(project, services, has('noDeps')).filter((s) => project.services[s]!.build) : needed;
    // The builder is loaded only when an image has to be built: most runs find every image present.
    const build: Builder = async (p, s, pr) => (await import('./build.js')).buildService(api, p, s, pr);
    await ensureImages(api, project, [...new Set([...toCheck, ...needed])].sort(), { ...(pull ? { pull: pull as PullPolicy } : {}), build: has('build'), noBuild: has('noBuild') }, progress, build);
    mark('images');
    const result = await converge({ api, project, progress, files: contentFiles(loaded), state, ...(create || has('noStart') ? { noStart: true } : {}), ...(has('renewAnonVolumes') ? { renewAnonVolumes: true } : {}), ...(timeout !== undefined ? { timeout } : {}) }, plan);
    mark('converge');
    if (has('wait')) await waitHealthy(api, project.name, [...result.containers.entries()].filter(([s]) => plan.levels.flat().some((p) => p.service === s)).flatMap(([, l]) => l), waitTimeout, progress);
    progress.stop();
    if (detach) return 0;
    // Attached: stream every container's output until they all stop, or stop them on Ctrl-C.
    const targets = plan.levels.flat().flatMap((s) => result.containers.get(s.service)?.map((c) => ({ ...c, service: s.service })) ?? []);
    const ac = new AbortController();
    let stopping = false;
    const onSignal = (): void => {
      if (stopping) {
        process.stderr.write('Killing…\n');
        void Promise.allSettled(targets.map((c) => api.kill(c.id)));
        return;
      }
      stopping = true;
      process.stderr.write('Gracefully stopping... (press Ctrl+C again to force)\n');
      const p = createProgress('Stopping', process.stderr, mode);
      void Promise.allSettled(
        targets.map(async (c) => {
          p.update('Container', c.name, 'Stopping');
          await api.stop(c.id, stopTimeout(project.services[c.service], timeout));
          p.update('Container', c.name, 'Stopped', 'done');
        }),
      ).then(() => {
        p.stop();
        ac.abort();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    await followLogs(api, targets, { follow: true, timestamps: false, signal: ac.signal });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    return 0;
  } finally {
    progress.stop();
  }
}

/** --wait: every container running, and healthy when it has a healthcheck; one that exits fails the wait. */
async function waitHealthy(api: Api, project: string, containers: Array<{ id: string; name: string }>, timeoutSeconds: number | undefined, progress: ReturnType<typeof createProgress>): Promise<void> {
  const deadline = timeoutSeconds !== undefined ? Date.now() + timeoutSeconds * 1000 : Infinity;
  for (const c of containers) progress.update('Container', c.name, 'Waiting');
  await pollUntil(api, project, containers, (c, s) => {
    const oneShot = s.labels[LABELS.oneoff] === 'True';
    if (s.running && (s.health === undefined || s.health === 'healthy')) {
      progress.update('Container', c.name, 'Healthy', 'done');
      return true;
    }
    if (s.health === 'unhealthy') {
      progress.update('Container', c.name, 'Unhealthy', 'error');
      throw new CommandError(`container ${c.name} is unhealthy`);
    }
    if (!s.running && s.status !== 'restarting' && s.status !== 'created') {
      if (s.exitCode === 0 && !oneShot) {
        progress.update('Container', c.name, 'Healthy', 'done');
        return true;
      }
      progress.update('Container', c.name, `Exited (${s.exitCode})`, 'error');
      throw new CommandError(`container ${c.name} exited (${s.exitCode})`);
    }
    if (Date.now() > deadline) {
      progress.update('Container', c.name, 'Timeout', 'error');
      throw new CommandError(`timeout waiting for container ${c.name} after ${timeoutSeconds}s`);
    }
    return false;
  });
}
