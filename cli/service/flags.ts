// `tsswarm service create|update` flags and their translation into a ServiceSpec, with Docker's
// defaults, rules and error texts. Create builds a spec from nothing; update applies only the flags
// given to a copy of the current spec (the `-add`/`-rm` families as diffs). Pure: files and the
// client's environment come through RunFlagsIo, secrets and configs as the lists the daemon returned.
import { FlagError, type FlagSpec, type Parsed } from '../../lib/flags.js';
import { parseDuration } from '../../lib/units.js';
import { parseKeyValueFile, parseCpus, parseMountFlag, sizeFlag, validateEnv, type RunFlagsIo } from '../run-flags.js';
import { parsePublish, PortSpecError } from '../../api/ports.js';
import { splitShellWords } from '../../compose-spec/shellwords.js';
import type {
  Config,
  ConfigReference,
  HealthConfig,
  Mount,
  NetworkAttachmentConfig,
  PortConfig,
  Secret,
  SecretReference,
  ServiceMode,
  ServiceSpec,
  UpdateConfig,
} from '../../api/swarm.js';

/** Flags both create and update take, each setting one field. */
const COMMON: FlagSpec[] = [
  { name: 'detach', short: 'd', type: 'bool', description: 'Exit immediately instead of waiting for the service to converge' },
  { name: 'quiet', short: 'q', type: 'bool', description: 'Suppress progress output' },
  { name: 'replicas', type: 'string', description: 'Number of tasks' },
  { name: 'max-concurrent', type: 'string', description: 'Number of job tasks to run concurrently (default equal to --replicas)' },
  { name: 'replicas-max-per-node', type: 'string', description: 'Maximum number of tasks per node (default 0 = unlimited)' },
  { name: 'endpoint-mode', type: 'string', description: 'Endpoint mode (vip or dnsrr) (default "vip")' },
  { name: 'rebalance', type: 'bool', description: 'Move tasks onto nodes that join or come back, one at a time, start-first (default true; --rebalance=false opts out)' },
  { name: 'reserve-cpu', type: 'string', description: 'Reserve CPUs' },
  { name: 'reserve-memory', type: 'string', description: 'Reserve Memory' },
  { name: 'limit-cpu', type: 'string', description: 'Limit CPUs' },
  { name: 'limit-memory', type: 'string', description: 'Limit Memory' },
  { name: 'limit-pids', type: 'string', description: 'Limit maximum number of processes (default 0 = unlimited)' },
  { name: 'health-cmd', type: 'string', description: 'Command to run to check health' },
  { name: 'health-interval', type: 'string', description: 'Time between running the check (ms|s|m|h)' },
  { name: 'health-timeout', type: 'string', description: 'Maximum time to allow one check to run (ms|s|m|h)' },
  { name: 'health-retries', type: 'string', description: 'Consecutive failures needed to report unhealthy' },
  {
    name: 'health-start-period',
    type: 'string',
    description: 'Start period for the container to initialize before counting retries towards unstable (ms|s|m|h)',
  },
  { name: 'no-healthcheck', type: 'bool', description: 'Disable any container-specified HEALTHCHECK' },
  { name: 'restart-condition', type: 'string', description: 'Restart when condition is met ("none", "on-failure", "any") (default "any")' },
  { name: 'restart-delay', type: 'string', description: 'Delay between restart attempts (ns|us|ms|s|m|h) (default 5s)' },
  { name: 'restart-max-attempts', type: 'string', description: 'Maximum number of restarts before giving up' },
  { name: 'restart-window', type: 'string', description: 'Window used to evaluate the restart policy (ns|us|ms|s|m|h)' },
  { name: 'update-parallelism', type: 'string', description: 'Maximum number of tasks updated simultaneously (0 to update all at once) (default 1)' },
  { name: 'update-delay', type: 'string', description: 'Delay between updates (ns|us|ms|s|m|h) (default 0s)' },
  { name: 'update-failure-action', type: 'string', description: 'Action on update failure ("pause", "continue", "rollback") (default "pause")' },
  { name: 'update-monitor', type: 'string', description: 'Duration after each task update to monitor for failure (ns|us|ms|s|m|h) (default 5s)' },
  { name: 'update-max-failure-ratio', type: 'string', description: 'Failure rate to tolerate during an update' },
  { name: 'update-order', type: 'string', description: 'Update order ("start-first", "stop-first") (default "stop-first")' },
  { name: 'rollback-parallelism', type: 'string', description: 'Maximum number of tasks rolled back simultaneously (0 to roll back all at once) (default 1)' },
  { name: 'rollback-delay', type: 'string', description: 'Delay between task rollbacks (ns|us|ms|s|m|h) (default 0s)' },
  { name: 'rollback-failure-action', type: 'string', description: 'Action on rollback failure ("pause", "continue") (default "pause")' },
  { name: 'rollback-monitor', type: 'string', description: 'Duration after each task rollback to monitor for failure (ns|us|ms|s|m|h) (default 5s)' },
  { name: 'rollback-max-failure-ratio', type: 'string', description: 'Failure rate to tolerate during a rollback' },
  { name: 'rollback-order', type: 'string', description: 'Rollback order ("start-first", "stop-first") (default "stop-first")' },
  { name: 'stop-grace-period', type: 'string', description: 'Time to wait before force killing a container (ns|us|ms|s|m|h) (default 10s)' },
  { name: 'stop-signal', type: 'string', description: 'Signal to stop the container' },
  { name: 'user', short: 'u', type: 'string', description: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { name: 'workdir', short: 'w', type: 'string', description: 'Working directory inside the container' },
  { name: 'hostname', type: 'string', description: 'Container hostname' },
  { name: 'entrypoint', type: 'string', description: 'Overwrite the default ENTRYPOINT of the image' },
  { name: 'init', type: 'bool', description: 'Use an init inside each service container to forward signals and reap processes' },
  { name: 'with-registry-auth', type: 'bool', description: 'Send registry authentication details to swarm agents' },
];

/** The orchestrator reads the opt-out from this service label (Docker's API has no field for it). */
export const REBALANCE_LABEL = 'com.tsswarm.rebalance';

function applyEndpointMode(spec: ServiceSpec, p: Parsed): void {
  const m = p.flags['endpoint-mode'];
  if (typeof m !== 'string') return;
  if (m !== 'vip' && m !== 'dnsrr') throw new FlagError(`invalid argument "${m}" for "--endpoint-mode" flag: want vip or dnsrr`);
  spec.EndpointSpec = { ...(spec.EndpointSpec ?? {}), Mode: m };
}

function applyRebalance(spec: ServiceSpec, p: Parsed): void {
  const v = boolOpt(p, 'rebalance');
  if (v === undefined) return;
  spec.Labels = { ...(spec.Labels ?? {}), [REBALANCE_LABEL]: String(v) };
}

export const CREATE_FLAGS: FlagSpec[] = [
  { name: 'name', type: 'string', description: 'Service name' },
  { name: 'mode', type: 'string', description: 'Service mode ("replicated", "global", "replicated-job", "global-job") (default "replicated")' },
  { name: 'env', short: 'e', type: 'list', description: 'Set environment variables' },
  { name: 'env-file', type: 'list', description: 'Read in a file of environment variables' },
  { name: 'label', short: 'l', type: 'list', description: 'Service labels' },
  { name: 'container-label', type: 'list', description: 'Container labels' },
  { name: 'constraint', type: 'list', description: 'Placement constraints' },
  { name: 'placement-pref', type: 'list', description: 'Add a placement preference' },
  { name: 'mount', type: 'list', description: 'Attach a filesystem mount to the service' },
  { name: 'network', type: 'list', description: 'Network attachments' },
  { name: 'publish', short: 'p', type: 'list', description: 'Publish a port as a node port' },
  { name: 'secret', type: 'list', description: 'Specify secrets to expose to the service' },
  { name: 'config', type: 'list', description: 'Specify configurations to expose to the service' },
  ...COMMON,
];

export const UPDATE_FLAGS: FlagSpec[] = [
  { name: 'image', type: 'string', description: 'Service image tag' },
  { name: 'args', type: 'string', description: 'Service command args' },
  { name: 'force', type: 'bool', description: 'Force update even if no changes require it' },
  { name: 'rollback', type: 'bool', description: 'Rollback to previous specification' },
  ...addRm('env', 'environment variables'),
  ...addRm('label', 'service labels'),
  ...addRm('container-label', 'container labels'),
  ...addRm('constraint', 'placement constraints'),
  ...addRm('placement-pref', 'placement preferences'),
  ...addRm('mount', 'mounts (remove by target)'),
  ...addRm('network', 'network attachments'),
  ...addRm('publish', 'published ports (remove by <TargetPort>[/Protocol])'),
  ...addRm('secret', 'secrets'),
  ...addRm('config', 'configurations'),
  ...COMMON,
];

function addRm(name: string, what: string): FlagSpec[] {
  return [
    { name: `${name}-add`, type: 'list', description: `Add or update ${what}` },
    { name: `${name}-rm`, type: 'list', description: `Remove ${what}` },
  ];
}

/** The secrets and configs the daemon knows, to turn names into IDs. */
export interface References {
  secrets: Secret[];
  configs: Config[];
}

const NO_REFS: References = { secrets: [], configs: [] };

/** Docker's defaults for a new service (swarmkit's, which the Docker CLI sends explicitly). */
export const DEFAULTS = {
  restartDelay: 5e9,
  monitor: 5e9,
  parallelism: 1,
  failureAction: 'pause',
  order: 'stop-first',
} as const;

// ---- small readers ------------------------------------------------------------------------------

const bad = (value: string, flag: string, why: string): FlagError => new FlagError(`invalid argument "${value}" for "${flag}" flag: ${why}`);

const given = (p: Parsed, k: string): boolean => p.flags[k] !== undefined && !(Array.isArray(p.flags[k]) && (p.flags[k] as string[]).length === 0);
const str = (p: Parsed, k: string): string | undefined => (typeof p.flags[k] === 'string' ? (p.flags[k] as string) : undefined);
const list = (p: Parsed, k: string): string[] => (Array.isArray(p.flags[k]) ? (p.flags[k] as string[]) : []);
/** A bool flag's value when given (`--init=false` included), else undefined. */
const boolOpt = (p: Parsed, k: string): boolean | undefined => (typeof p.flags[k] === 'boolean' ? (p.flags[k] as boolean) : undefined);

function uint(p: Parsed, k: string): number | undefined {
  const v = str(p, k);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw bad(v, `--${k}`, 'expected a non-negative integer');
  return Number(v);
}

function duration(p: Parsed, k: string): number | undefined {
  const v = str(p, k);
  if (v === undefined) return undefined;
  let ns: number;
  try {
    ns = parseDuration(v);
  } catch {
    throw bad(v, `--${k}`, 'expected a duration such as 30s, 1m30s or 500ms (units ns, us, ms, s, m, h)');
  }
  if (ns < 0) throw bad(v, `--${k}`, 'a duration cannot be negative');
  return ns;
}

function ratio(p: Parsed, k: string): number | undefined {
  const v = str(p, k);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw bad(v, `--${k}`, 'expected a number between 0 and 1, e.g. 0.2');
  return n;
}

function oneOf<T extends string>(p: Parsed, k: string, allowed: readonly T[]): T | undefined {
  const v = str(p, k);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v))
    throw bad(
      v,
      `--${k}`,
      `expected ${allowed
        .slice(0, -1)
        .map((a) => `"${a}"`)
        .join(', ')} or "${allowed[allowed.length - 1]}"`,
    );
  return v as T;
}

