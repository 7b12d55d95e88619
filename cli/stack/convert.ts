// A loaded Compose project → the swarm objects of one stack, as `docker stack deploy` builds them:
// every object named STACK_key (or its `name:`), labelled com.docker.stack.namespace=STACK. Pure: the
// content of secrets and configs is described (file, variable, inline), read later by content.ts.
import type {
  Deploy,
  FileReference,
  Healthcheck,
  Mount as ComposeMount,
  Port,
  Project,
  Service,
  UpdateConfig as ComposeUpdateConfig,
} from '../../compose-spec/index.js';
import { compareStrings } from '../../lib/compare.js';
import { parseDuration } from '../../lib/units.js';
import {
  LABELS,
  type ConfigReference,
  type EndpointSpec,
  type HealthConfig,
  type Mount,
  type NetworkAttachmentConfig,
  type PortConfig,
  type Resources,
  type RestartPolicy,
  type SecretReference,
  type ServiceMode,
  type ServiceSpec,
  type UpdateConfig,
} from '../../api/swarm.js';

/** The body of POST /networks/create for a stack network. */
export interface StackNetwork {
  Name: string;
  Driver: string;
  Labels: Record<string, string>;
  Options?: Record<string, string>;
  Internal?: boolean;
  Attachable?: boolean;
  IPAM?: { Driver?: string; Config?: { Subnet?: string; IPRange?: string; Gateway?: string }[]; Options?: Record<string, string> };
}

/** Where a secret's or config's bytes come from; content.ts reads them. */
export type ContentSource = { kind: 'file'; path: string } | { kind: 'environment'; variable: string } | { kind: 'inline'; content: string };

export interface StackFileObject {
  /** The key in the compose file's top-level secrets/configs. */
  key: string;
  /** The object's name in the swarm. */
  name: string;
  labels: Record<string, string>;
  source: ContentSource;
  driver?: { Name: string; Options?: Record<string, string> };
  templateDriver?: string;
}

export interface StackObjects {
  stack: string;
  /** Sorted by name. */
  services: ServiceSpec[];
  /** Networks the stack creates, sorted by name. */
  networks: StackNetwork[];
  /** Names of external networks the services use; they must exist (swarm-scoped). */
  externalNetworks: string[];
  secrets: StackFileObject[];
  configs: StackFileObject[];
  /** Names of external secrets and configs the services use; they must exist. */
  externalSecrets: string[];
  externalConfigs: string[];
}

export interface ConvertProblem {
  /** Compose key path, e.g. services.web.deploy.replicas. */
  path: string;
  message: string;
}

