// `tscompose down`: stop and remove the project's containers (dependants first), its networks, and
// with -v its volumes, with --rmi its images.
import { DaemonError } from '../client.js';
import { parseFlags, UsageError, type GlobalOptions } from './args.js';
import { stopTimeout } from './converge.js';
import { Api } from './engine.js';
import { planDown } from './plan.js';
import { createProgress } from './progress.js';
import { loadForCommand, removeContentFiles } from './project.js';
import { mark } from './timing.js';
import { LABELS } from '../../compose-spec/index.js';

const FLAGS = {
  volumes: { names: ['-v', '--volumes'], value: false },
  rmi: { names: ['--rmi'], value: true },
  removeOrphans: { names: ['--remove-orphans'], value: false },
  timeout: { names: ['-t', '--timeout'], value: true },
  progress: { names: ['--progress'], value: true },
  help: { names: ['-h', '--help'], value: false },
};

const HELP = `Usage: tscompose down [OPTIONS]

Stop and remove containers, networks

Options:
  -v, --volumes            Remove named volumes declared in the volumes section and anonymous volumes
      --rmi all|local      Remove images used by services (local: only those without a custom tag)
      --remove-orphans     Remove containers of services not defined in the compose file
  -t, --timeout SECONDS    Shutdown timeout
`;

export async function downCommand(global: GlobalOptions, argv: string[]): Promise<number> {
  const { parsed } = parseFlags(argv, FLAGS, false);
  const last = (k: string) => parsed.values.get(k)?.at(-1);
  if (parsed.values.has('help')) {
    process.stdout.write(HELP);
    return 0;
  }
  const rmi = last('rmi');
  if (rmi !== undefined && rmi !== 'all' && rmi !== 'local') throw new UsageError(`invalid --rmi "${rmi}": expected all or local`);
  const t = last('timeout');
  if (t !== undefined && !/^\d+$/.test(t)) throw new UsageError(`invalid --timeout "${t}": expected a whole number of seconds`);
  if (parsed.positional.length > 0) throw new UsageError('down takes no service names');
  const { project } = loadForCommand(global);
  mark('loadProject');
  const api = new Api();
  const state = await api.state(project.name);
  mark('engineState');
  const plan = planDown(project, state, { removeOrphans: parsed.values.has('removeOrphans'), volumes: parsed.values.has('volumes'), ...(rmi ? { rmi } : {}) });
  for (const w of plan.warnings) process.stderr.write(`WARN ${w}\n`);
  const progress = createProgress('Running', process.stderr, (last('progress') ?? 'auto') as 'auto');
  const errors: string[] = [];
  const attempt = async (kind: 'Container' | 'Network' | 'Volume' | 'Image', name: string, f: () => Promise<void>, verb: [string, string]): Promise<void> => {
    progress.update(kind, name, verb[0]);
    try {
      await f();
      progress.update(kind, name, verb[1], 'done');
    } catch (e) {
      if (e instanceof DaemonError && e.status === 404) {
        progress.update(kind, name, verb[1], 'done');
        return;
      }
      progress.update(kind, name, 'Error', 'error');
      errors.push(`${kind.toLowerCase()} ${name}: ${(e as Error).message}`);
    }
  };
  try {
    for (const level of plan.levels) {
      await Promise.all(
        level.map((c) =>
          attempt('Container', c.name, async () => {
            const svc = project.services[c.labels[LABELS.service] ?? ''];
            if (c.state === 'running' || c.state === 'paused' || c.state === 'restarting') {
              await api.stop(c.id, stopTimeout(svc, t !== undefined ? Number(t) : undefined));
              progress.update('Container', c.name, 'Removing');
            }
            await api.remove(c.id, { force: true, volumes: parsed.values.has('volumes') });
          }, ['Stopping', 'Removed']),
        ),
      );
    }
    mark('containers');
    // The secret and config content written for the containers: theirs alone, and they are gone.
    if (errors.length === 0) {
      try {
        removeContentFiles(project.name, api.client.host);
      } catch (e) {
        errors.push(`secret and config files of ${project.name}: ${(e as Error).message}`);
      }
    }
    await Promise.all([
      ...plan.networks.map((n) => attempt('Network', n, () => api.removeNetwork(n), ['Removing', 'Removed'])),
      ...plan.volumes.map((v) => attempt('Volume', v, () => api.removeVolume(v), ['Removing', 'Removed'])),
    ]);
    for (const i of plan.images) await attempt('Image', i, () => api.removeImage(i), ['Removing', 'Removed']);
    mark('networksVolumesImages');
  } finally {
    progress.stop();
  }
  if (errors.length > 0) {
    process.stderr.write(`${errors.join('\n')}\n`);
    return 1;
  }
  return 0;
}