/** `--limit-cpu 1.5` → 1.5e9; run-flags' parser names its own flag, so the message is re-pointed. */
function nanoCpus(p: Parsed, k: string): number | undefined {
  const v = str(p, k);
  if (v === undefined) return undefined;
  try {
    return parseCpus(v);
  } catch (e) {
    if (e instanceof FlagError) throw new FlagError(e.message.replace('"--cpus" flag', `"--${k}" flag`));
    throw e;
  }
}

function bytes(p: Parsed, k: string): number | undefined {
  const v = str(p, k);
  return v === undefined ? undefined : sizeFlag(v, `--${k}`);
}

function words(p: Parsed, k: string): string[] | undefined {
  const v = str(p, k);
  if (v === undefined) return undefined;
  try {
    return splitShellWords(v);
  } catch (e) {
    throw bad(v, `--${k}`, (e as Error).message);
  }
}

const splitOnce = (s: string, sep: string): [string, string | undefined] => {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + sep.length)];
};

/** Docker's csv option syntax (`a=1,b=2`), with double-quoted fields allowed. */
function csvFields(v: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of v) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.filter((f) => f !== '');
}

// ---- flag families --------------------------------------------------------------------------------

export function parseLabels(items: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of items) {
    const [k, v] = splitOnce(l, '=');
    if (k === '') throw bad(l, flag, 'empty label name (expected KEY=VALUE or KEY)');
    out[k] = v ?? '';
  }
  return out;
}