export class StackConvertError extends Error {
  constructor(readonly problems: ConvertProblem[]) {
    super(problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
    this.name = 'StackConvertError';
  }
}

/** The driver Docker gives a stack network that names none. */
export const DEFAULT_NETWORK_DRIVER = 'overlay';
const BUILTIN_NETWORKS = new Set(['host', 'bridge', 'none', 'default']);

/** STACK_name, the way every stack object is named. */
export const scoped = (stack: string, name: string): string => `${stack}_${name}`;

const withStackLabel = (stack: string, labels: Record<string, string> | undefined): Record<string, string> => ({ ...labels, [LABELS.stackNamespace]: stack });

/** Byte order, as Docker's Go sort.Strings: the same file gives the same order whatever the locale. */
export { compareStrings };
const byName = <T extends { Name?: string }>(a: T, b: T): number => compareStrings(a.Name ?? '', b.Name ?? '');

class Problems {
  readonly list: ConvertProblem[] = [];
  fail(path: string, message: string): void {
    this.list.push({ path, message });
  }
  /** A Go duration of the file in nanoseconds; a bad one is a problem at path. */
  duration(path: string, v: string | undefined): number | undefined {
    if (v === undefined) return undefined;
    try {
      return parseDuration(v.trim());
    } catch (e) {
      this.fail(path, (e as Error).message);
      return undefined;
    }
  }
}

export function convertStack(project: Project, stack: string): StackObjects {
  const p = new Problems();
  const services = Object.values(project.services)
    .map((s) => convertService(project, stack, s, p))
    .sort(byName);
  const used = new Set(Object.values(project.services).flatMap((s) => (Object.keys(s.networks).length > 0 ? Object.keys(s.networks) : ['default'])));
  const networks: StackNetwork[] = [];
  const externalNetworks: string[] = [];
  for (const key of [...used].sort(compareStrings)) {
    const n = project.networks[key];
    if (n?.external) {
      externalNetworks.push(n.name);
      continue;
    }
    const name = n?.name ?? scoped(stack, key);
    const ipam = n?.ipam;
    networks.push(
      compact({
        Name: name,
        Driver: n?.driver ?? DEFAULT_NETWORK_DRIVER,
        Labels: withStackLabel(stack, n?.labels),
        Options: n && Object.keys(n.driver_opts).length > 0 ? n.driver_opts : undefined,
        Internal: n?.internal || undefined,
        Attachable: n?.attachable || undefined,
        IPAM:
          ipam && (ipam.driver !== undefined || ipam.config.length > 0)
            ? compact({
                Driver: ipam.driver,
                Config: ipam.config.map((c) => compact({ Subnet: c.subnet, IPRange: c.ip_range, Gateway: c.gateway })),
                Options: ipam.options,
              })
            : undefined,
      }) as StackNetwork,
    );
  }
  const fileObjects = (kind: 'secrets' | 'configs'): StackFileObject[] => {
    const out: StackFileObject[] = [];
    for (const [key, o] of Object.entries(project[kind]).sort(([a], [b]) => compareStrings(a, b))) {
      if (o.external) continue;
      const path = `${kind}.${key}`;
      const inline = kind === 'configs' ? (o as { content?: string }).content : undefined;
      const source: ContentSource | undefined =
        o.file !== undefined
          ? { kind: 'file', path: o.file }
          : o.environment !== undefined
            ? { kind: 'environment', variable: o.environment }
            : inline !== undefined
              ? { kind: 'inline', content: inline }
              : undefined;
      if (!source) {
        p.fail(path, kind === 'secrets' ? 'needs one of file, environment or external' : 'needs one of file, environment, content or external');
        continue;
      }
      out.push(
        compact({
          key,
          name: o.name,
          labels: withStackLabel(stack, o.labels),
          source,
          driver: o.driver !== undefined ? compact({ Name: o.driver, Options: o.driver_opts }) : undefined,
          templateDriver: o.template_driver,
        }) as StackFileObject,
      );
    }
    return out;
  };
  const secrets = fileObjects('secrets');
  const configs = fileObjects('configs');
  const external = (kind: 'secrets' | 'configs'): string[] =>
    Object.values(project[kind])
      .filter((o) => o.external)
      .map((o) => o.name)
      .sort(compareStrings);
  if (p.list.length > 0) throw new StackConvertError(p.list);
  return { stack, services, networks, externalNetworks, secrets, configs, externalSecrets: external('secrets'), externalConfigs: external('configs') };
}

function convertService(project: Project, stack: string, s: Service, p: Problems): ServiceSpec {
  const at = (key: string): string => `services.${s.name}.${key}`;
  if (!s.image) p.fail(at('image'), 'required: stack deploy runs images, it does not build them (build the image and push it first)');
  const image = s.image ?? '';
  const d = s.deploy;
  const healthcheck = convertHealthcheck(s.healthcheck, at('healthcheck'), p);
  const hosts = s.extra_hosts.map((h) => {
    // The model has "host:ip"; a swarm ContainerSpec takes /etc/hosts order, "ip host".
    const i = h.indexOf(':');
    return i < 0 ? h : `${h.slice(i + 1)} ${h.slice(0, i)}`;
  });
  const dns =
    s.dns.length + s.dns_search.length + s.dns_opt.length > 0
      ? compact({ Nameservers: nonEmpty(s.dns), Search: nonEmpty(s.dns_search), Options: nonEmpty(s.dns_opt) })
      : undefined;
  const spec: ServiceSpec = {
    Name: scoped(stack, s.name),
    Labels: { ...withStackLabel(stack, d?.labels), [LABELS.stackImage]: image },
    TaskTemplate: compact({
      ContainerSpec: compact({
        Image: image,
        Labels: withStackLabel(stack, s.labels),
        Command: s.entrypoint ?? undefined,
        Args: s.command ?? undefined,
        Hostname: s.hostname,
        Env: convertEnvironment(s.environment),
        Dir: s.working_dir,
        User: s.user,
        Groups: nonEmpty(s.group_add),
        Init: s.init,
        TTY: s.tty || undefined,
        OpenStdin: s.stdin_open || undefined,
        ReadOnly: s.read_only || undefined,
        Mounts: nonEmpty(convertMounts(project, stack, s, p)),
        StopSignal: s.stop_signal,
        StopGracePeriod: p.duration(at('stop_grace_period'), s.stop_grace_period),
        HealthCheck: healthcheck,
        Hosts: nonEmpty(hosts),
        DNSConfig: dns,
        Secrets: nonEmpty(fileReferences(project, s, 'secrets', p) as SecretReference[]),
        Configs: nonEmpty(fileReferences(project, s, 'configs', p) as ConfigReference[]),
        Sysctls: Object.keys(s.sysctls).length > 0 ? s.sysctls : undefined,
        CapabilityAdd: nonEmpty(s.cap_add),
        CapabilityDrop: nonEmpty(s.cap_drop),
        Ulimits: nonEmpty(Object.entries(s.ulimits).map(([Name, l]) => ({ Name, Soft: l.soft, Hard: l.hard }))),
      }),
      Resources: convertResources(d),
      RestartPolicy: convertRestartPolicy(s, at, p),
      Placement: d?.placement
        ? compact({
            Constraints: nonEmpty(d.placement.constraints),
            Preferences: nonEmpty(d.placement.preferences.map((x) => ({ Spread: { SpreadDescriptor: x.spread } }))),
            MaxReplicas: d.placement.max_replicas_per_node,
          })
        : undefined,
      Networks: convertNetworks(project, stack, s, p),
      LogDriver:
        s.logging?.driver !== undefined
          ? compact({ Name: s.logging.driver, Options: Object.keys(s.logging.options).length > 0 ? s.logging.options : undefined })
          : undefined,
    }),
    Mode: convertMode(d, at('deploy'), p),
    UpdateConfig: convertUpdateConfig(d?.update_config, at('deploy.update_config'), p),
    RollbackConfig: convertUpdateConfig(d?.rollback_config, at('deploy.rollback_config'), p),
    EndpointSpec: convertEndpoint(s, d, at, p),
  };
  return compact(spec) as ServiceSpec;
}

/** Sorted so that the same file always gives the same spec (no needless service updates). */
function convertEnvironment(env: Record<string, string | null>): string[] | undefined {
  const out = Object.entries(env).map(([k, v]) => (v === null ? k : `${k}=${v}`));
  return out.length > 0 ? out.sort(compareStrings) : undefined;
}

function convertHealthcheck(h: Healthcheck | undefined, path: string, p: Problems): HealthConfig | undefined {
  if (!h) return undefined;
  if (h.disable) {
    if (h.test !== undefined && !(h.test.length === 1 && h.test[0] === 'NONE')) p.fail(path, "test and disable can't be set at the same time");
    return { Test: ['NONE'] };
  }
  return compact({
    Test: h.test,
    Interval: p.duration(`${path}.interval`, h.interval),
    Timeout: p.duration(`${path}.timeout`, h.timeout),
    StartPeriod: p.duration(`${path}.start_period`, h.start_period),
    StartInterval: p.duration(`${path}.start_interval`, h.start_interval),
    Retries: h.retries,
  });
}

function convertMounts(project: Project, stack: string, s: Service, p: Problems): Mount[] {
  const out: Mount[] = s.volumes
    .map((m, i) => convertMount(project, stack, m, `services.${s.name}.volumes[${i}]`, p))
    .filter((m): m is Mount => m !== undefined);
  // The `tmpfs:` list: "PATH[:options]"; a size= option is kept, the rest is the daemon's default.
  for (const t of s.tmpfs) {
    const [target, opts] = t.split(':', 2) as [string, string | undefined];
    const size = opts?.split(',').find((o) => o.startsWith('size='));
    const bytes = size ? Number(size.slice(5)) : undefined;
    out.push(
      compact({ Type: 'tmpfs' as const, Target: target, TmpfsOptions: bytes !== undefined && Number.isInteger(bytes) ? { SizeBytes: bytes } : undefined }),
    );
  }
  return out;
}

function convertMount(project: Project, stack: string, m: ComposeMount, path: string, p: Problems): Mount | undefined {
  const readOnly = m.read_only || undefined;
  switch (m.type) {
    case 'bind':
      return compact({
        Type: 'bind' as const,
        Source: m.source,
        Target: m.target,
        ReadOnly: readOnly,
        BindOptions: m.bind?.propagation ? { Propagation: m.bind.propagation } : undefined,
      });
    case 'tmpfs':
      if (m.source !== undefined) p.fail(`${path}.source`, 'a tmpfs mount takes no source');
      return compact({
        Type: 'tmpfs' as const,
        Target: m.target,
        TmpfsOptions:
          m.tmpfs && (m.tmpfs.size !== undefined || m.tmpfs.mode !== undefined) ? compact({ SizeBytes: m.tmpfs.size, Mode: m.tmpfs.mode }) : undefined,
      });
    case 'volume': {
      if (m.source === undefined)
        return compact({ Type: 'volume' as const, Target: m.target, ReadOnly: readOnly, VolumeOptions: m.volume?.nocopy ? { NoCopy: true } : undefined });
      const v = project.volumes[m.source];
      if (!v) {
        p.fail(`${path}.source`, `undefined volume "${m.source}" (declare it under the top-level volumes)`);
        return undefined;
      }
      if (v.external)
        return compact({
          Type: 'volume' as const,
          Source: v.name,
          Target: m.target,
          ReadOnly: readOnly,
          VolumeOptions: m.volume?.nocopy ? { NoCopy: true } : undefined,
        });
      return compact({
        Type: 'volume' as const,
        Source: v.name,
        Target: m.target,
        ReadOnly: readOnly,
        VolumeOptions: compact({
          NoCopy: m.volume?.nocopy || undefined,
          Labels: withStackLabel(stack, { ...v.labels, ...m.volume?.labels }),
          DriverConfig:
            v.driver !== undefined ? compact({ Name: v.driver, Options: Object.keys(v.driver_opts).length > 0 ? v.driver_opts : undefined }) : undefined,
        }),
      });
    }
    default:
      p.fail(`${path}.type`, `"${m.type}" mounts are not supported by swarm services (use volume, bind or tmpfs)`);
      return undefined;
  }
}

/** Secret and config references, by name; deploy fills in the IDs once the objects exist. */
function fileReferences(project: Project, s: Service, kind: 'secrets' | 'configs', p: Problems): Array<SecretReference | ConfigReference> {
  type Ref = SecretReference | ConfigReference;
  const refs = s[kind].map((r: FileReference, i): Ref | undefined => {
    const top = project[kind][r.source];
    if (!top) {
      p.fail(`services.${s.name}.${kind}[${i}]`, `undefined ${kind.slice(0, -1)} "${r.source}" (declare it under the top-level ${kind})`);
      return undefined;
    }
    const File = { Name: r.target, UID: r.uid ?? '0', GID: r.gid ?? '0', Mode: r.mode ?? 0o444 };
    return kind === 'secrets' ? { File, SecretID: '', SecretName: top.name } : { File, ConfigID: '', ConfigName: top.name };
  });
  const name = (r: Ref): string => ('SecretName' in r ? r.SecretName : r.ConfigName);
  // Sorted so a reordering in the file does not restart the service.
  return refs.filter((r): r is Ref => r !== undefined).sort((a, b) => compareStrings(name(a), name(b)) || compareStrings(a.File!.Name, b.File!.Name));
}

function convertNetworks(project: Project, stack: string, s: Service, p: Problems): NetworkAttachmentConfig[] {
  const attached = Object.keys(s.networks).length > 0 ? s.networks : { default: { aliases: [] } };
  const out: NetworkAttachmentConfig[] = [];
  for (const [key, a] of Object.entries(attached)) {
    const n = project.networks[key];
    if (!n && key !== 'default') {
      p.fail(`services.${s.name}.networks.${key}`, `undefined network "${key}" (declare it under the top-level networks)`);
      continue;
    }
    const target = n?.name ?? scoped(stack, key);
    // The service's short name is an alias on user-defined networks, so `web` resolves inside the stack.
    const aliases = BUILTIN_NETWORKS.has(target) ? a.aliases : [...a.aliases, s.name];
    out.push(
      compact({ Target: target, Aliases: nonEmpty(aliases), DriverOpts: a.driver_opts && Object.keys(a.driver_opts).length > 0 ? a.driver_opts : undefined }),
    );
  }
  return out.sort((x, y) => compareStrings(x.Target, y.Target));
}

function convertResources(d: Deploy | undefined): Resources | undefined {
  const l = d?.resources.limits;
  const r = d?.resources.reservations;
  const nano = (cpus: number | undefined): number | undefined => (cpus === undefined ? undefined : Math.round(cpus * 1e9));
  const Limits = l ? compact({ NanoCPUs: nano(l.cpus), MemoryBytes: l.memory, Pids: l.pids }) : undefined;
  const Reservations = r ? compact({ NanoCPUs: nano(r.cpus), MemoryBytes: r.memory }) : undefined;
  const res = compact({ Limits: isEmpty(Limits) ? undefined : Limits, Reservations: isEmpty(Reservations) ? undefined : Reservations });
  return isEmpty(res) ? undefined : res;
}

/**
 * deploy.restart_policy; without it, the container `restart:` policy read as Docker's stack deploy
 * reads it (always/unless-stopped → any, on-failure[:N] → on-failure with N attempts, no → none).
 */
function convertRestartPolicy(s: Service, at: (k: string) => string, p: Problems): RestartPolicy | undefined {
  const rp = s.deploy?.restart_policy;
  if (rp) {
    return compact({
      Condition: rp.condition,
      Delay: p.duration(at('deploy.restart_policy.delay'), rp.delay),
      MaxAttempts: rp.max_attempts,
      Window: p.duration(at('deploy.restart_policy.window'), rp.window),
    });
  }
  if (s.restart === undefined) return undefined;
  const [name, count] = s.restart.split(':', 2) as [string, string | undefined];
  switch (name) {
    case 'no':
    case '':
      return undefined;
    case 'always':
    case 'unless-stopped':
      return { Condition: 'any' };
    case 'on-failure': {
      const n = count === undefined ? 0 : Number(count);
      if (!Number.isInteger(n) || n < 0) {
        p.fail(at('restart'), `bad maximum retry count "${count}" (expected on-failure[:N], N a whole number)`);
        return undefined;
      }
      return { Condition: 'on-failure', MaxAttempts: n };
    }
    default:
      p.fail(at('restart'), `unknown restart policy: ${s.restart} (expected no, always, unless-stopped or on-failure[:N])`);
      return undefined;
  }
}

function convertMode(d: Deploy | undefined, path: string, p: Problems): ServiceMode {
  const replicas = d?.replicas;
  if (replicas !== undefined && replicas < 0) p.fail(`${path}.replicas`, `must not be negative, got ${replicas}`);
  switch (d?.mode ?? 'replicated') {
    case 'global':
      if (replicas !== undefined) p.fail(`${path}.replicas`, 'replicas can only be used with replicated or replicated-job mode');
      return { Global: {} };
    case 'global-job':
      if (replicas !== undefined) p.fail(`${path}.replicas`, 'replicas can only be used with replicated or replicated-job mode');
      return { GlobalJob: {} };
    case 'replicated-job':
      return { ReplicatedJob: compact({ MaxConcurrent: replicas === 0 ? undefined : replicas, TotalCompletions: replicas }) };
    default:
      return { Replicated: compact({ Replicas: replicas }) };
  }
}

const FAILURE_ACTIONS = ['continue', 'pause', 'rollback'] as const;

function convertUpdateConfig(u: ComposeUpdateConfig | undefined, path: string, p: Problems): UpdateConfig | undefined {
  if (!u) return undefined;
  const action = u.failure_action;
  if (action !== undefined && !(FAILURE_ACTIONS as readonly string[]).includes(action))
    p.fail(`${path}.failure_action`, `must be continue, pause or rollback, got "${action}"`);
  const ratio = u.max_failure_ratio;
  if (ratio !== undefined && (ratio < 0 || ratio > 1)) p.fail(`${path}.max_failure_ratio`, `must be between 0 and 1, got ${ratio}`);
  return compact({
    // Docker's default when the section is there but parallelism is not.
    Parallelism: u.parallelism ?? 1,
    Delay: p.duration(`${path}.delay`, u.delay),
    FailureAction: action as UpdateConfig['FailureAction'],
    Monitor: p.duration(`${path}.monitor`, u.monitor),
    MaxFailureRatio: ratio,
    Order: u.order,
  });
}

function convertEndpoint(s: Service, d: Deploy | undefined, at: (k: string) => string, p: Problems): EndpointSpec | undefined {
  const ports = s.ports.map((port, i) => convertPort(port, at(`ports[${i}]`), p)).filter((x): x is PortConfig => x !== undefined);
  ports.sort((a, b) => (a.PublishedPort ?? 0) - (b.PublishedPort ?? 0) || a.TargetPort - b.TargetPort || compareStrings(a.Protocol, b.Protocol));
  if (d?.endpoint_mode === 'dnsrr' && ports.some((x) => x.PublishMode === 'ingress')) {
    p.fail(at('deploy.endpoint_mode'), 'dnsrr cannot be used with ports published in ingress mode (publish them with mode: host)');
  }
  if (d?.endpoint_mode === undefined && ports.length === 0) return undefined;
  return compact({ Mode: d?.endpoint_mode ?? 'vip', Ports: nonEmpty(ports) }) as EndpointSpec;
}

function convertPort(port: Port, path: string, p: Problems): PortConfig | undefined {
  if (port.host_ip !== undefined) p.fail(`${path}.host_ip`, 'swarm services publish on every address; host_ip is not supported');
  let published: number | undefined;
  if (port.published !== undefined) {
    if (!/^\d+$/.test(port.published)) {
      p.fail(`${path}.published`, `"${port.published}": a swarm port publishes one host port per target port (no ranges)`);
      return undefined;
    }
    published = Number(port.published);
  }
  return compact({ Name: port.name, Protocol: port.protocol, TargetPort: port.target, PublishedPort: published, PublishMode: port.mode });
}

const nonEmpty = <T>(xs: T[]): T[] | undefined => (xs.length > 0 ? xs : undefined);
const isEmpty = (o: object | undefined): boolean => o === undefined || Object.keys(o).length === 0;

/** Drops undefined fields, so specs compare and print as Docker's do. */
function compact<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}
