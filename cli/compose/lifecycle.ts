// The per-container commands: start, stop, restart, kill, rm, pause, unpause, exec, run, port, top,
// images, ls, pull, push, build. Each acts on the project's containers of the named services.
import { randomBytes } from 'node:crypto';
import { LABELS, serviceImage, type Project } from '../../compose-spec/index.js';
import { formatList, tabwrite } from '../../lib/format/index.js';
import { parseFlags, UsageError, type FlagSpec, type GlobalOptions } from './args.js';
import { buildService } from './build.js';
import { converge, stopTimeout } from './converge.js';
import { Api, nameOf, type ContainerSummary } from './engine.js';
import { Demuxer } from './logs.js';
import { planUp } from './plan.js';
import { createProgress, type Progress, type ResourceKind } from './progress.js';
import { checkServices, CommandError, contentFiles, loadForCommand } from './project.js';
import { containerSpec } from './spec.js';
import { VERSION } from '../../lib/version.js';
import { ensureImages } from './images.js';

const HELP: FlagSpec = { names: ['-h', '--help'], value: false };

/** The project and an engine client for a command on the named services, once they are known to exist. */
function openServices(global: GlobalOptions, names: readonly string[]): { project: Project; api: Api } {
  const { project } = loadForCommand(global);
  checkServices(project, names);
  return { project, api: new Api() };
}

/** The services named on the command line, or all of them in name order when none is. */
function namedOrAll(project: Project, names: string[]): string[] {
  return names.length ? names : Object.keys(project.services).sort();
}

/**
 * Runs one item's work under its progress line. A failure marks the line and is returned rather than
 * thrown, so the command carries on with the other items and reports every failure at the end.
 */
async function tracked(progress: Progress, kind: ResourceKind, name: string, [doing, done]: readonly [string, string], work: () => Promise<unknown>): Promise<Error | undefined> {
  progress.update(kind, name, doing);
  try {
    await work();
    progress.update(kind, name, done, 'done');
    return undefined;
  } catch (e) {
    progress.update(kind, name, 'Error', 'error');
    return e as Error;
  }
}

async function serviceContainers(api: Api, project: Project, services: string[], all = true): Promise<ContainerSummary[]> {
  return (await api.containers(project.name, { all }))
    .filter((c) => c.Labels[LABELS.oneoff] !== 'True')
    .filter((c) => services.length === 0 || services.includes(c.Labels[LABELS.service] ?? ''))
    .sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
}

type Verb = 'start' | 'stop' | 'restart' | 'kill' | 'pause' | 'unpause';
const WORDS: Record<Verb, [string, string]> = {
  start: ['Starting', 'Started'],
  stop: ['Stopping', 'Stopped'],
  restart: ['Restarting', 'Started'],
  kill: ['Killing', 'Killed'],
  pause: ['Pausing', 'Paused'],
  unpause: ['Unpausing', 'Unpaused'],
};

export function simpleCommand(verb: Verb) {
  return async (global: GlobalOptions, argv: string[]): Promise<number> => {
    const flags: Record<string, FlagSpec> = { help: HELP };
    if (verb === 'stop' || verb === 'restart') flags.timeout = { names: ['-t', '--timeout'], value: true };
    if (verb === 'kill') flags.signal = { names: ['-s', '--signal'], value: true };
    const { parsed } = parseFlags(argv, flags, false);
    if (parsed.values.has('help')) {
      process.stdout.write(`Usage: tscompose ${verb} [OPTIONS] [SERVICE...]\n`);
      return 0;
    }
    const t = parsed.values.get('timeout')?.at(-1);
    if (t !== undefined && !/^\d+$/.test(t)) throw new UsageError(`invalid --timeout "${t}": expected a whole number of seconds`);
    const { project, api } = openServices(global, parsed.positional);
    const list = await serviceContainers(api, project, parsed.positional);
    const progress = createProgress(verb[0]!.toUpperCase() + verb.slice(1));
    const errors: string[] = [];
    const eligible = list.filter((c) => {
      if (verb === 'start') return c.State !== 'running';
      if (verb === 'unpause') return c.State === 'paused';
      if (verb === 'pause' || verb === 'kill') return c.State === 'running';
      return verb === 'restart' || c.State === 'running' || c.State === 'paused' || c.State === 'restarting';
    });
    await Promise.all(
      eligible.map(async (c) => {
        const name = nameOf(c);
        const svc = project.services[c.Labels[LABELS.service] ?? ''];
        const failed = await tracked(progress, 'Container', name, WORDS[verb], async () => {
          if (verb === 'start') await api.start(c.Id);
          else if (verb === 'stop') await api.stop(c.Id, stopTimeout(svc, t !== undefined ? Number(t) : undefined));
          else if (verb === 'restart') await api.restart(c.Id, stopTimeout(svc, t !== undefined ? Number(t) : undefined));
          else if (verb === 'kill') await api.kill(c.Id, parsed.values.get('signal')?.at(-1));
          else if (verb === 'pause') await api.pause(c.Id);
          else await api.unpause(c.Id);
        });
        if (failed) errors.push(`${name}: ${failed.message}`);
      }),
    );
    progress.stop();
    if (errors.length) throw new CommandError(errors.join('\n'));
    return 0;
  };
}