function envList(p: Parsed, io: RunFlagsIo, flag: 'env' | 'env-add'): string[] {
  const out: string[] = [];
  if (flag === 'env') {
    for (const f of list(p, 'env-file')) {
      let text: string;
      try {
        text = io.readFile(f);
      } catch (e) {
        throw bad(f, '--env-file', `cannot read the file: ${(e as Error).message}`);
      }
      out.push(...parseKeyValueFile(text, f, 'env', io.lookupEnv));
    }
  }
  for (const e of list(p, flag)) {
    const v = validateEnv(e, io);
    if (v !== undefined) out.push(v);
  }
  return out;
}

/** `-p 8080:80[/udp]` or `-p published=8080,target=80,mode=host,protocol=udp`. */
export function parsePortFlag(v: string, flag = '-p, --publish'): PortConfig[] {
  if (/^[a-z]+=/.test(v)) {
    const pc: Partial<PortConfig> = { Protocol: 'tcp', PublishMode: 'ingress' };
    for (const field of csvFields(v)) {
      const [key, val] = splitOnce(field, '=');
      if (val === undefined) throw bad(v, flag, `invalid field '${field}' must be a key=value pair`);
      const port = (): number => {
        if (!/^\d+$/.test(val) || Number(val) > 65535) throw bad(v, flag, `invalid ${key} port '${val}' (expected 0-65535)`);
        return Number(val);
      };
      switch (key.toLowerCase()) {
        case 'name':
          pc.Name = val;
          break;
        case 'protocol':
          if (val !== 'tcp' && val !== 'udp' && val !== 'sctp') throw bad(v, flag, `invalid protocol value '${val}' (expected tcp, udp or sctp)`);
          pc.Protocol = val;
          break;
        case 'target':
          pc.TargetPort = port();
          break;
        case 'published':
          pc.PublishedPort = port();
          break;
        case 'mode':
          if (val !== 'ingress' && val !== 'host') throw bad(v, flag, `invalid publish mode value '${val}' (expected ingress or host)`);
          pc.PublishMode = val;
          break;
        default:
          throw bad(v, flag, `invalid field key '${key}' (expected published, target, mode, protocol or name)`);
      }
    }
    if (!pc.TargetPort) throw bad(v, flag, 'missing mandatory field "target"');
    return [pc as PortConfig];
  }
  let reqs: ReturnType<typeof parsePublish>;
  try {
    reqs = parsePublish(v);
  } catch (e) {
    if (e instanceof PortSpecError) throw bad(v, flag, e.message.replace(/^invalid -p value "[^"]*": /, ''));
    throw e;
  }
  return reqs.map((r) => {
    if (r.hostIp !== '0.0.0.0') throw bad(v, flag, `a service publishes on every address of every node: drop the host IP ${r.hostIp}`);
    if (r.hostPortMin !== r.hostPortMax) throw bad(v, flag, 'a published port range needs as many ports as the target range (e.g. 8000-8001:80-81)');
    const pc: PortConfig = { Protocol: r.proto, TargetPort: r.containerPort, PublishMode: 'ingress' };
    if (r.hostPortMin !== 0) pc.PublishedPort = r.hostPortMin;
    return pc;
  });
}

interface FileRefRequest {
  source: string;
  target: string;
  uid: string;
  gid: string;
  mode: number;
}

/** `--secret NAME` or `--secret source=NAME,target=PATH,uid=0,gid=0,mode=0444` (and --config alike). */
export function parseFileRef(v: string, flag: string): FileRefRequest {
  const r: FileRefRequest = { source: '', target: '', uid: '0', gid: '0', mode: 0o444 };
  if (!v.includes('=')) {
    r.source = v;
  } else {
    for (const field of csvFields(v)) {
      const [key, val] = splitOnce(field, '=');
      if (val === undefined) throw bad(v, flag, `invalid field '${field}' must be a key=value pair`);
      switch (key.toLowerCase()) {
        case 'source':
        case 'src':
          r.source = val;
          break;
        case 'target':
          r.target = val;
          break;
        case 'uid':
          r.uid = val;
          break;
        case 'gid':
          r.gid = val;
          break;
        case 'mode':
          if (!/^[0-7]{1,4}$/.test(val)) throw bad(v, flag, `invalid mode '${val}' (expected octal, e.g. 0444)`);
          r.mode = parseInt(val, 8);
          break;
        default:
          throw bad(v, flag, `invalid field key '${key}' (expected source, target, uid, gid or mode)`);
      }
    }
  }
  if (r.source === '') throw bad(v, flag, 'source is required');
  if (r.target === '') r.target = r.source;
  return r;
}

function resolveSecrets(items: string[], flag: string, known: Secret[]): SecretReference[] {
  const out: SecretReference[] = [];
  const targets = new Set<string>();
  for (const item of items) {
    const r = parseFileRef(item, flag);
    const s = known.find((x) => x.Spec.Name === r.source) ?? known.find((x) => x.ID === r.source);
    if (!s) throw new FlagError(`secret not found: ${r.source} (create it with: tsswarm secret create ${r.source} FILE)`);
    if (targets.has(r.target)) throw new FlagError(`duplicate secret target for ${r.source} not allowed`);
    targets.add(r.target);
    out.push({ SecretID: s.ID, SecretName: s.Spec.Name, File: { Name: r.target, UID: r.uid, GID: r.gid, Mode: r.mode } });
  }
  return out;
}

function resolveConfigs(items: string[], flag: string, known: Config[]): ConfigReference[] {
  const out: ConfigReference[] = [];
  const targets = new Set<string>();
  for (const item of items) {
    const r = parseFileRef(item, flag);
    const c = known.find((x) => x.Spec.Name === r.source) ?? known.find((x) => x.ID === r.source);
    if (!c) throw new FlagError(`config not found: ${r.source} (create it with: tsswarm config create ${r.source} FILE)`);
    if (targets.has(r.target)) throw new FlagError(`duplicate config target for ${r.source} not allowed`);
    targets.add(r.target);
    out.push({ ConfigID: c.ID, ConfigName: c.Spec.Name, File: { Name: r.target, UID: r.uid, GID: r.gid, Mode: r.mode } });
  }
  return out;
}

/** `--network NAME` or `--network name=NAME,alias=A,driver-opt=K=V`. */
export function parseNetworkFlag(v: string, flag: string): NetworkAttachmentConfig {
  if (!v.includes('=')) return { Target: v };
  const n: NetworkAttachmentConfig = { Target: '' };
  for (const field of csvFields(v)) {
    const [key, val] = splitOnce(field, '=');
    if (val === undefined) throw bad(v, flag, `invalid field '${field}' must be a key=value pair`);
    switch (key.toLowerCase()) {
      case 'name':
        n.Target = val;
        break;
      case 'alias':
        n.Aliases = [...(n.Aliases ?? []), val];
        break;
      case 'driver-opt': {
        const [ok, ov] = splitOnce(val, '=');
        if (ov === undefined) throw bad(v, flag, `invalid driver-opt '${val}' (expected driver-opt=KEY=VALUE)`);
        n.DriverOpts = { ...n.DriverOpts, [ok]: ov };
        break;
      }
      default:
        throw bad(v, flag, `invalid field key '${key}' (expected name, alias or driver-opt)`);
    }
  }
  if (n.Target === '') throw bad(v, flag, 'network name is required (name=NETWORK)');
  return n;
}

/** `--placement-pref spread=node.labels.zone`. */
export function parsePlacementPref(v: string, flag: string): { Spread: { SpreadDescriptor: string } } {
  const [strategy, arg] = splitOnce(v, '=');
  if (arg === undefined || arg === '') throw bad(v, flag, 'placement preference must be of the format "<strategy>=<arg>"');
  if (strategy !== 'spread') throw bad(v, flag, `invalid placement preference: only spread strategy is supported, not "${strategy}"`);
  return { Spread: { SpreadDescriptor: arg } };
}

const CONSTRAINT = /^\s*(node\.(id|hostname|role|platform\.os|platform\.arch|labels\.[^=!]+)|engine\.labels\.[^=!]+|node\.labels)\s*(==|!=)\s*\S.*$/;

function checkConstraint(v: string, flag: string): string {
  if (!CONSTRAINT.test(v))
    throw bad(
      v,
      flag,
      'expected ATTRIBUTE==VALUE or ATTRIBUTE!=VALUE, with node.id, node.hostname, node.role, node.platform.os, node.platform.arch, node.labels.KEY or engine.labels.KEY',
    );
  return v;
}

function mounts(items: string[], flag: string, cwd: string): Mount[] {
  return items.map((m) => {
    try {
      return parseMountFlag(m, cwd) as Mount;
    } catch (e) {
      if (e instanceof FlagError) throw new FlagError(e.message.replace('"--mount" flag', `"${flag}" flag`));
      throw e;
    }
  });
}

// ---- create -----------------------------------------------------------------------------------------

const MODES = ['replicated', 'global', 'replicated-job', 'global-job'] as const;

export function serviceMode(p: Parsed): ServiceMode {
  const mode = str(p, 'mode') ?? 'replicated';
  const replicas = uint(p, 'replicas');
  const maxConcurrent = uint(p, 'max-concurrent');
  if (!(MODES as readonly string[]).includes(mode)) throw bad(mode, '--mode', 'expected "replicated", "global", "replicated-job" or "global-job"');
  if ((mode === 'global' || mode === 'global-job') && replicas !== undefined)
    throw new FlagError('replicas can only be used with replicated or replicated-job mode');
  if (mode !== 'replicated-job' && maxConcurrent !== undefined) throw new FlagError('max-concurrent can only be used with replicated-job mode');
  switch (mode) {
    case 'global':
      return { Global: {} };
    case 'global-job':
      return { GlobalJob: {} };
    case 'replicated-job': {
      const total = replicas ?? 1;
      return { ReplicatedJob: { MaxConcurrent: maxConcurrent ?? total, TotalCompletions: total } };
    }
    default:
      return { Replicated: { Replicas: replicas ?? 1 } };
  }
}

const isJob = (m: ServiceMode | undefined): boolean => m?.ReplicatedJob !== undefined || m?.GlobalJob !== undefined;

/** `service create [OPTIONS] IMAGE [COMMAND] [ARG...]` → the spec to POST to /services/create. */
export function buildCreateSpec(p: Parsed, io: RunFlagsIo, refs: References = NO_REFS): ServiceSpec {
  const [image, ...args] = p.args;
  if (image === undefined || image === '') {
    throw new FlagError(
      `"tsswarm service create" requires at least 1 argument.\nSee 'tsswarm service create --help'.\n\nUsage:  tsswarm service create [OPTIONS] IMAGE [COMMAND] [ARG...]`,
    );
  }
  const mode = serviceMode(p);
  const spec: ServiceSpec = {
    Labels: parseLabels(list(p, 'label'), '-l, --label'),
    TaskTemplate: {
      ContainerSpec: { Image: image, Labels: parseLabels(list(p, 'container-label'), '--container-label') },
      Resources: {},
      RestartPolicy: { Condition: isJob(mode) ? 'on-failure' : 'any', Delay: DEFAULTS.restartDelay, MaxAttempts: 0 },
      Placement: {},
    },
    Mode: mode,
    UpdateConfig: {
      Parallelism: DEFAULTS.parallelism,
      FailureAction: DEFAULTS.failureAction,
      Monitor: DEFAULTS.monitor,
      MaxFailureRatio: 0,
      Order: DEFAULTS.order,
    },
    RollbackConfig: {
      Parallelism: DEFAULTS.parallelism,
      FailureAction: DEFAULTS.failureAction,
      Monitor: DEFAULTS.monitor,
      MaxFailureRatio: 0,
      Order: DEFAULTS.order,
    },
    EndpointSpec: { Mode: 'vip' },
  };
  const name = str(p, 'name');
  if (name !== undefined) spec.Name = name;
  const cs = spec.TaskTemplate.ContainerSpec;
  if (args.length) cs.Args = args;
  const env = envList(p, io, 'env');
  if (env.length) cs.Env = env;
  const mnts = mounts(list(p, 'mount'), '--mount', io.cwd);
  if (mnts.length) cs.Mounts = mnts;
  const secrets = resolveSecrets(list(p, 'secret'), '--secret', refs.secrets);
  if (secrets.length) cs.Secrets = secrets;
  const configs = resolveConfigs(list(p, 'config'), '--config', refs.configs);
  if (configs.length) cs.Configs = configs;
  const constraints = list(p, 'constraint').map((c) => checkConstraint(c, '--constraint'));
  if (constraints.length) spec.TaskTemplate.Placement!.Constraints = constraints;
  const prefs = list(p, 'placement-pref').map((v) => parsePlacementPref(v, '--placement-pref'));
  if (prefs.length) spec.TaskTemplate.Placement!.Preferences = prefs;
  const nets = list(p, 'network').map((n) => parseNetworkFlag(n, '--network'));
  if (nets.length) spec.TaskTemplate.Networks = nets;
  const ports = list(p, 'publish').flatMap((v) => parsePortFlag(v));
  if (ports.length) spec.EndpointSpec!.Ports = ports;
  applyCommon(spec, p);
  applyRebalance(spec, p);
  applyEndpointMode(spec, p);
  return spec;
}

/** The flags create and update share: each given one overwrites its field. */
function applyCommon(spec: ServiceSpec, p: Parsed): void {
  const tt = spec.TaskTemplate;
  const cs = tt.ContainerSpec;

  const maxPerNode = uint(p, 'replicas-max-per-node');
  if (maxPerNode !== undefined) tt.Placement = { ...tt.Placement, MaxReplicas: maxPerNode };

  const res = { Limits: { ...tt.Resources?.Limits }, Reservations: { ...tt.Resources?.Reservations } };
  const set = <T extends object>(o: T, k: keyof T, v: T[keyof T] | undefined): void => {
    if (v !== undefined) o[k] = v;
  };
  set(res.Limits, 'NanoCPUs', nanoCpus(p, 'limit-cpu'));
  set(res.Limits, 'MemoryBytes', bytes(p, 'limit-memory'));
  set(res.Limits, 'Pids', uint(p, 'limit-pids'));
  set(res.Reservations, 'NanoCPUs', nanoCpus(p, 'reserve-cpu'));
  set(res.Reservations, 'MemoryBytes', bytes(p, 'reserve-memory'));
  if (Object.keys(res.Limits).length || Object.keys(res.Reservations).length || tt.Resources) {
    tt.Resources = {
      ...tt.Resources,
      ...(Object.keys(res.Limits).length ? { Limits: res.Limits } : {}),
      ...(Object.keys(res.Reservations).length ? { Reservations: res.Reservations } : {}),
    };
  }

  const rp = { ...tt.RestartPolicy };
  set(rp, 'Condition', oneOf(p, 'restart-condition', ['none', 'on-failure', 'any'] as const));
  set(rp, 'Delay', duration(p, 'restart-delay'));
  set(rp, 'MaxAttempts', uint(p, 'restart-max-attempts'));
  set(rp, 'Window', duration(p, 'restart-window'));
  if (Object.keys(rp).length) tt.RestartPolicy = rp;

  for (const [prefix, field, actions] of [
    ['update', 'UpdateConfig', ['pause', 'continue', 'rollback']],
    ['rollback', 'RollbackConfig', ['pause', 'continue']],
  ] as const) {
    const uc: UpdateConfig = { ...spec[field] };
    set(uc, 'Parallelism', uint(p, `${prefix}-parallelism`));
    set(uc, 'Delay', duration(p, `${prefix}-delay`));
    set(uc, 'FailureAction', oneOf(p, `${prefix}-failure-action`, actions));
    set(uc, 'Monitor', duration(p, `${prefix}-monitor`));
    set(uc, 'MaxFailureRatio', ratio(p, `${prefix}-max-failure-ratio`));
    set(uc, 'Order', oneOf(p, `${prefix}-order`, ['start-first', 'stop-first'] as const));
    if (Object.keys(uc).length) spec[field] = uc;
  }

  const hc = healthcheck(p, cs.HealthCheck ?? undefined);
  if (hc) cs.HealthCheck = hc;

  set(cs, 'StopGracePeriod', duration(p, 'stop-grace-period'));
  set(cs, 'StopSignal', str(p, 'stop-signal'));
  set(cs, 'User', str(p, 'user'));
  set(cs, 'Dir', str(p, 'workdir'));
  set(cs, 'Hostname', str(p, 'hostname'));
  set(cs, 'Init', boolOpt(p, 'init'));
  const ep = words(p, 'entrypoint');
  if (ep !== undefined) cs.Command = ep;
}

const HEALTH_FLAGS = ['health-cmd', 'health-interval', 'health-timeout', 'health-retries', 'health-start-period'];

function healthcheck(p: Parsed, current: HealthConfig | undefined): HealthConfig | undefined {
  const any = HEALTH_FLAGS.some((f) => given(p, f));
  if (boolOpt(p, 'no-healthcheck')) {
    if (any) throw new FlagError('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!any) return undefined;
  // A healthcheck that was switched off starts afresh rather than keeping ["NONE"].
  const hc: HealthConfig = current && current.Test?.[0] !== 'NONE' ? { ...current } : {};
  const cmd = str(p, 'health-cmd');
  if (cmd !== undefined) hc.Test = cmd === '' ? [] : ['CMD-SHELL', cmd];
  const iv = duration(p, 'health-interval');
  if (iv !== undefined) hc.Interval = iv;
  const to = duration(p, 'health-timeout');
  if (to !== undefined) hc.Timeout = to;
  const sp = duration(p, 'health-start-period');
  if (sp !== undefined) hc.StartPeriod = sp;
  const r = uint(p, 'health-retries');
  if (r !== undefined) hc.Retries = r;
  return hc;
}

// ---- update -----------------------------------------------------------------------------------------

const ALWAYS_ALLOWED_WITH_ROLLBACK = new Set(['rollback', 'detach', 'quiet', 'help']);

/** --rollback asks the daemon for the previous spec: no other change may come with it. */
export function checkRollbackFlags(p: Parsed): void {
  if (!boolOpt(p, 'rollback')) return;
  const others = Object.keys(p.flags).filter((k) => !ALWAYS_ALLOWED_WITH_ROLLBACK.has(k) && given(p, k));
  if (others.length) throw new FlagError(`other flags may not be combined with --rollback (remove --${others.join(', --')})`);
}

/**
 * `service update` flags applied to `current` (which is not changed). With --rollback the spec is
 * returned as is: the daemon restores PreviousSpec when asked with rollback=previous.
 */
export function applyUpdate(current: ServiceSpec, p: Parsed, io: RunFlagsIo, refs: References = NO_REFS): ServiceSpec {
  if (boolOpt(p, 'rollback')) {
    checkRollbackFlags(p);
    return structuredClone(current);
  }
  const spec = structuredClone(current);
  const tt = spec.TaskTemplate;
  const cs = tt.ContainerSpec;

  const image = str(p, 'image');
  if (image !== undefined) {
    if (image === '') throw bad(image, '--image', 'an image name is required');
    cs.Image = image;
  }
  const args = words(p, 'args');
  if (args !== undefined) cs.Args = args;

  const replicas = uint(p, 'replicas');
  if (replicas !== undefined) {
    if (spec.Mode?.Replicated) spec.Mode = { Replicated: { Replicas: replicas } };
    else if (spec.Mode?.ReplicatedJob) spec.Mode = { ReplicatedJob: { ...spec.Mode.ReplicatedJob, TotalCompletions: replicas } };
    else throw new FlagError('replicas can only be used with replicated or replicated-job mode');
  }
  const maxConcurrent = uint(p, 'max-concurrent');
  if (maxConcurrent !== undefined) {
    if (!spec.Mode?.ReplicatedJob) throw new FlagError('max-concurrent can only be used with replicated-job mode');
    spec.Mode = { ReplicatedJob: { ...spec.Mode.ReplicatedJob, MaxConcurrent: maxConcurrent } };
  }

  // env: remove by key, then add (replacing a variable of the same name where it stands).
  const envKey = (e: string): string => splitOnce(e, '=')[0];
  const envRm = new Set(list(p, 'env-rm').map(envKey));
  let env = (cs.Env ?? []).filter((e) => !envRm.has(envKey(e)));
  for (const e of envList(p, io, 'env-add')) {
    const i = env.findIndex((x) => envKey(x) === envKey(e));
    if (i >= 0) env[i] = e;
    else env = [...env, e];
  }
  if (given(p, 'env-rm') || given(p, 'env-add')) cs.Env = env;

  if (given(p, 'label-add') || given(p, 'label-rm')) spec.Labels = labelDiff(spec.Labels ?? {}, p, 'label');
  applyRebalance(spec, p);
  applyEndpointMode(spec, p);
  if (given(p, 'container-label-add') || given(p, 'container-label-rm')) cs.Labels = labelDiff(cs.Labels ?? {}, p, 'container-label');

  if (given(p, 'constraint-add') || given(p, 'constraint-rm')) {
    const rm = new Set(list(p, 'constraint-rm').map((c) => c.replace(/\s+/g, '')));
    const kept = (tt.Placement?.Constraints ?? []).filter((c) => !rm.has(c.replace(/\s+/g, '')));
    for (const c of list(p, 'constraint-add').map((x) => checkConstraint(x, '--constraint-add'))) if (!kept.includes(c)) kept.push(c);
    tt.Placement = { ...tt.Placement, Constraints: kept };
  }
  if (given(p, 'placement-pref-add') || given(p, 'placement-pref-rm')) {
    const rm = new Set(list(p, 'placement-pref-rm').map((v) => parsePlacementPref(v, '--placement-pref-rm').Spread.SpreadDescriptor));
    const kept = (tt.Placement?.Preferences ?? []).filter((x) => !rm.has(x.Spread.SpreadDescriptor));
    kept.push(...list(p, 'placement-pref-add').map((v) => parsePlacementPref(v, '--placement-pref-add')));
    tt.Placement = { ...tt.Placement, Preferences: kept };
  }

  if (given(p, 'mount-add') || given(p, 'mount-rm')) {
    const added = mounts(list(p, 'mount-add'), '--mount-add', io.cwd);
    const gone = new Set([...list(p, 'mount-rm'), ...added.map((m) => m.Target)]);
    cs.Mounts = [...(cs.Mounts ?? []).filter((m) => !gone.has(m.Target)), ...added].sort((a, b) => a.Target.localeCompare(b.Target));
  }

  if (given(p, 'network-add') || given(p, 'network-rm')) {
    const rm = new Set(list(p, 'network-rm'));
    const nets = (tt.Networks ?? spec.Networks ?? []).filter((n) => !rm.has(n.Target));
    for (const n of list(p, 'network-add').map((v) => parseNetworkFlag(v, '--network-add'))) {
      if (nets.some((x) => x.Target === n.Target)) throw new FlagError(`service is already attached to network ${n.Target}`);
      nets.push(n);
    }
    tt.Networks = nets;
    delete spec.Networks;
  }

  if (given(p, 'publish-add') || given(p, 'publish-rm'))
    spec.EndpointSpec = { Mode: spec.EndpointSpec?.Mode ?? 'vip', ...spec.EndpointSpec, Ports: portDiff(spec.EndpointSpec?.Ports ?? [], p) };

  if (given(p, 'secret-add') || given(p, 'secret-rm')) {
    const rm = new Set(list(p, 'secret-rm'));
    const added = resolveSecrets(list(p, 'secret-add'), '--secret-add', refs.secrets);
    const kept = (cs.Secrets ?? []).filter((s) => !rm.has(s.SecretName) && !rm.has(s.SecretID) && !added.some((a) => a.File.Name === s.File.Name));
    cs.Secrets = [...kept, ...added];
  }
  if (given(p, 'config-add') || given(p, 'config-rm')) {
    const rm = new Set(list(p, 'config-rm'));
    const added = resolveConfigs(list(p, 'config-add'), '--config-add', refs.configs);
    const kept = (cs.Configs ?? []).filter((c) => !rm.has(c.ConfigName) && !rm.has(c.ConfigID) && !added.some((a) => a.File?.Name === c.File?.Name));
    cs.Configs = [...kept, ...added];
  }

  applyCommon(spec, p);
  if (boolOpt(p, 'force')) tt.ForceUpdate = (tt.ForceUpdate ?? 0) + 1;
  return spec;
}

function labelDiff(current: Record<string, string>, p: Parsed, name: string): Record<string, string> {
  const out = { ...current };
  for (const k of list(p, `${name}-rm`)) delete out[splitOnce(k, '=')[0]];
  return { ...out, ...parseLabels(list(p, `${name}-add`), `--${name}-add`) };
}

/**
 * `--publish-rm 80`, `80/udp` or a whole spec removes ports by target port (and protocol);
 * `--publish-add` replaces a port of the same published port and protocol.
 */
function portDiff(current: PortConfig[], p: Parsed): PortConfig[] {
  const rm = list(p, 'publish-rm').map((v) => {
    const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(v);
    if (m) return { target: Number(m[1]), proto: m[2] };
    const [pc] = parsePortFlag(v, '--publish-rm');
    return { target: pc!.TargetPort, proto: pc!.Protocol };
  });
  const added = list(p, 'publish-add').flatMap((v) => parsePortFlag(v, '--publish-add'));
  const kept = current.filter((c) => !rm.some((r) => r.target === c.TargetPort && (r.proto === undefined || r.proto === c.Protocol)));
  const out = kept.filter((c) => !added.some((a) => a.Protocol === c.Protocol && (a.PublishedPort ?? 0) !== 0 && a.PublishedPort === c.PublishedPort));
  for (const a of added) {
    if (!out.some((c) => c.TargetPort === a.TargetPort && c.Protocol === a.Protocol && c.PublishedPort === a.PublishedPort && c.PublishMode === a.PublishMode))
      out.push(a);
  }
  return out;
}

/** Which flags name secrets or configs by name (so the command knows to list them). */
export function referencedKinds(p: Parsed): { secrets: boolean; configs: boolean } {
  return {
    secrets: list(p, 'secret').length > 0 || list(p, 'secret-add').length > 0,
    configs: list(p, 'config').length > 0 || list(p, 'config-add').length > 0,
  };
}

/** The networks `--network-add` names (to resolve to IDs; the ones the service had are IDs already). */
export function addedNetworks(p: Parsed): Set<string> {
  return new Set(list(p, 'network-add').map((v) => parseNetworkFlag(v, '--network-add').Target));
}

/** `service scale SERVICE=REPLICAS`, with Docker's texts for what is not. */
export function parseScaleArg(a: string): { name: string; replicas: number } {
  const eq = a.indexOf('=');
  if (eq <= 0)
    throw new FlagError(
      `invalid scale specifier '${a}'.\nSee 'tsswarm service scale --help'.\n\nUsage:  tsswarm service scale SERVICE=REPLICAS [SERVICE=REPLICAS...]`,
    );
  const v = a.slice(eq + 1);
  if (!/^\d+$/.test(v)) throw new FlagError(`invalid replicas value ${v}: expected a non-negative integer (e.g. ${a.slice(0, eq)}=3)`);
  return { name: a.slice(0, eq), replicas: Number(v) };
}
