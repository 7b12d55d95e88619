// A Compose service → the Engine API body of `POST /containers/create` (Docker's field names), plus
// the extra networks to connect before start (v1.41 creates with one network only). Pure: files the
// container needs (secrets, configs) arrive as host paths from the caller.
import type { ContainerCreateBody, HostConfig, Mount as ApiMount } from '../../api/containers.js';
import { containerLabels, parseDuration, serviceImage, type FileReference, type Healthcheck, type Project, type Service, type ServiceNetwork } from '../../compose-spec/index.js';
import { posix } from 'node:path';
import type { ObservedMount } from './plan.js';

export interface SpecOptions {
  number: number;
  version: string;
  oneoff?: boolean;
  /** Container name, when not the default {project}-{service}-{n}. */
  name: string;
  /** Host path of each secret's and config's content, by top-level key. */
  secretFiles: Record<string, string>;
  configFiles: Record<string, string>;
  /**
   * Anonymous volumes of the container being replaced, by target path, to mount again (compose keeps
   * them across a recreation unless -V); see keptAnonymousVolumes.
   */
  anonymousVolumes?: Record<string, string>;
  /** For network_mode service:NAME: the id of a container of that service. */
  serviceContainer?: (service: string) => string;
  /** `run`: replace the command, add env, no ports unless asked. */
  command?: string[];
  entrypoint?: string[];
  env?: string[];
  publishPorts?: boolean;
  tty?: boolean;
  openStdin?: boolean;
  autoRemove?: boolean;
  user?: string;
  workdir?: string;
  labels?: Record<string, string>;
}

const cleanTarget = (p: string): string => posix.normalize(p).replace(/(.)\/+$/, '$1');

/**
 * Which anonymous volumes of a container being replaced its successor mounts again, by target path —
 * docker compose's rule: a service volume without a source at the same path, or a VOLUME of the image
 * at a path no other mount of the service takes. Others (the path left the file) are not carried.
 */
export function keptAnonymousVolumes(svc: Service, old: readonly ObservedMount[], anonymous: ReadonlySet<string>, imageVolumes: readonly string[]): Record<string, string> {
  const anonTargets = new Set(svc.volumes.filter((m) => m.type === 'volume' && !m.source).map((m) => cleanTarget(m.target)));
  const taken = new Set([...svc.volumes.map((m) => m.target), ...svc.tmpfs.map((t) => t.split(':')[0]!), ...svc.secrets.map((r) => r.target), ...svc.configs.map((r) => r.target)].map(cleanTarget));
  const image = new Set(imageVolumes.map(cleanTarget));
  const out: Record<string, string> = {};
  for (const m of old) {
    if (m.type !== 'volume' || !anonymous.has(m.name)) continue;
    const target = cleanTarget(m.destination);
    if (anonTargets.has(target) || (image.has(target) && !taken.has(target))) out[target] = m.name;
  }
  return out;
}

/** Whether the old container has anonymous volumes that only the image's VOLUMEs could claim. */
export function needsImageVolumes(svc: Service, old: readonly ObservedMount[], anonymous: ReadonlySet<string>): boolean {
  const anonTargets = new Set(svc.volumes.filter((m) => m.type === 'volume' && !m.source).map((m) => cleanTarget(m.target)));
  return old.some((m) => m.type === 'volume' && anonymous.has(m.name) && !anonTargets.has(cleanTarget(m.destination)));
}

/**
 * The key of a secret's or config's host file: its source, plus the uid/gid/mode a service asks for
 * (content written by tscompose is one file per distinct ownership and mode, since it is bind-mounted).
 */
export function contentFileKey(r: FileReference): string {
  if (r.uid === undefined && r.gid === undefined && r.mode === undefined) return r.source;
  return `${r.source}#${r.uid ?? ''}:${r.gid ?? ''}:${r.mode === undefined ? '' : r.mode.toString(8)}`;
}

export interface Connect {
  network: string;
  aliases: string[];
  ipv4?: string;
}