export async function rmCommand(global: GlobalOptions, argv: string[]): Promise<number> {
  const { parsed } = parseFlags(argv, { help: HELP, force: { names: ['-f', '--force'], value: false }, stop: { names: ['-s', '--stop'], value: false }, volumes: { names: ['-v', '--volumes'], value: false } }, false);
  if (parsed.values.has('help')) {
    process.stdout.write('Usage: tscompose rm [-f] [-s] [-v] [SERVICE...]\n\nRemoves stopped service containers.\n');
    return 0;
  }
  const { project, api } = openServices(global, parsed.positional);
  const list = await serviceContainers(api, project, parsed.positional);
  const progress = createProgress('Removing');
  for (const c of list) {
    if (c.State === 'running' && !parsed.values.has('stop')) continue;
    const name = nameOf(c);
    if (c.State === 'running') {
      progress.update('Container', name, 'Stopping');
      await api.stop(c.Id, stopTimeout(project.services[c.Labels[LABELS.service] ?? '']));
    }
    progress.update('Container', name, 'Removing');
    await api.remove(c.Id, { volumes: parsed.values.has('volumes') });
    progress.update('Container', name, 'Removed', 'done');
  }
  progress.stop();
  if (list.every((c) => c.State === 'running' && !parsed.values.has('stop'))) process.stderr.write('No stopped containers\n');
  return 0;
}

/** Streams an exec or attach response to stdout/stderr. */
async function pipeStream(res: import('node:http').IncomingMessage): Promise<void> {
  const demux = new Demuxer((s, d) => (s === 'stderr' ? process.stderr : process.stdout).write(d));
  for await (const chunk of res) demux.push(chunk as Buffer);
}

export async function execCommand(global: GlobalOptions, argv: string[]): Promise<number> {
  const specs = {
    help: HELP,
    index: { names: ['--index'], value: true },
    env: { names: ['-e', '--env'], value: true },
    user: { names: ['-u', '--user'], value: true },
    workdir: { names: ['-w', '--workdir'], value: true },
    detach: { names: ['-d', '--detach'], value: false },
    noTty: { names: ['-T', '--no-TTY'], value: false },
    interactive: { names: ['-i', '--interactive'], value: false },
    privileged: { names: ['--privileged'], value: false },
  };
  // Options end at the service name: what follows is the command.
  const { parsed, rest } = parseFlags(argv, specs, true);
  if (parsed.values.has('help') || rest.length < 2) {
    process.stdout.write('Usage: tscompose exec [OPTIONS] SERVICE COMMAND [ARGS...]\n');
    return parsed.values.has('help') ? 0 : 2;
  }
  const [service, ...cmd] = rest as [string, ...string[]];
  const { project, api } = openServices(global, [service]);
  const index = parsed.values.get('index')?.at(-1) ?? '1';
  const c = (await serviceContainers(api, project, [service], false)).find((x) => x.Labels[LABELS.containerNumber] === index);
  if (!c) throw new CommandError(`service "${service}" is not running container #${index}`);
  const { Id } = await api.client.call<{ Id: string }>(`/containers/${c.Id}/exec`, {
    body: {
      Cmd: cmd,
      AttachStdout: true,
      AttachStderr: true,
      Env: parsed.values.get('env') ?? [],
      ...(parsed.values.has('user') ? { User: parsed.values.get('user')!.at(-1) } : {}),
      ...(parsed.values.has('workdir') ? { WorkingDir: parsed.values.get('workdir')!.at(-1) } : {}),
      Privileged: parsed.values.has('privileged'),
    },
  });
  const res = await api.client.raw(`/exec/${Id}/start`, { method: 'POST', body: { Detach: parsed.values.has('detach'), Tty: false } });
  await pipeStream(res);
  const info = await api.client.call<{ ExitCode: number | null }>(`/exec/${Id}/json`);
  return info.ExitCode ?? 0;
}

