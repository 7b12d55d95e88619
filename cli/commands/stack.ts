// `tsswarm stack deploy|ls|services|ps|rm`, with Docker's flags, texts and exit codes. The work is in
// cli/stack/: load → convert (+ unsupported-key warnings) → plan → run.
import { FlagError, type Parsed } from '../../lib/flags.js';
import { formatList } from '../../lib/format/index.js';
import { LABELS } from '../../api/swarm-labels.js';
import { StackDaemon } from '../stack/daemon.js';
import type { ResolveImage } from '../stack/plan.js';
import { HEADERS, STACK_LS_TABLE, stackRows } from '../stack/tables.js';
import { isTableFormat, SERVICE_TABLE, serviceRows, TASK_TABLE, taskRows } from '../service/format.js';
import { bool, client, group, list, needArgs, parse, parseFilters, str } from './common.js';

const daemon = (): StackDaemon => new StackDaemon(client());
const say = (l: string): void => void process.stdout.write(`${l}\n`);
const warn = (l: string): void => void process.stderr.write(`${l}\n`);

/**
 * What deploy and rm need beyond listing: the compose loader, the converter and the planner (zod
 * schemas, YAML), loaded only for them so that `stack ls|ps|services` start fast.
 */
async function stackModules() {
  const [convert, load, deploy, plan, content, unsupported] = await Promise.all([
    import('../stack/convert.js'),
    import('../stack/load.js'),
    import('../stack/deploy.js'),
    import('../stack/plan.js'),
    import('../stack/content.js'),
    import('../stack/unsupported.js'),
  ]);
  /** Errors of our own making (files, keys, plan) are plain messages; the daemon's keep their prefix. */
  const userError = (e: unknown): never => {
    if (e instanceof convert.StackConvertError || e instanceof load.StackLoadError || e instanceof plan.PlanError || e instanceof content.ContentError) throw new Error(e.message);
    throw e;
  };
  return { convert, load, deploy, plan, unsupported, userError };
}

function oneStack(p: Parsed, cmd: string, usage: string): string {
  needArgs(p, 1, `stack ${cmd}`, usage);
  if (p.args.length > 1) throw new FlagError(`"tsswarm stack ${cmd}" requires exactly 1 argument.\nSee 'tsswarm stack ${cmd} --help'.\n\nUsage:  ${usage}`);
  return p.args[0]!;
}

async function deploy(argv: string[]): Promise<number> {
  const usage = 'tsswarm stack deploy [OPTIONS] STACK';
  const p = parse(argv, usage, [
    { name: 'compose-file', short: 'c', type: 'list', description: 'Path to a Compose file, or "-" to read from stdin' },
    { name: 'prune', type: 'bool', description: 'Prune services that are no longer referenced' },
    {
      name: 'resolve-image',
      type: 'string',
      description: 'Query the registry to resolve image digest and supported platforms ("always", "changed", "never") (default "always")',
    },
    { name: 'with-registry-auth', type: 'bool', description: 'Send registry authentication details to Swarm agents' },
    { name: 'detach', short: 'd', type: 'bool', description: 'Exit immediately instead of waiting for the stack services to converge (default true)' },
    { name: 'quiet', short: 'q', type: 'bool', description: 'Suppress progress output' },
  ]);
  if (!p) return 0;
  const stack = oneStack(p, 'deploy', usage);
  const { convert, load, deploy: run, plan, unsupported, userError } = await stackModules();
  const { convertStack } = convert;
  const { loadStack } = load;
  const { deployStack } = run;
  const { RESOLVE_IMAGE } = plan;
  const { stackWarnings } = unsupported;
  const resolveImage = (str(p, 'resolve-image') ?? 'always') as ResolveImage;
  // Docker's wording and exit code (1: it is checked after parsing, not by the flag parser).
  if (!RESOLVE_IMAGE.includes(resolveImage)) throw new Error(`Invalid option ${resolveImage} for flag --resolve-image`);
  const detach = p.flags.detach !== false;
  try {
    const loaded = loadStack(list(p, 'compose-file'), stack, process.cwd(), process.env);
    for (const w of loaded.warnings) warn(`WARN ${w}`);
    for (const w of stackWarnings(loaded.project)) process.stderr.write(`${w}\n\n`);
    const objects = convertStack(loaded.project, stack);
    if (p.flags.detach === undefined) warn('Since --detach=false was not specified, tasks will be created in the background.\nIn a future release, --detach=false will become the default.');
    // Networks must be created in the swarm's scope, which only a manager can do: say so up front.
    const info = await client().call<{ Swarm?: { ControlAvailable?: boolean } }>('/info');
    if (!info.Swarm?.ControlAvailable) throw new Error('this node is not a swarm manager. Use "tsswarm swarm init" or "tsswarm swarm join" to connect this node to swarm and try again');
    const auth = bool(p, 'with-registry-auth') ? (await import('./login.js')).registryAuthHeader : undefined;
    const d = daemon();
    const ids = await deployStack(d, objects, loaded.environment, { prune: bool(p, 'prune'), resolveImage, registryAuth: auth, out: say, err: warn });
    if (!detach) await waitConverged(d, ids, bool(p, 'quiet'));
  } catch (e) {
    userError(e);
  }
  return 0;
}

