// Merged file → normalised Project: short forms expanded, defaults filled in (the implicit `default`
// network, secret targets, scale), profiles applied, references checked (services, networks, volumes,
// secrets, configs), dependency cycles rejected. Pure: env files are read through ctx.readFile.
import type { PathSegment } from './errors.js';
import type {
  Build,
  Config,
  Dependency,
  DependencyCondition,
  Deploy,
  Device,
  FileReference,
  Healthcheck,
  Mount,
  Network,
  Port,
  Project,
  Resources,
  Secret,
  Service,
  ServiceNetwork,
  UpdateConfig,
  Volume,
} from './model.js';
import {
  toBool,
  toBytes,
  toDuration,
  toInt,
  toMapping,
  toNumber,
  toOctalMode,
  toStringList,
  toStringMapping,
  ValueError,
} from './convert.js';
import { parseDotEnv, DotEnvError } from './env.js';
import { parsePort, portKey, checkExpose, PortError } from './ports.js';
import { parseMount, MountError } from './mounts.js';
import { splitShellWords, ShellWordsError } from './shellwords.js';
import { dependencyLevels, DependencyCycleError } from './depends.js';
import { selectServices } from './profiles.js';
import { isUnsupportedServiceKey, unsupportedMessage, UNSUPPORTED_TOP_LEVEL_KEYS } from './support.js';
import { resourceName } from './names.js';
import { formatPath } from './errors.js';
import { isRecord, setOwn, type Dict } from './util.js';
import type { Lookup } from './interpolate.js';

export interface NormaliseContext {
  projectName: string;
  projectDir: string;
  composeFiles: string[];
  /** Project environment (OS over .env): resolves `environment: [FOO]` and build args without value. */
  lookup: Lookup;
  /** Reads an env_file/label_file; undefined when it does not exist. */
  readFile: (absPath: string) => string | undefined;
  profiles: string[];
  /** Services named on the command line: enabled with their dependencies, the others dropped. */
  targets?: string[];
}

export interface ModelProblem {
  path: PathSegment[];
  message: string;
}

export class ModelError extends Error {
  constructor(readonly problems: ModelProblem[]) {
    super(problems.map((p) => `${formatPath(p.path)}: ${p.message}`).join('\n'));
    this.name = 'ModelError';
  }
}

export interface NormaliseResult {
  project: Project;
  warnings: string[];
}

const KNOWN_ERRORS = [ValueError, PortError, MountError, ShellWordsError, DotEnvError];

class Collector {
  readonly problems: ModelProblem[] = [];
  readonly warnings: string[] = [];
  /** Runs fn; a conversion error becomes a problem at path instead of aborting the whole model. */
  at<T>(path: PathSegment[], fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      if (KNOWN_ERRORS.some((k) => e instanceof k)) {
        this.problems.push({ path, message: (e as Error).message });
        return undefined;
      }
      throw e;
    }
  }
  fail(path: PathSegment[], message: string): void {
    this.problems.push({ path, message });
  }
}

function dict(v: unknown): Dict {
  return isRecord(v) ? v : {};
}

function str(v: unknown): string | undefined {
  return v === undefined || v === null ? undefined : String(v);
}