export async function runCommand(global: GlobalOptions, argv: string[]): Promise<number> {
  const specs = {
    help: HELP,
    rm: { names: ['--rm'], value: false },
    env: { names: ['-e', '--env'], value: true },
    detach: { names: ['-d', '--detach'], value: false },
    name: { names: ['--name'], value: true },
    user: { names: ['-u', '--user'], value: true },
    workdir: { names: ['-w', '--workdir'], value: true },
    entrypoint: { names: ['--entrypoint'], value: true },
    noDeps: { names: ['--no-deps'], value: false },
    servicePorts: { names: ['-P', '--service-ports'], value: false },
    noTty: { names: ['-T', '--no-TTY'], value: false },
    interactive: { names: ['-i', '--interactive'], value: false },
    label: { names: ['-l', '--label'], value: true },
    build: { names: ['--build'], value: false },
    quietPull: { names: ['--quiet-pull'], value: false },
    pull: { names: ['--pull'], value: true },
  };
  const { parsed, rest } = parseFlags(argv, specs, true);
  if (parsed.values.has('help') || rest.length < 1) {
    process.stdout.write('Usage: tscompose run [OPTIONS] SERVICE [COMMAND] [ARGS...]\n');
    return parsed.values.has('help') ? 0 : 2;
  }
  const [service, ...cmd] = rest as [string, ...string[]];
  const loaded = loadForCommand(global);
  const { project } = loaded;
  checkServices(project, [service]);
  const svc = project.services[service]!;
  const api = new Api();
  const progress = createProgress('Running');
  const files = contentFiles(loaded);
  const deps = Object.keys(svc.depends_on).filter((d) => project.services[d]);
  if (!parsed.values.has('noDeps') && deps.length > 0) {
    const state = await api.state(project.name);
    const plan = planUp(project, state, { services: deps, scale: {}, recreate: 'diverged', removeOrphans: false });
    await ensureImages(api, project, plan.levels.flat().map((s) => s.service), {}, progress, (p, s, pr) => buildService(api, p, s, pr));
    await converge({ api, project, progress, files, state }, plan);
  } else {
    // The default network must exist even when nothing else runs.
    const state = await api.state(project.name);
    const plan = planUp(project, state, { services: [service], scale: { [service]: 0 }, recreate: 'never', removeOrphans: false, noDeps: true });
    await converge({ api, project, progress, files, state }, { ...plan, levels: [] });
  }
  await ensureImages(api, project, [service], { build: parsed.values.has('build') }, progress, (p, s, pr) => buildService(api, p, s, pr));
  progress.stop();
  const name = parsed.values.get('name')?.at(-1) ?? `${project.name}-${service}-run-${randomBytes(6).toString('hex')}`;
  const labels = Object.fromEntries((parsed.values.get('label') ?? []).map((l) => [l.split('=')[0]!, l.split('=').slice(1).join('=')]));
  const entrypoint = parsed.values.get('entrypoint')?.at(-1);
  const spec = containerSpec(project, svc, {
    number: 1,
    version: VERSION,
    oneoff: true,
    name,
    secretFiles: files.secrets,
    configFiles: files.configs,
    ...(cmd.length ? { command: cmd } : {}),
    ...(entrypoint !== undefined ? { entrypoint: entrypoint === '' ? [] : [entrypoint] } : {}),
    env: parsed.values.get('env') ?? [],
    publishPorts: parsed.values.has('servicePorts'),
    ...(parsed.values.has('user') ? { user: parsed.values.get('user')!.at(-1)! } : {}),
    ...(parsed.values.has('workdir') ? { workdir: parsed.values.get('workdir')!.at(-1)! } : {}),
    autoRemove: false,
    labels,
  });
  const id = await api.createContainer(spec);
  if (parsed.values.has('detach')) {
    await api.start(id);
    process.stdout.write(`${name}\n`);
    return 0;
  }
  try {
    const attach = await api.client.raw(`/containers/${id}/attach`, { method: 'POST', query: { stream: 1, stdout: 1, stderr: 1 } });
    const done = pipeStream(attach);
    await api.start(id);
    const code = await api.wait(id);
    await done;
    return code;
  } finally {
    if (parsed.values.has('rm')) await api.remove(id, { force: true }).catch(() => undefined);
  }
}

