// The body of Engine API `POST /containers/create`, shared by the daemon (which validates with it) and
// the CLIs (which build it from flags and compose files) (Docker v1.41 names). Lenient on fields we do not
// know, because Docker clients send many more; strict on the types of those we do. Go clients send
// `null` for empty slices and maps, so every optional field also accepts null and reads it as absent.
import { availableParallelism } from 'node:os';
import { parseSecurityOpts } from '../runtime/seccomp/security-opt.js';
import { z } from 'zod';
import { InvalidArgumentError } from '../lib/errors.js';

/** Optional and nullable; null is read as "not given". */
const opt = <T extends z.ZodType>(s: T) => z.preprocess((v) => (v === null ? undefined : v), s.optional());

const int = z.number().int();
const str = z.string();
const strMap = z.record(z.string(), z.string());
const emptyObjMap = z.record(z.string(), z.object({}).catchall(z.unknown()));

/** Docker's StrSlice: a JSON string is read as a one-element list. */
const strSlice = z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(z.string()));

export const HealthConfigSchema = z.object({
  Test: opt(z.array(z.string())),
  Interval: opt(int),
  Timeout: opt(int),
  Retries: opt(int),
  StartPeriod: opt(int),
  StartInterval: opt(int),
});
export type HealthConfig = z.infer<typeof HealthConfigSchema>;

export const PortBindingSchema = z.object({ HostIp: opt(str), HostPort: opt(str) });
export type PortBinding = z.infer<typeof PortBindingSchema>;

export const MountSchema = z.object({
  Type: z.enum(['bind', 'volume', 'tmpfs']),
  Source: opt(str),
  Target: str,
  ReadOnly: opt(z.boolean()),
  Consistency: opt(str),
  BindOptions: opt(z.object({ Propagation: opt(str), NonRecursive: opt(z.boolean()) })),
  VolumeOptions: opt(
    z.object({
      NoCopy: opt(z.boolean()),
      Labels: opt(strMap),
      DriverConfig: opt(z.object({ Name: opt(str), Options: opt(strMap) })),
      Subpath: opt(str),
    }),
  ),
  TmpfsOptions: opt(z.object({ SizeBytes: opt(int), Mode: opt(int) })),
});
export type Mount = z.infer<typeof MountSchema>;

export const RestartPolicySchema = z.object({
  Name: opt(z.enum(['', 'no', 'always', 'unless-stopped', 'on-failure'])),
  MaximumRetryCount: opt(int),
});
export type RestartPolicy = z.infer<typeof RestartPolicySchema>;

export const UlimitSchema = z.object({ Name: str, Soft: int, Hard: int });
export type Ulimit = z.infer<typeof UlimitSchema>;

/** The resources a container's cgroup takes: set at create, changed by `docker update`. */
export const ResourceFields = {
  Memory: opt(int),
  MemorySwap: opt(int),
  MemoryReservation: opt(int),
  NanoCpus: opt(int),
  CpuShares: opt(int),
  CpuQuota: opt(int),
  CpuPeriod: opt(int),
  CpusetCpus: opt(str),
  PidsLimit: opt(int),
};

export const HostConfigSchema = z.object({
  Binds: opt(z.array(str)),
  Mounts: opt(z.array(MountSchema)),
  Tmpfs: opt(strMap),
  PortBindings: opt(z.record(z.string(), z.preprocess((v) => (v === null ? [] : v), z.array(PortBindingSchema)))),
  PublishAllPorts: opt(z.boolean()),
  NetworkMode: opt(str),
  RestartPolicy: opt(RestartPolicySchema),
  AutoRemove: opt(z.boolean()),
  ...ResourceFields,
  Init: opt(z.boolean()),
  ReadonlyRootfs: opt(z.boolean()),
  CapAdd: opt(strSlice),
  CapDrop: opt(strSlice),
  Privileged: opt(z.boolean()),
  Dns: opt(z.array(str)),
  DnsOptions: opt(z.array(str)),
  DnsSearch: opt(z.array(str)),
  ExtraHosts: opt(z.array(str)),
  Ulimits: opt(z.array(UlimitSchema)),
  Sysctls: opt(strMap),
  ShmSize: opt(int),
  SecurityOpt: opt(z.array(str)),
  LogConfig: opt(z.object({ Type: opt(str), Config: opt(strMap) })),
});
export type HostConfig = z.infer<typeof HostConfigSchema>;