/** Drops undefined fields, so the printed model shows only what is set. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

function extensionsOf(v: Dict): Record<string, unknown> | undefined {
  const ext = Object.entries(v).filter(([k]) => k.startsWith('x-'));
  return ext.length > 0 ? Object.fromEntries(ext) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Service references (for profiles and dependency checks)

interface ServiceRefs {
  dependsOn: Record<string, Dependency>;
  links: string[];
  volumesFrom: string[];
  networkModeService?: string;
}

function dependsOnOf(raw: unknown, c: Collector, path: PathSegment[]): Record<string, Dependency> {
  const out: Record<string, Dependency> = {};
  if (Array.isArray(raw)) {
    for (const n of raw) setOwn(out, String(n), { condition: 'service_started', required: true, restart: false });
  } else if (isRecord(raw)) {
    for (const [n, d] of Object.entries(raw)) {
      const dd = dict(d);
      setOwn(out, n, {
        condition: (str(dd.condition) ?? 'service_started') as DependencyCondition,
        required: dd.required === undefined ? true : (c.at([...path, n, 'required'], () => toBool(dd.required)) ?? true),
        restart: dd.restart === undefined ? false : (c.at([...path, n, 'restart'], () => toBool(dd.restart)) ?? false),
      });
    }
  }
  return out;
}

function refsOf(svc: Dict, c: Collector, path: PathSegment[]): ServiceRefs {
  const links = toStringList(svc.links).map((l) => l.split(':')[0]!);
  const volumesFrom = toStringList(svc.volumes_from)
    .filter((v) => !v.startsWith('container:'))
    .map((v) => (v.startsWith('service:') ? v.slice(8) : v).split(':')[0]!);
  const nm = str(svc.network_mode);
  return {
    dependsOn: dependsOnOf(svc.depends_on, c, [...path, 'depends_on']),
    links,
    volumesFrom,
    networkModeService: nm?.startsWith('service:') ? nm.slice(8) : undefined,
  };
}

/** depends_on plus the implicit dependencies docker compose adds (links, volumes_from, network_mode). */
function allDependencies(refs: ServiceRefs): Record<string, Dependency> {
  const out: Record<string, Dependency> = { ...refs.dependsOn };
  const implicit = [...refs.links, ...refs.volumesFrom, ...(refs.networkModeService ? [refs.networkModeService] : [])];
  for (const n of implicit) if (!Object.hasOwn(out, n)) setOwn(out, n, { condition: 'service_started', required: true, restart: false });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Service fields

function command(v: unknown, c: Collector, path: PathSegment[]): string[] | null | undefined {
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (Array.isArray(v)) return v.map(String);
  return c.at(path, () => splitShellWords(String(v)));
}

function envFiles(v: unknown): Array<{ path: string; required: unknown; format?: string }> {
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((e) => (typeof e === 'string' ? { path: e, required: true } : { path: String(dict(e).path), required: dict(e).required ?? true, format: str(dict(e).format) }));
}

function readKeyValueFiles(
  v: unknown,
  ctx: NormaliseContext,
  c: Collector,
  path: PathSegment[],
  lookup: Lookup | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  envFiles(v).forEach((f, i) => {
    const p = Array.isArray(v) ? [...path, i] : path;
    const required = c.at([...p, 'required'], () => toBool(f.required)) ?? true;
    if (f.format !== undefined && f.format !== 'raw') {
      c.fail([...p, 'format'], `unknown env file format '${f.format}' (only 'raw' is known)`);
      return;
    }
    const text = ctx.readFile(f.path);
    if (text === undefined) {
      if (required) c.fail(p, `env file ${f.path} not found`);
      return;
    }
    try {
      Object.assign(out, parseDotEnv(text, { lookup, format: f.format === 'raw' ? 'raw' : undefined }));
    } catch (e) {
      if (e instanceof DotEnvError) c.fail(p, `${f.path}:${e.line}: ${e.message}`);
      else throw e;
    }
  });
  return out;
}

function environment(svc: Dict, ctx: NormaliseContext, c: Collector, path: PathSegment[]): Record<string, string | null> {
  const out: Record<string, string | null> = { ...readKeyValueFiles(svc.env_file, ctx, c, [...path, 'env_file'], ctx.lookup) };
  for (const [k, v] of Object.entries(toMapping(svc.environment))) setOwn(out, k, v ?? ctx.lookup(k) ?? null);
  return out;
}

function ports(v: unknown, c: Collector, path: PathSegment[]): Port[] {
  // Entries that bind the same host address, port and protocol are one binding: the later wins.
  const byKey = new Map<string, Port>();
  (Array.isArray(v) ? v : []).forEach((p, i) => {
    for (const port of c.at([...path, i], () => parsePort(p)) ?? []) {
      byKey.delete(portKey(port));
      byKey.set(portKey(port), port);
    }
  });
  return [...byKey.values()];
}

function mounts(v: unknown, c: Collector, path: PathSegment[]): Mount[] {
  const byTarget = new Map<string, Mount>();
  (Array.isArray(v) ? v : []).forEach((m, i) => {
    const mount = c.at([...path, i], () => parseMount(m));
    if (mount) byTarget.set(mount.target, mount);
  });
  return [...byTarget.values()];
}

function fileRefs(v: unknown, kind: 'secrets' | 'configs', c: Collector, path: PathSegment[]): FileReference[] {
  const byTarget = new Map<string, FileReference>();
  (Array.isArray(v) ? v : []).forEach((r, i) => {
    const d: Dict = typeof r === 'string' ? { source: r } : dict(r);
    const source = str(d.source);
    if (source === undefined) {
      c.fail([...path, i], 'source is required');
      return;
    }
    let target = str(d.target) ?? source;
    if (!target.startsWith('/')) target = kind === 'secrets' ? `/run/secrets/${target}` : `/${target}`;
    const ref: FileReference = compact({
      source,
      target,
      uid: str(d.uid),
      gid: str(d.gid),
      mode: d.mode === undefined ? undefined : c.at([...path, i, 'mode'], () => toOctalMode(d.mode)),
    });
    byTarget.set(ref.target, ref);
  });
  return [...byTarget.values()];
}

function serviceNetworks(v: unknown, c: Collector, path: PathSegment[]): Record<string, ServiceNetwork> {
  const out: Record<string, ServiceNetwork> = {};
  if (Array.isArray(v)) {
    for (const n of v) setOwn(out, String(n), { aliases: [] });
    return out;
  }
  for (const [name, cfg] of Object.entries(dict(v))) {
    const d = dict(cfg);
    setOwn(
      out,
      name,
      compact({
        aliases: toStringList(d.aliases),
        ipv4_address: str(d.ipv4_address),
        ipv6_address: str(d.ipv6_address),
        link_local_ips: d.link_local_ips === undefined ? undefined : toStringList(d.link_local_ips),
        mac_address: str(d.mac_address),
        interface_name: str(d.interface_name),
        priority: d.priority === undefined ? undefined : c.at([...path, name, 'priority'], () => toNumber(d.priority)),
        gw_priority: d.gw_priority === undefined ? undefined : c.at([...path, name, 'gw_priority'], () => toNumber(d.gw_priority)),
        driver_opts: d.driver_opts === undefined ? undefined : toStringMapping(d.driver_opts),
      }),
    );
  }
  return out;
}

function healthcheck(v: unknown, c: Collector, path: PathSegment[]): Healthcheck | undefined {
  if (!isRecord(v)) return undefined;
  const h: Healthcheck = {};
  const disabled = v.disable === undefined ? false : (c.at([...path, 'disable'], () => toBool(v.disable)) ?? false);
  if (disabled) return { test: ['NONE'], disable: true };
  if (typeof v.test === 'string') h.test = ['CMD-SHELL', v.test];
  else if (Array.isArray(v.test) && v.test.length > 0) {
    const test = v.test.map(String);
    if (!['NONE', 'CMD', 'CMD-SHELL'].includes(test[0]!)) {
      c.fail([...path, 'test'], `must start with NONE, CMD or CMD-SHELL, got '${test[0]}'`);
    }
    h.test = test;
  }
  for (const k of ['interval', 'timeout', 'start_period', 'start_interval'] as const) {
    if (v[k] !== undefined) h[k] = c.at([...path, k], () => toDuration(v[k]));
  }
  if (v.retries !== undefined) h.retries = c.at([...path, 'retries'], () => toInt(v.retries));
  return compact(h);
}

function updateConfig(v: unknown, c: Collector, path: PathSegment[]): UpdateConfig | undefined {
  if (!isRecord(v)) return undefined;
  return compact({
    parallelism: v.parallelism === undefined ? undefined : c.at([...path, 'parallelism'], () => toInt(v.parallelism)),
    delay: v.delay === undefined ? undefined : c.at([...path, 'delay'], () => toDuration(v.delay)),
    failure_action: str(v.failure_action),
    monitor: v.monitor === undefined ? undefined : c.at([...path, 'monitor'], () => toDuration(v.monitor)),
    max_failure_ratio: v.max_failure_ratio === undefined ? undefined : c.at([...path, 'max_failure_ratio'], () => toNumber(v.max_failure_ratio)),
    order: v.order as UpdateConfig['order'],
  });
}

function resources(v: unknown, c: Collector, path: PathSegment[]): Resources | undefined {
  if (!isRecord(v)) return undefined;
  return compact({
    cpus: v.cpus === undefined ? undefined : c.at([...path, 'cpus'], () => toNumber(v.cpus)),
    memory: v.memory === undefined ? undefined : c.at([...path, 'memory'], () => toBytes(v.memory)),
    pids: v.pids === undefined ? undefined : c.at([...path, 'pids'], () => toInt(v.pids)),
  });
}

function deploy(v: unknown, c: Collector, path: PathSegment[]): Deploy | undefined {
  if (!isRecord(v)) return undefined;
  const mode = str(v.mode) ?? 'replicated';
  if (!['replicated', 'global', 'replicated-job', 'global-job'].includes(mode)) c.fail([...path, 'mode'], `must be 'replicated', 'global', 'replicated-job' or 'global-job', got '${mode}'`);
  const endpoint = str(v.endpoint_mode);
  if (endpoint !== undefined && endpoint !== 'vip' && endpoint !== 'dnsrr') c.fail([...path, 'endpoint_mode'], `must be 'vip' or 'dnsrr', got '${endpoint}'`);
  const res = dict(v.resources);
  const resv = dict(res.reservations);
  const reservations = isRecord(res.reservations)
    ? compact({
        ...resources(res.reservations, c, [...path, 'resources', 'reservations']),
        devices: Array.isArray(resv.devices)
          ? resv.devices.map((d, i) => {
              const dd = dict(d);
              return compact({
                capabilities: toStringList(dd.capabilities),
                count: dd.count === undefined ? undefined : dd.count === 'all' ? ('all' as const) : c.at([...path, 'resources', 'reservations', 'devices', i, 'count'], () => toInt(dd.count)),
                device_ids: dd.device_ids === undefined ? undefined : toStringList(dd.device_ids),
                driver: str(dd.driver),
                options: dd.options === undefined ? undefined : toStringMapping(dd.options),
              });
            })
          : undefined,
        generic_resources: Array.isArray(resv.generic_resources)
          ? resv.generic_resources.map((g) => {
              const spec = dict(dict(g).discrete_resource_spec);
              return compact({ kind: str(spec.kind), value: spec.value as number | string | undefined });
            })
          : undefined,
      })
    : undefined;
  const rp = isRecord(v.restart_policy) ? v.restart_policy : undefined;
  let restartPolicy: Deploy['restart_policy'];
  if (rp) {
    const cond = str(rp.condition);
    if (cond !== undefined && !['none', 'on-failure', 'any'].includes(cond)) {
      c.fail([...path, 'restart_policy', 'condition'], `must be 'none', 'on-failure' or 'any', got '${cond}'`);
    }
    restartPolicy = compact({
      condition: cond as 'none' | 'on-failure' | 'any' | undefined,
      delay: rp.delay === undefined ? undefined : c.at([...path, 'restart_policy', 'delay'], () => toDuration(rp.delay)),
      max_attempts: rp.max_attempts === undefined ? undefined : c.at([...path, 'restart_policy', 'max_attempts'], () => toInt(rp.max_attempts)),
      window: rp.window === undefined ? undefined : c.at([...path, 'restart_policy', 'window'], () => toDuration(rp.window)),
    });
  }
  const pl = isRecord(v.placement) ? v.placement : undefined;
  return compact({
    mode: mode as Deploy['mode'],
    replicas: v.replicas === undefined ? undefined : c.at([...path, 'replicas'], () => toInt(v.replicas)),
    endpoint_mode: endpoint as Deploy['endpoint_mode'],
    labels: toStringMapping(v.labels),
    resources: compact({ limits: resources(res.limits, c, [...path, 'resources', 'limits']), reservations }),
    restart_policy: restartPolicy,
    update_config: updateConfig(v.update_config, c, [...path, 'update_config']),
    rollback_config: updateConfig(v.rollback_config, c, [...path, 'rollback_config']),
    placement: pl
      ? compact({
          constraints: toStringList(pl.constraints),
          preferences: (Array.isArray(pl.preferences) ? pl.preferences : []).map((p) => ({ spread: String(dict(p).spread ?? '') })),
          max_replicas_per_node: pl.max_replicas_per_node === undefined ? undefined : c.at([...path, 'placement', 'max_replicas_per_node'], () => toInt(pl.max_replicas_per_node)),
        })
      : undefined,
  });
}

function build(v: unknown, ctx: NormaliseContext, c: Collector, path: PathSegment[]): Build | undefined {
  if (v === undefined) return undefined;
  const d: Dict = typeof v === 'string' ? { context: v } : dict(v);
  const args: Record<string, string | null> = {};
  for (const [k, x] of Object.entries(toMapping(d.args))) setOwn(args, k, x ?? ctx.lookup(k) ?? null);
  return compact({
    context: str(d.context) ?? ctx.projectDir,
    dockerfile: str(d.dockerfile),
    dockerfile_inline: str(d.dockerfile_inline),
    args,
    target: str(d.target),
    labels: toStringMapping(d.labels),
    cache_from: toStringList(d.cache_from),
    cache_to: toStringList(d.cache_to),
    no_cache: d.no_cache === undefined ? undefined : c.at([...path, 'no_cache'], () => toBool(d.no_cache)),
    pull: d.pull === undefined ? undefined : c.at([...path, 'pull'], () => toBool(d.pull)),
    network: str(d.network),
    shm_size: d.shm_size === undefined ? undefined : c.at([...path, 'shm_size'], () => toBytes(d.shm_size)),
    extra_hosts: extraHosts(d.extra_hosts),
    tags: toStringList(d.tags),
    platforms: toStringList(d.platforms),
    additional_contexts: toStringMapping(d.additional_contexts),
    secrets: fileRefs(d.secrets, 'secrets', c, [...path, 'secrets']),
    ssh: Object.entries(toMapping(d.ssh)).map(([k, x]) => (x === null ? k : `${k}=${x}`)),
    privileged: d.privileged === undefined ? undefined : c.at([...path, 'privileged'], () => toBool(d.privileged)),
  });
}

/** extra_hosts in the engine's "host:ip" form, whichever of the file's forms was used. */
function extraHosts(v: unknown): string[] {
  const out: string[] = [];
  if (Array.isArray(v)) {
    for (const e of v.map(String)) {
      const eq = e.indexOf('=');
      const colon = e.indexOf(':');
      const i = eq !== -1 ? eq : colon;
      out.push(i === -1 ? e : `${e.slice(0, i)}:${e.slice(i + 1)}`);
    }
  } else if (isRecord(v)) {
    for (const [host, ips] of Object.entries(v)) for (const ip of toStringList(ips)) out.push(`${host}:${ip}`);
  }
  return out;
}

function ulimits(v: unknown, c: Collector, path: PathSegment[]): Record<string, { soft: number; hard: number }> {
  const out: Record<string, { soft: number; hard: number }> = {};
  for (const [name, u] of Object.entries(dict(v))) {
    const r = c.at([...path, name], () => {
      if (isRecord(u)) return { soft: toInt(u.soft), hard: toInt(u.hard) };
      const n = toInt(u);
      return { soft: n, hard: n };
    });
    if (!r) continue;
    if (r.soft > r.hard && r.hard !== -1) c.fail([...path, name], `soft limit ${r.soft} is above hard limit ${r.hard}`);
    setOwn(out, name, r);
  }
  return out;
}

function devices(v: unknown): Device[] {
  return (Array.isArray(v) ? v : []).map((d) => {
    if (typeof d === 'string') {
      const [source, target, permissions] = d.split(':');
      return { source: source!, target: target || source!, permissions: permissions || 'rwm' };
    }
    const dd = dict(d);
    const source = String(dd.source);
    return { source, target: str(dd.target) ?? source, permissions: str(dd.permissions) ?? 'rwm' };
  });
}

const RESTART = /^(no|always|unless-stopped|on-failure(:\d+)?)$/;

function normaliseService(name: string, svc: Dict, ctx: NormaliseContext, c: Collector, refs: ServiceRefs): Service {
  const path: PathSegment[] = ['services', name];
  const p = (k: string): PathSegment[] => [...path, k];
  const opt = <T>(k: string, f: (v: unknown) => T): T | undefined => (svc[k] === undefined || svc[k] === null ? undefined : c.at(p(k), () => f(svc[k])));
  const flag = (k: string): boolean => opt(k, toBool) ?? false;

  for (const k of Object.keys(svc)) if (isUnsupportedServiceKey(k)) c.warnings.push(unsupportedMessage(formatPath(p(k))));

  // A provider service is run by a plugin, not from an image (and is itself unsupported).
  if (svc.image === undefined && svc.build === undefined && svc.provider === undefined) c.fail(path, 'has neither an image nor a build context');
  const restart = str(svc.restart);
  if (restart !== undefined && !RESTART.test(restart)) c.fail(p('restart'), `'${restart}' is not a restart policy (no, always, on-failure[:N], unless-stopped)`);

  const networkMode = str(svc.network_mode);
  if (networkMode !== undefined && svc.networks !== undefined) c.fail(p('network_mode'), "cannot be used together with 'networks'");
  const networks = networkMode !== undefined ? {} : svc.networks === undefined ? { default: { aliases: [] } } : serviceNetworks(svc.networks, c, p('networks'));

  const deployed = deploy(svc.deploy, c, p('deploy'));
  const scaleOpt = opt('scale', toInt);
  if (scaleOpt !== undefined && deployed?.replicas !== undefined && scaleOpt !== deployed.replicas) {
    c.fail(p('scale'), `scale ${scaleOpt} differs from deploy.replicas ${deployed.replicas}`);
  }
  const scale = deployed?.mode === 'global' ? 1 : (scaleOpt ?? deployed?.replicas ?? 1);
  const containerName = str(svc.container_name);
  if (containerName !== undefined && scale > 1) {
    c.fail(p('container_name'), `'${containerName}' cannot be used with scale ${scale}: container names must be unique`);
  }

  const labels = { ...readKeyValueFiles(svc.label_file, ctx, c, p('label_file'), undefined), ...toStringMapping(svc.labels) };
  const logging = isRecord(svc.logging)
    ? compact({
        driver: str(svc.logging.driver),
        options: Object.fromEntries(Object.entries(dict(svc.logging.options)).filter(([, v]) => v !== null).map(([k, v]) => [k, String(v)])),
      })
    : undefined;

  const out: Service = {
    name,
    image: str(svc.image),
    build: build(svc.build, ctx, c, p('build')),
    command: command(svc.command, c, p('command')),
    entrypoint: command(svc.entrypoint, c, p('entrypoint')),
    environment: environment(svc, ctx, c, path),
    labels,
    annotations: svc.annotations === undefined ? undefined : toStringMapping(svc.annotations),
    ports: ports(svc.ports, c, p('ports')),
    expose: toStringList(svc.expose).filter((e, i) => c.at([...p('expose'), i], () => checkExpose(e)) !== undefined),
    volumes: mounts(svc.volumes, c, p('volumes')),
    volumes_from: toStringList(svc.volumes_from),
    tmpfs: toStringList(svc.tmpfs),
    networks,
    network_mode: networkMode,
    depends_on: allDependencies(refs),
    links: toStringList(svc.links),
    healthcheck: healthcheck(svc.healthcheck, c, p('healthcheck')),
    restart,
    deploy: deployed,
    scale,
    secrets: fileRefs(svc.secrets, 'secrets', c, p('secrets')),
    configs: fileRefs(svc.configs, 'configs', c, p('configs')),
    container_name: containerName,
    hostname: str(svc.hostname),
    domainname: str(svc.domainname),
    user: str(svc.user),
    working_dir: str(svc.working_dir),
    init: opt('init', toBool),
    cap_add: toStringList(svc.cap_add),
    cap_drop: toStringList(svc.cap_drop),
    privileged: flag('privileged'),
    read_only: flag('read_only'),
    stdin_open: flag('stdin_open'),
    tty: flag('tty'),
    ulimits: ulimits(svc.ulimits, c, p('ulimits')),
    profiles: toStringList(svc.profiles),
    stop_signal: str(svc.stop_signal),
    stop_grace_period: opt('stop_grace_period', toDuration),
    extra_hosts: extraHosts(svc.extra_hosts),
    dns: toStringList(svc.dns),
    dns_search: toStringList(svc.dns_search),
    dns_opt: toStringList(svc.dns_opt),
    sysctls: toStringMapping(svc.sysctls),
    pid: str(svc.pid),
    ipc: str(svc.ipc),
    uts: str(svc.uts),
    userns_mode: str(svc.userns_mode),
    cgroup: str(svc.cgroup),
    cgroup_parent: str(svc.cgroup_parent),
    group_add: toStringList(svc.group_add),
    security_opt: toStringList(svc.security_opt),
    devices: devices(svc.devices),
    logging,
    pull_policy: str(svc.pull_policy),
    platform: str(svc.platform),
    runtime: str(svc.runtime),
    mac_address: str(svc.mac_address),
    shm_size: opt('shm_size', toBytes),
    mem_limit: opt('mem_limit', toBytes),
    mem_reservation: opt('mem_reservation', toBytes),
    memswap_limit: opt('memswap_limit', (v) => (String(v) === '-1' ? -1 : toBytes(v))),
    cpus: opt('cpus', toNumber),
    cpu_shares: opt('cpu_shares', toInt),
    cpu_quota: opt('cpu_quota', toInt),
    cpu_period: opt('cpu_period', toInt),
    cpuset: str(svc.cpuset),
    pids_limit: opt('pids_limit', toInt),
    oom_score_adj: opt('oom_score_adj', toInt),
    storage_opt: svc.storage_opt === undefined ? undefined : toStringMapping(svc.storage_opt),
    extensions: extensionsOf(svc),
  };
  return compact(out);
}

// ---------------------------------------------------------------------------------------------
// Top-level resources

function externalOf(v: unknown, c: Collector, path: PathSegment[]): { external: boolean; name?: string } {
  if (v === undefined) return { external: false };
  if (isRecord(v)) {
    if (v.name !== undefined) c.warnings.push(`${formatPath(path)}.name: deprecated, use the resource's own 'name' instead`);
    return { external: true, name: str(v.name) };
  }
  return { external: c.at(path, () => toBool(v)) ?? false };
}

function network(key: string, v: unknown, project: string, c: Collector): Network {
  const path: PathSegment[] = ['networks', key];
  const d = dict(v);
  const ext = externalOf(d.external, c, [...path, 'external']);
  if (ext.external) {
    for (const k of ['driver', 'driver_opts', 'ipam', 'internal']) {
      if (d[k] !== undefined) c.fail([...path, k], `conflicts with 'external': an external network is configured where it was created`);
    }
  }
  const ipam = isRecord(d.ipam)
    ? compact({
        driver: str(d.ipam.driver),
        config: (Array.isArray(d.ipam.config) ? d.ipam.config : []).map((cfg) => {
          const cd = dict(cfg);
          return compact({
            subnet: str(cd.subnet),
            ip_range: str(cd.ip_range),
            gateway: str(cd.gateway),
            aux_addresses: cd.aux_addresses === undefined ? undefined : toStringMapping(cd.aux_addresses),
          });
        }),
        options: d.ipam.options === undefined ? undefined : toStringMapping(d.ipam.options),
      })
    : undefined;
  const b = (k: string): boolean | undefined => (d[k] === undefined ? undefined : c.at([...path, k], () => toBool(d[k])));
  return compact({
    name: ext.external ? (ext.name ?? str(d.name) ?? key) : (str(d.name) ?? resourceName(project, key)),
    external: ext.external,
    driver: str(d.driver),
    driver_opts: toStringMapping(d.driver_opts),
    ipam,
    internal: b('internal') ?? false,
    attachable: b('attachable') ?? false,
    enable_ipv4: b('enable_ipv4'),
    enable_ipv6: b('enable_ipv6'),
    labels: toStringMapping(d.labels),
  });
}

function volume(key: string, v: unknown, project: string, c: Collector): Volume {
  const path: PathSegment[] = ['volumes', key];
  const d = dict(v);
  const ext = externalOf(d.external, c, [...path, 'external']);
  if (ext.external) {
    for (const k of ['driver', 'driver_opts']) if (d[k] !== undefined) c.fail([...path, k], `conflicts with 'external'`);
  }
  return compact({
    name: ext.external ? (ext.name ?? str(d.name) ?? key) : (str(d.name) ?? resourceName(project, key)),
    external: ext.external,
    driver: str(d.driver),
    driver_opts: toStringMapping(d.driver_opts),
    labels: toStringMapping(d.labels),
  });
}

function fileObject(kind: 'secrets' | 'configs', key: string, v: unknown, project: string, c: Collector): Secret | Config {
  const path: PathSegment[] = [kind, key];
  const d = dict(v);
  const ext = externalOf(d.external, c, [...path, 'external']);
  const sources = ['file', 'environment', ...(kind === 'configs' ? ['content'] : [])].filter((k) => d[k] !== undefined);
  if (ext.external && sources.length > 0) c.fail(path, `'external' conflicts with '${sources[0]}'`);
  if (!ext.external && sources.length === 0 && d.driver === undefined) {
    c.fail(path, `needs one of ${kind === 'configs' ? 'file, environment, content' : 'file, environment'} or external`);
  }
  if (sources.length > 1) c.fail(path, `'${sources[0]}' and '${sources[1]}' are mutually exclusive`);
  return compact({
    name: ext.external ? (ext.name ?? str(d.name) ?? key) : (str(d.name) ?? resourceName(project, key)),
    external: ext.external,
    file: str(d.file),
    environment: str(d.environment),
    content: kind === 'configs' ? str(d.content) : undefined,
    labels: toStringMapping(d.labels),
    driver: str(d.driver),
    driver_opts: d.driver_opts === undefined ? undefined : toStringMapping(d.driver_opts),
    template_driver: str(d.template_driver),
  });
}

// ---------------------------------------------------------------------------------------------

export function normalise(raw: Dict, ctx: NormaliseContext): NormaliseResult {
  const c = new Collector();
  const rawServices = dict(raw.services);
  if (raw.version !== undefined) c.warnings.push('version: the attribute `version` is obsolete, it will be ignored');
  for (const k of UNSUPPORTED_TOP_LEVEL_KEYS) if (raw[k] !== undefined) c.warnings.push(unsupportedMessage(k));

  const refs: Record<string, ServiceRefs> = {};
  for (const [name, svc] of Object.entries(rawServices)) setOwn(refs, name, refsOf(dict(svc), c, ['services', name]));

  for (const t of ctx.targets ?? []) if (!Object.hasOwn(rawServices, t)) c.fail(['services'], `no such service: ${t}`);
  const requiredDeps: Record<string, string[]> = {};
  for (const [name, r] of Object.entries(refs)) {
    setOwn(
      requiredDeps,
      name,
      Object.entries(allDependencies(r))
        .filter(([, d]) => d.required)
        .map(([n]) => n),
    );
  }
  const selection = selectServices(
    { profiles: Object.fromEntries(Object.entries(rawServices).map(([n, s]) => [n, toStringList(dict(s).profiles)])), dependencies: requiredDeps },
    ctx.profiles,
    ctx.targets,
  );
  const enabled = new Set(selection.enabled);

  const services: Record<string, Service> = {};
  for (const name of selection.enabled) {
    const svc = normaliseService(name, dict(rawServices[name]), ctx, c, refs[name]!);
    // References to other services: they must exist; required ones must be enabled too.
    for (const [dep, d] of Object.entries(svc.depends_on)) {
      const path: PathSegment[] = ['services', name, Object.hasOwn(refs[name]!.dependsOn, dep) ? 'depends_on' : 'links'];
      if (!Object.hasOwn(rawServices, dep)) {
        c.fail(path, `depends on undefined service '${dep}'`);
      } else if (!enabled.has(dep)) {
        if (d.required) c.fail(path, `depends on service '${dep}', which is disabled by its profiles (${toStringList(dict(rawServices[dep]).profiles).join(', ')})`);
        else {
          c.warnings.push(`services.${name}.depends_on: optional dependency '${dep}' is disabled by its profiles, ignored`);
          delete svc.depends_on[dep];
        }
      }
    }
    setOwn(services, name, svc);
  }

  try {
    dependencyLevels(Object.fromEntries(Object.entries(services).map(([n, s]) => [n, Object.keys(s.depends_on)])));
  } catch (e) {
    if (e instanceof DependencyCycleError) c.fail(['services'], e.message);
    else throw e;
  }

  // Resources: all definitions are checked; those enabled services use go into the model.
  const rawNetworks = dict(raw.networks);
  const rawVolumes = dict(raw.volumes);
  const rawSecrets = dict(raw.secrets);
  const rawConfigs = dict(raw.configs);
  const allNetworks: Record<string, Network> = {};
  for (const [k, v] of Object.entries(rawNetworks)) setOwn(allNetworks, k, network(k, v, ctx.projectName, c));
  const allVolumes: Record<string, Volume> = {};
  for (const [k, v] of Object.entries(rawVolumes)) setOwn(allVolumes, k, volume(k, v, ctx.projectName, c));
  const allSecrets: Record<string, Secret> = {};
  for (const [k, v] of Object.entries(rawSecrets)) setOwn(allSecrets, k, fileObject('secrets', k, v, ctx.projectName, c));
  const allConfigs: Record<string, Config> = {};
  for (const [k, v] of Object.entries(rawConfigs)) setOwn(allConfigs, k, fileObject('configs', k, v, ctx.projectName, c));

  const networks: Record<string, Network> = {};
  const volumes: Record<string, Volume> = {};
  const secrets: Record<string, Secret> = {};
  const configs: Record<string, Config> = {};
  for (const svc of Object.values(services)) {
    const base: PathSegment[] = ['services', svc.name];
    for (const n of Object.keys(svc.networks)) {
      if (Object.hasOwn(allNetworks, n)) setOwn(networks, n, allNetworks[n]!);
      else if (n === 'default') setOwn(networks, n, { name: resourceName(ctx.projectName, 'default'), external: false, driver_opts: {}, internal: false, attachable: false, labels: {} });
      else c.fail([...base, 'networks'], `refers to undefined network '${n}'`);
    }
    svc.volumes.forEach((m, i) => {
      if (m.type !== 'volume' || m.source === undefined) return;
      if (Object.hasOwn(allVolumes, m.source)) setOwn(volumes, m.source, allVolumes[m.source]!);
      else c.fail([...base, 'volumes', i], `refers to undefined volume '${m.source}'`);
    });
    const refsTo = <T>(list: FileReference[], all: Record<string, T>, into: Record<string, T>, kind: string, path: PathSegment[]) => {
      list.forEach((r, i) => {
        if (Object.hasOwn(all, r.source)) setOwn(into, r.source, all[r.source]!);
        else c.fail([...path, i], `refers to undefined ${kind} '${r.source}'`);
      });
    };
    refsTo(svc.secrets, allSecrets, secrets, 'secret', [...base, 'secrets']);
    refsTo(svc.configs, allConfigs, configs, 'config', [...base, 'configs']);
    if (svc.build) refsTo(svc.build.secrets, allSecrets, secrets, 'secret', [...base, 'build', 'secrets']);
    for (const vf of svc.volumes_from) {
      if (vf.startsWith('container:')) continue;
      const target = (vf.startsWith('service:') ? vf.slice(8) : vf).split(':')[0]!;
      if (!Object.hasOwn(rawServices, target)) c.fail([...base, 'volumes_from'], `refers to undefined service '${target}'`);
    }
    const nm = svc.network_mode;
    if (nm?.startsWith('service:') && !Object.hasOwn(rawServices, nm.slice(8))) c.fail([...base, 'network_mode'], `refers to undefined service '${nm.slice(8)}'`);
  }

  // Container names must be unique across the project.
  const names = new Map<string, string>();
  for (const svc of Object.values(services)) {
    if (svc.container_name === undefined) continue;
    const other = names.get(svc.container_name);
    if (other) c.fail(['services', svc.name, 'container_name'], `'${svc.container_name}' is also the container name of service '${other}'`);
    names.set(svc.container_name, svc.name);
  }

  if (c.problems.length > 0) throw new ModelError(c.problems);
  const project: Project = compact({
    name: ctx.projectName,
    working_dir: ctx.projectDir,
    compose_files: ctx.composeFiles,
    profiles: selection.active,
    services,
    disabled_services: selection.disabled,
    networks,
    volumes,
    secrets,
    configs,
    extensions: extensionsOf(raw),
  });
  return { project, warnings: c.warnings };
}