export interface ContainerSpec {
  name: string;
  body: ContainerCreateBody;
  /** Networks beyond the first, joined before start. */
  connect: Connect[];
}

const seconds = (d: string | undefined): number | undefined => {
  if (d === undefined) return undefined;
  const ns = parseDuration(d);
  return ns === undefined ? undefined : Math.round(ns / 1e9);
};

function healthConfig(h: Healthcheck): NonNullable<ContainerCreateBody['Healthcheck']> {
  if (h.disable) return { Test: ['NONE'] };
  const ns = (d: string | undefined) => (d === undefined ? undefined : parseDuration(d));
  const out: NonNullable<ContainerCreateBody['Healthcheck']> = {};
  if (h.test) out.Test = h.test;
  const set = (k: 'Interval' | 'Timeout' | 'StartPeriod' | 'StartInterval', v: string | undefined) => {
    const n = ns(v);
    if (n !== undefined) out[k] = n;
  };
  set('Interval', h.interval);
  set('Timeout', h.timeout);
  set('StartPeriod', h.start_period);
  set('StartInterval', h.start_interval);
  if (h.retries !== undefined) out.Retries = h.retries;
  return out;
}

function restartPolicy(r: string | undefined): HostConfig['RestartPolicy'] {
  if (!r || r === 'no') return { Name: 'no' };
  const m = /^on-failure(?::(\d+))?$/.exec(r);
  if (m) return { Name: 'on-failure', ...(m[1] ? { MaximumRetryCount: Number(m[1]) } : {}) };
  if (r === 'always' || r === 'unless-stopped') return { Name: r };
  throw new Error(`invalid restart policy "${r}": expected no, always, on-failure[:N] or unless-stopped`);
}

/** Networks in the order compose attaches them: highest priority first, then by key. */
export function orderedNetworks(svc: Service): Array<[string, ServiceNetwork]> {
  return Object.entries(svc.networks).sort(([a, x], [b, y]) => (y.priority ?? 0) - (x.priority ?? 0) || a.localeCompare(b));
}

function aliases(svc: Service, name: string, n: ServiceNetwork): string[] {
  return [...new Set([svc.name, name, ...n.aliases])];
}