export async function portCommand(global: GlobalOptions, argv: string[]): Promise<number> {
  const { parsed } = parseFlags(argv, { help: HELP, protocol: { names: ['--protocol'], value: true }, index: { names: ['--index'], value: true } }, false);
  if (parsed.values.has('help') || parsed.positional.length !== 2) {
    process.stdout.write('Usage: tscompose port [OPTIONS] SERVICE PRIVATE_PORT\n');
    return parsed.values.has('help') ? 0 : 2;
  }
  const [service, port] = parsed.positional as [string, string];
  const proto = parsed.values.get('protocol')?.at(-1) ?? 'tcp';
  const { project, api } = openServices(global, [service]);
  const index = parsed.values.get('index')?.at(-1) ?? '1';
  const c = (await serviceContainers(api, project, [service])).find((x) => x.Labels[LABELS.containerNumber] === index);
  if (!c) throw new CommandError(`service "${service}" has no container #${index}`);
  const b = (await api.inspect(c.Id)).NetworkSettings.Ports[`${port}/${proto}`];
  if (!b || b.length === 0) throw new CommandError(`no port ${port}/${proto} published for ${nameOf(c)}`);
  process.stdout.write(`${b[0]!.HostIp || '0.0.0.0'}:${b[0]!.HostPort}\n`);
  return 0;
}

export async function topCommand(global: GlobalOptions, argv: string[]): Promise<number> {
  const { parsed } = parseFlags(argv, { help: HELP }, false);
  if (parsed.values.has('help')) {
    process.stdout.write('Usage: tscompose top [SERVICE...]\n');
    return 0;
  }
  const { project, api } = openServices(global, parsed.positional);
  const list = await serviceContainers(api, project, parsed.positional, false);
  for (const c of list) {
    const t = await api.client.call<{ Titles: string[]; Processes: string[][] }>(`/containers/${c.Id}/top`);
    process.stdout.write(`${nameOf(c)}\n${tabwrite([t.Titles, ...t.Processes].map((r) => `${r.join('\t')}\n`).join(''))}\n`);
  }
  return 0;
}

export async function imagesCommand(global: GlobalOptions, argv: string[]): Promise<number> {
  const { parsed } = parseFlags(argv, { help: HELP, quiet: { names: ['-q', '--quiet'], value: false }, format: { names: ['--format'], value: true } }, false);
  if (parsed.values.has('help')) {
    process.stdout.write('Usage: tscompose images [OPTIONS] [SERVICE...]\n');
    return 0;
  }
  const { project, api } = openServices(global, parsed.positional);
  const list = await serviceContainers(api, project, parsed.positional);
  const images = await api.client.call<Array<{ Id: string; RepoTags: string[] | null; Size: number; Created: number }>>('/images/json');
  const rows = list.map((c) => {
    const img = images.find((i) => (i.RepoTags ?? []).includes(c.Image) || i.Id === c.Image || (i.RepoTags ?? []).includes(`${c.Image}:latest`));
    const [repo, tag] = c.Image.includes(':') ? [c.Image.slice(0, c.Image.lastIndexOf(':')), c.Image.slice(c.Image.lastIndexOf(':') + 1)] : [c.Image, 'latest'];
    return { ContainerName: nameOf(c), Repository: repo, Tag: tag, ID: (img?.Id ?? '').replace(/^sha256:/, '').slice(0, 12), Size: img ? `${(img.Size / 1e6).toFixed(1)}MB` : '' };
  });
  if (parsed.values.has('quiet')) {
    process.stdout.write([...new Set(rows.map((r) => r.ID))].map((i) => `${i}\n`).join(''));
    return 0;
  }
  process.stdout.write(formatList(parsed.values.get('format')?.at(-1), rows, { defaultTable: 'table {{.ContainerName}}\t{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Size}}', headers: { ContainerName: 'CONTAINER', ID: 'IMAGE ID' } }));
  return 0;
}