/** --detach=false: until every service runs (or, for a job, completed) as many tasks as it wants. */
async function waitConverged(d: StackDaemon, ids: string[], quiet: boolean): Promise<void> {
  const pending = new Set(ids);
  // A bound by count: ten minutes at one look a second.
  for (let i = 0; i < 600 && pending.size > 0; i++) {
    const services = await d.services({ id: [...pending] }, true);
    for (const s of services) {
      if (!pending.has(s.ID)) continue;
      const st = s.ServiceStatus;
      const job = s.Spec.Mode?.ReplicatedJob !== undefined || s.Spec.Mode?.GlobalJob !== undefined;
      const done =
        st !== undefined && st.DesiredTasks > 0
          ? job
            ? st.CompletedTasks >= st.DesiredTasks
            : st.RunningTasks >= st.DesiredTasks
          : st !== undefined && s.Spec.Mode?.Replicated?.Replicas === 0;
      if (done) {
        pending.delete(s.ID);
        if (!quiet) say(`${s.Spec.Name}: Service ${s.ID} converged`);
      }
    }
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 1000));
  }
  if (pending.size > 0) throw new Error(`services did not converge: ${[...pending].join(', ')}`);
}

async function ls(argv: string[]): Promise<number> {
  const p = parse(argv, 'tsswarm stack ls [OPTIONS]', [{ name: 'format', type: 'string', description: 'Format output using a custom template' }]);
  if (!p) return 0;
  const services = await daemon().services({ label: [LABELS.stackNamespace] });
  process.stdout.write(formatList(str(p, 'format'), stackRows(services), { defaultTable: STACK_LS_TABLE, headers: HEADERS }));
  return 0;
}

async function services(argv: string[]): Promise<number> {
  const usage = 'tsswarm stack services [OPTIONS] STACK';
  const p = parse(argv, usage, [
    { name: 'quiet', short: 'q', type: 'bool', description: 'Only display IDs' },
    { name: 'format', type: 'string', description: 'Format output using a custom template' },
    { name: 'filter', short: 'f', type: 'list', description: 'Filter output based on conditions provided' },
  ]);
  if (!p) return 0;
  const stack = oneStack(p, 'services', usage);
  const filters = parseFilters(list(p, 'filter'));
  const all = await daemon().services({ ...filters, label: [...(filters.label ?? []), `${LABELS.stackNamespace}=${stack}`] }, true);
  const mine = all.filter((s) => s.Spec.Labels?.[LABELS.stackNamespace] === stack);
  if (mine.length === 0) {
    warn(`Nothing found in stack: ${stack}`);
    return 0;
  }
  if (bool(p, 'quiet') && !str(p, 'format')) {
    process.stdout.write(mine.map((s) => `${s.ID}\n`).join(''));
    return 0;
  }
  process.stdout.write(formatList(str(p, 'format'), serviceRows(mine), SERVICE_TABLE));
  return 0;
}

async function ps(argv: string[]): Promise<number> {
  const usage = 'tsswarm stack ps [OPTIONS] STACK';
  const p = parse(argv, usage, [
    { name: 'no-trunc', type: 'bool', description: 'Do not truncate output' },
    { name: 'no-resolve', type: 'bool', description: 'Do not map IDs to Names' },
    { name: 'quiet', short: 'q', type: 'bool', description: 'Only display task IDs' },
    { name: 'format', type: 'string', description: 'Pretty-print tasks using a Go template' },
    { name: 'filter', short: 'f', type: 'list', description: 'Filter output based on conditions provided' },
  ]);
  if (!p) return 0;
  const stack = oneStack(p, 'ps', usage);
  const d = daemon();
  const svcs = await d.stackServices(stack);
  const ids = new Set(svcs.map((s) => s.ID));
  const tasks = svcs.length === 0 ? [] : (await d.tasks({ ...parseFilters(list(p, 'filter')), service: [...ids] })).filter((t) => ids.has(t.ServiceID));
  if (tasks.length === 0) throw new Error(`nothing found in stack: ${stack}`);
  if (bool(p, 'quiet') && !str(p, 'format')) {
    process.stdout.write(tasks.map((t) => `${t.ID}\n`).join(''));
    return 0;
  }
  const noResolve = bool(p, 'no-resolve');
  const services = new Map(noResolve ? [] : svcs.map((s) => [s.ID, s.Spec.Name ?? s.ID] as const));
  const nodes = new Map(noResolve ? [] : (await d.nodes().catch(() => [])).map((n) => [n.ID, n.Description?.Hostname ?? n.ID] as const));
  const format = str(p, 'format');
  const table = isTableFormat(format);
  process.stdout.write(formatList(format, taskRows(tasks, { services, nodes, now: Date.now(), trunc: !bool(p, 'no-trunc'), table }), TASK_TABLE));
  return 0;
}

async function rm(argv: string[]): Promise<number> {
  const usage = 'tsswarm stack rm [OPTIONS] STACK [STACK...]';
  const p = parse(argv, usage, [{ name: 'detach', short: 'd', type: 'bool', description: 'Do not wait for stack removal (default true)' }]);
  if (!p) return 0;
  needArgs(p, 1, 'stack rm', usage);
  const { removeStack } = (await stackModules()).deploy;
  const d = daemon();
  const failures: string[] = [];
  for (const stack of p.args) {
    const r = await removeStack(d, stack, say, warn);
    if (!r.found) warn(`Nothing found in stack: ${stack}`);
    if (r.failed) failures.push(`failed to remove some resources from stack: ${stack}`);
  }
  if (failures.length > 0) throw new Error(failures.join('\n'));
  return 0;
}

export const stack = group('stack', { deploy, up: deploy, ls, list: ls, services, ps, rm, remove: rm, down: rm });
export default stack;