export function containerSpec(project: Project, svc: Service, o: SpecOptions): ContainerSpec {
  const labels = { ...containerLabels(project, svc, { number: o.number, version: o.version, oneoff: o.oneoff ?? false }), ...(o.labels ?? {}) };
  const env = Object.entries(svc.environment)
    .filter((e): e is [string, string] => e[1] !== null)
    .map(([k, v]) => `${k}=${v}`);
  if (o.env) env.push(...o.env);

  const exposed: Record<string, Record<string, never>> = {};
  const bindings: NonNullable<HostConfig['PortBindings']> = {};
  for (const e of svc.expose) exposed[e.includes('/') ? e : `${e}/tcp`] = {};
  if (o.publishPorts ?? true) {
    for (const p of svc.ports) {
      const key = `${p.target}/${p.protocol}`;
      exposed[key] = {};
      (bindings[key] ??= []).push({ HostIp: p.host_ip ?? '', HostPort: p.published ?? '' });
    }
  }

  const binds: string[] = [];
  const mounts: ApiMount[] = [];
  const tmpfs: Record<string, string> = {};
  for (const m of svc.volumes) {
    if (m.type === 'bind') {
      const opts = [m.read_only ? 'ro' : 'rw', m.bind?.propagation, m.bind?.selinux].filter((x): x is string => !!x);
      binds.push(`${m.source}:${m.target}:${opts.join(',')}`);
    } else if (m.type === 'volume') {
      const named = m.source ? (project.volumes[m.source]?.name ?? m.source) : o.anonymousVolumes?.[cleanTarget(m.target)];
      const vo = { ...(m.volume?.nocopy ? { NoCopy: true } : {}), ...(m.volume?.subpath ? { Subpath: m.volume.subpath } : {}) };
      mounts.push({ Type: 'volume', ...(named ? { Source: named } : {}), Target: m.target, ReadOnly: m.read_only, ...(Object.keys(vo).length ? { VolumeOptions: vo } : {}) });
    } else if (m.type === 'tmpfs') {
      const to = { ...(m.tmpfs?.size !== undefined ? { SizeBytes: m.tmpfs.size } : {}), ...(m.tmpfs?.mode !== undefined ? { Mode: m.tmpfs.mode } : {}) };
      mounts.push({ Type: 'tmpfs', Target: m.target, ...(Object.keys(to).length ? { TmpfsOptions: to } : {}) });
    } else throw new Error(`service ${svc.name}: volume ${m.target}: mount type "${m.type}" is not supported by tscompose`);
  }
  // The image's VOLUMEs of the old container: the engine would make new empty ones for them.
  const covered = new Set(mounts.map((m) => cleanTarget(m.Target)));
  for (const [target, name] of Object.entries(o.anonymousVolumes ?? {})) {
    if (!covered.has(target)) mounts.push({ Type: 'volume', Source: name, Target: target, ReadOnly: false });
  }
  for (const t of svc.tmpfs) {
    const i = t.indexOf(':');
    if (i === -1) tmpfs[t] = '';
    else tmpfs[t.slice(0, i)] = t.slice(i + 1);
  }
  for (const s of svc.secrets) {
    const file = o.secretFiles[contentFileKey(s)] ?? o.secretFiles[s.source];
    if (!file) throw new Error(`service ${svc.name}: secret ${s.source} has no content (file: or environment:)`);
    binds.push(`${file}:${s.target}:ro`);
  }
  for (const c of svc.configs) {
    const file = o.configFiles[contentFileKey(c)] ?? o.configFiles[c.source];
    if (!file) throw new Error(`service ${svc.name}: config ${c.source} has no content (file:, content: or environment:)`);
    binds.push(`${file}:${c.target}:ro`);
  }

  const limits = svc.deploy?.resources.limits;
  const reservations = svc.deploy?.resources.reservations;
  const memory = svc.mem_limit ?? limits?.memory;
  const cpus = svc.cpus ?? limits?.cpus;
  const pids = svc.pids_limit ?? limits?.pids;
  const reservation = svc.mem_reservation ?? reservations?.memory;

  let networkMode: string | undefined;
  const endpoints: NonNullable<NonNullable<ContainerCreateBody['NetworkingConfig']>['EndpointsConfig']> = {};
  const connect: Connect[] = [];
  if (svc.network_mode) {
    const m = /^service:(.+)$/.exec(svc.network_mode);
    if (m) {
      if (!o.serviceContainer) throw new Error(`service ${svc.name}: network_mode ${svc.network_mode} needs a running container of service ${m[1]}`);
      networkMode = `container:${o.serviceContainer(m[1]!)}`;
    } else networkMode = svc.network_mode;
  } else {
    const nets = orderedNetworks(svc);
    nets.forEach(([key, n], i) => {
      const name = project.networks[key]?.name ?? key;
      const al = aliases(svc, o.name, n);
      if (i === 0) {
        networkMode = name;
        endpoints[name] = { Aliases: al, ...(n.ipv4_address ? { IPAMConfig: { IPv4Address: n.ipv4_address } } : {}) };
      } else connect.push({ network: name, aliases: al, ...(n.ipv4_address ? { ipv4: n.ipv4_address } : {}) });
    });
  }

  const hc: HostConfig = {
    ...(binds.length ? { Binds: binds } : {}),
    ...(mounts.length ? { Mounts: mounts } : {}),
    ...(Object.keys(tmpfs).length ? { Tmpfs: tmpfs } : {}),
    ...(Object.keys(bindings).length ? { PortBindings: bindings } : {}),
    ...(networkMode ? { NetworkMode: networkMode } : {}),
    RestartPolicy: o.autoRemove ? { Name: 'no' } : restartPolicy(svc.restart),
    ...(o.autoRemove ? { AutoRemove: true } : {}),
    ...(memory !== undefined ? { Memory: memory } : {}),
    ...(svc.memswap_limit !== undefined ? { MemorySwap: svc.memswap_limit } : {}),
    ...(reservation !== undefined ? { MemoryReservation: reservation } : {}),
    ...(cpus !== undefined ? { NanoCpus: Math.round(cpus * 1e9) } : {}),
    ...(svc.cpu_shares !== undefined ? { CpuShares: svc.cpu_shares } : {}),
    ...(svc.cpu_quota !== undefined ? { CpuQuota: svc.cpu_quota } : {}),
    ...(svc.cpu_period !== undefined ? { CpuPeriod: svc.cpu_period } : {}),
    ...(svc.cpuset !== undefined ? { CpusetCpus: svc.cpuset } : {}),
    ...(pids !== undefined ? { PidsLimit: pids } : {}),
    ...(svc.init !== undefined ? { Init: svc.init } : {}),
    ...(svc.read_only ? { ReadonlyRootfs: true } : {}),
    ...(svc.cap_add.length ? { CapAdd: svc.cap_add } : {}),
    ...(svc.cap_drop.length ? { CapDrop: svc.cap_drop } : {}),
    ...(svc.privileged ? { Privileged: true } : {}),
    ...(svc.dns.length ? { Dns: svc.dns } : {}),
    ...(svc.dns_opt.length ? { DnsOptions: svc.dns_opt } : {}),
    ...(svc.dns_search.length ? { DnsSearch: svc.dns_search } : {}),
    ...(svc.extra_hosts.length ? { ExtraHosts: svc.extra_hosts } : {}),
    ...(Object.keys(svc.ulimits).length ? { Ulimits: Object.entries(svc.ulimits).map(([Name, u]) => ({ Name, Soft: u.soft, Hard: u.hard })) } : {}),
    ...(Object.keys(svc.sysctls).length ? { Sysctls: svc.sysctls } : {}),
    ...(svc.shm_size !== undefined ? { ShmSize: svc.shm_size } : {}),
    ...(svc.security_opt.length ? { SecurityOpt: svc.security_opt } : {}),
    ...(svc.logging?.driver ? { LogConfig: { Type: svc.logging.driver, Config: svc.logging.options } } : {}),
  };

  const command = o.command ?? svc.command;
  const entrypoint = o.entrypoint ?? svc.entrypoint;
  const stop = seconds(svc.stop_grace_period);
  const body: ContainerCreateBody = {
    Image: serviceImage(project, svc),
    Labels: labels,
    Env: env,
    ...(command ? { Cmd: command } : {}),
    ...(entrypoint ? { Entrypoint: entrypoint } : {}),
    ...(svc.hostname ? { Hostname: svc.hostname } : {}),
    ...(svc.domainname ? { Domainname: svc.domainname } : {}),
    ...((o.user ?? svc.user) ? { User: o.user ?? svc.user } : {}),
    ...((o.workdir ?? svc.working_dir) ? { WorkingDir: o.workdir ?? svc.working_dir } : {}),
    ...((o.tty ?? svc.tty) ? { Tty: true } : {}),
    ...((o.openStdin ?? svc.stdin_open) ? { OpenStdin: true } : {}),
    ...(Object.keys(exposed).length ? { ExposedPorts: exposed } : {}),
    ...(svc.stop_signal ? { StopSignal: svc.stop_signal } : {}),
    ...(stop !== undefined ? { StopTimeout: stop } : {}),
    ...(svc.healthcheck ? { Healthcheck: healthConfig(svc.healthcheck) } : {}),
    HostConfig: hc,
    ...(Object.keys(endpoints).length ? { NetworkingConfig: { EndpointsConfig: endpoints } } : {}),
  };
  return { name: o.name, body, connect };
}