export async function lsCommand(_global: GlobalOptions, argv: string[]): Promise<number> {
  const { parsed } = parseFlags(argv, { help: HELP, all: { names: ['-a', '--all'], value: false }, quiet: { names: ['-q', '--quiet'], value: false }, format: { names: ['--format'], value: true } }, false);
  if (parsed.values.has('help')) {
    process.stdout.write('Usage: tscompose ls [OPTIONS]\n\nList running compose projects\n');
    return 0;
  }
  const api = new Api();
  const list = await api.allContainers([LABELS.project]);
  const projects = new Map<string, { states: Map<string, number>; files: Set<string> }>();
  for (const c of list) {
    const p = c.Labels[LABELS.project]!;
    const e = projects.get(p) ?? { states: new Map(), files: new Set() };
    e.states.set(c.State, (e.states.get(c.State) ?? 0) + 1);
    if (c.Labels[LABELS.configFiles]) e.files.add(c.Labels[LABELS.configFiles]);
    projects.set(p, e);
  }
  const rows = [...projects.entries()]
    .filter(([, e]) => parsed.values.has('all') || e.states.has('running'))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([Name, e]) => ({ Name, Status: [...e.states.entries()].sort().map(([s, n]) => `${s}(${n})`).join(', '), ConfigFiles: [...e.files].join(',') }));
  if (parsed.values.has('quiet')) {
    process.stdout.write(rows.map((r) => `${r.Name}\n`).join(''));
    return 0;
  }
  const format = parsed.values.get('format')?.at(-1);
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
    return 0;
  }
  process.stdout.write(formatList(format, rows, { defaultTable: 'table {{.Name}}\t{{.Status}}\t{{.ConfigFiles}}', headers: { ConfigFiles: 'CONFIG FILES' } }));
  return 0;
}

export async function pullCommand(global: GlobalOptions, argv: string[]): Promise<number> {
  const { parsed } = parseFlags(argv, { help: HELP, quiet: { names: ['-q', '--quiet'], value: false }, ignoreFailures: { names: ['--ignore-pull-failures'], value: false }, ignoreBuildable: { names: ['--ignore-buildable'], value: false } }, false);
  if (parsed.values.has('help')) {
    process.stdout.write('Usage: tscompose pull [OPTIONS] [SERVICE...]\n');
    return 0;
  }
  const { project, api } = openServices(global, parsed.positional);
  const progress = createProgress('Pulling', process.stderr, parsed.values.has('quiet') ? 'quiet' : 'auto');
  const refs = [...new Set(namedOrAll(project, parsed.positional).map((n) => project.services[n]!).filter((s) => s.image && !(s.build && parsed.values.has('ignoreBuildable'))).map((s) => s.image!))];
  const errors: string[] = [];
  await Promise.all(
    refs.map(async (ref) => {
      const failed = await tracked(progress, 'Image', ref, ['Pulling', 'Pulled'], () => api.pull(ref, (s) => progress.update('Image', ref, s)));
      if (failed) errors.push(failed.message);
    }),
  );
  progress.stop();
  if (errors.length && !parsed.values.has('ignoreFailures')) throw new CommandError(errors.join('\n'));
  return 0;
}

export async function pushCommand(global: GlobalOptions, argv: string[]): Promise<number> {
  const { parsed } = parseFlags(argv, { help: HELP, quiet: { names: ['-q', '--quiet'], value: false }, ignoreFailures: { names: ['--ignore-push-failures'], value: false } }, false);
  if (parsed.values.has('help')) {
    process.stdout.write('Usage: tscompose push [OPTIONS] [SERVICE...]\n');
    return 0;
  }
  const { project, api } = openServices(global, parsed.positional);
  const progress = createProgress('Pushing', process.stderr, parsed.values.has('quiet') ? 'quiet' : 'auto');
  const refs = [...new Set(namedOrAll(project, parsed.positional).map((n) => project.services[n]!).filter((s) => s.image).map((s) => serviceImage(project, s)))];
  const errors: string[] = [];
  for (const ref of refs) {
    const failed = await tracked(progress, 'Image', ref, ['Pushing', 'Pushed'], () => api.push(ref, (s) => progress.update('Image', ref, s)));
    if (failed) errors.push(failed.message);
  }
  progress.stop();
  if (errors.length && !parsed.values.has('ignoreFailures')) throw new CommandError(errors.join('\n'));
  return 0;
}

export async function buildCommand(global: GlobalOptions, argv: string[]): Promise<number> {
  const { parsed } = parseFlags(argv, { help: HELP, quiet: { names: ['-q', '--quiet'], value: false }, noCache: { names: ['--no-cache'], value: false }, pull: { names: ['--pull'], value: false } }, false);
  if (parsed.values.has('help')) {
    process.stdout.write('Usage: tscompose build [OPTIONS] [SERVICE...]\n');
    return 0;
  }
  const { project, api } = openServices(global, parsed.positional);
  const progress = createProgress('Building', process.stderr, parsed.values.has('quiet') ? 'quiet' : 'auto');
  const names = namedOrAll(project, parsed.positional).filter((n) => project.services[n]!.build);
  try {
    for (const n of names) await buildService(api, project, project.services[n]!, progress, { ...(parsed.values.has('noCache') ? { noCache: true } : {}), ...(parsed.values.has('pull') ? { pull: true } : {}) });
  } finally {
    progress.stop();
  }
  return 0;
}