export const EndpointSettingsSchema = z.object({
  Aliases: opt(z.array(str)),
  IPAMConfig: opt(z.object({ IPv4Address: opt(str), IPv6Address: opt(str) })),
  Links: opt(z.array(str)),
});
export type EndpointSettings = z.infer<typeof EndpointSettingsSchema>;

export const ContainerCreateSchema = z.object({
  Hostname: opt(str),
  Domainname: opt(str),
  User: opt(str),
  AttachStdin: opt(z.boolean()),
  AttachStdout: opt(z.boolean()),
  AttachStderr: opt(z.boolean()),
  Tty: opt(z.boolean()),
  OpenStdin: opt(z.boolean()),
  StdinOnce: opt(z.boolean()),
  Env: opt(z.array(str)),
  Cmd: opt(strSlice),
  Entrypoint: opt(strSlice),
  Image: opt(str),
  Labels: opt(strMap),
  WorkingDir: opt(str),
  ExposedPorts: opt(emptyObjMap),
  Volumes: opt(emptyObjMap),
  StopSignal: opt(str),
  StopTimeout: opt(int),
  Healthcheck: opt(HealthConfigSchema),
  HostConfig: opt(HostConfigSchema),
  NetworkingConfig: opt(
    z.object({
      EndpointsConfig: opt(z.record(z.string(), z.preprocess((v) => (v === null ? {} : v), EndpointSettingsSchema))),
    }),
  ),
});
export type ContainerCreateBody = z.infer<typeof ContainerCreateSchema>;

function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? '(body)' : out;
}

/** Turns zod issues into one line per field: "HostConfig.Memory: expected number, received string". */
export function describeIssues(err: z.ZodError): string {
  return err.issues.map((i) => `${fieldPath(i.path)}: ${i.message.replace(/^Invalid input: /, '')}`).join('; ');
}

/** Validates a create body; throws an InvalidArgumentError naming every bad field. */
export function parseCreateBody(body: unknown): ContainerCreateBody {
  const r = ContainerCreateSchema.safeParse(body ?? {});
  if (!r.success) throw new InvalidArgumentError(`invalid container config: ${describeIssues(r.error)}`);
  const problems = checkCreateBody(r.data);
  if (problems.length > 0) throw new InvalidArgumentError(problems.join('; '));
  return r.data;
}

/** CPUs this process may run on (Docker's sysinfo.NumCPU uses the affinity mask too). */
function hostCpus(): number {
  return availableParallelism();
}

/** Docker's smallest allowed memory limit (6 MiB) and healthcheck duration (1 ms). */
export const MIN_MEMORY = 6 * 1024 * 1024;
const MIN_HEALTH_DURATION = 1_000_000;

/** Semantic checks the daemon makes after decoding, with Docker's wording. Pure; returns messages. */
export function checkCreateBody(b: ContainerCreateBody): string[] {
  const out: string[] = [];
  if (!b.Image) out.push('No image specified (set Image)');
  const h = b.HostConfig ?? {};
  if (h.Memory !== undefined && h.Memory !== 0 && h.Memory < MIN_MEMORY) {
    out.push('Minimum memory limit allowed is 6MB (HostConfig.Memory)');
  }
  if (h.MemorySwap !== undefined && h.MemorySwap > 0 && (h.Memory ?? 0) === 0) {
    out.push('You should always set the Memory limit when using Memoryswap limit, see usage');
  }
  if (h.MemorySwap !== undefined && h.MemorySwap > 0 && h.Memory !== undefined && h.MemorySwap < h.Memory) {
    out.push('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (h.NanoCpus !== undefined && h.NanoCpus !== 0 && ((h.CpuQuota ?? 0) > 0 || (h.CpuPeriod ?? 0) > 0)) {
    out.push('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  }
  if (h.NanoCpus !== undefined && h.NanoCpus < 0) out.push('Range of CPUs is from 0.01 to the number of CPUs available (HostConfig.NanoCpus)');
  // Docker (verifyPlatformContainerResources) refuses more CPUs than the host has, with this wording.
  const ncpu = hostCpus();
  if (h.NanoCpus !== undefined && h.NanoCpus > ncpu * 1e9) out.push(`range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`);
  if (h.ShmSize !== undefined && h.ShmSize < 0) out.push('SHM size can not be less than 0 (HostConfig.ShmSize)');
  try {
    parseSecurityOpts(h.SecurityOpt ?? []);
  } catch (e) {
    out.push((e as Error).message);
  }
  const rp = h.RestartPolicy;
  if (rp) {
    const n = rp.MaximumRetryCount ?? 0;
    if (n < 0) out.push('invalid restart policy: maximum retry count cannot be negative');
    else if (n > 0 && rp.Name !== 'on-failure') {
      out.push(`invalid restart policy: maximum retry count can only be used with 'on-failure' (got '${rp.Name ?? ''}')`);
    }
    if (h.AutoRemove && rp.Name && rp.Name !== 'no') out.push(`can't create 'AutoRemove' container with restart policy (${rp.Name})`);
  }
  const hc = b.Healthcheck;
  if (hc) {
    for (const f of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval'] as const) {
      const v = hc[f];
      if (v !== undefined && v !== 0 && v < MIN_HEALTH_DURATION) out.push(`${f} in Healthcheck cannot be less than 1ms`);
    }
    if (hc.Retries !== undefined && hc.Retries < 0) out.push('Retries in Healthcheck cannot be negative');
    const t0 = hc.Test?.[0];
    if (t0 !== undefined && !['NONE', 'CMD', 'CMD-SHELL'].includes(t0)) {
      out.push(`Healthcheck.Test must start with NONE, CMD or CMD-SHELL (got "${t0}")`);
    }
  }
  for (const [port] of Object.entries(b.ExposedPorts ?? {})) {
    if (!/^\d{1,5}(\/(tcp|udp|sctp))?$/.test(port)) out.push(`invalid port specification: "${port}" in ExposedPorts (expected PORT[/tcp|udp|sctp])`);
  }
  for (const [port, binds] of Object.entries(h.PortBindings ?? {})) {
    if (!/^\d{1,5}(\/(tcp|udp|sctp))?$/.test(port)) out.push(`invalid port specification: "${port}" in HostConfig.PortBindings (expected PORT[/tcp|udp|sctp])`);
    for (const pb of binds) {
      if (pb.HostPort && !/^\d{1,5}(-\d{1,5})?$/.test(pb.HostPort)) {
        out.push(`invalid port specification: "${pb.HostPort}" in HostConfig.PortBindings["${port}"].HostPort (expected a port or range)`);
      }
    }
  }
  for (const m of h.Mounts ?? []) {
    if (!m.Target.startsWith('/')) out.push(`invalid mount config for type "${m.Type}": invalid mount path: '${m.Target}' mount path must be absolute`);
    if (m.Type === 'bind' && !m.Source) out.push(`invalid mount config for type "bind": field Source must not be empty`);
    if (m.Type === 'tmpfs' && m.Source) out.push(`invalid mount config for type "tmpfs": field Source must not be specified`);
    if (m.Type !== 'volume' && m.VolumeOptions) out.push(`invalid mount config for type "${m.Type}": VolumeOptions must not be specified`);
    if (m.Type !== 'tmpfs' && m.TmpfsOptions) out.push(`invalid mount config for type "${m.Type}": TmpfsOptions must not be specified`);
  }
  return out;
}
