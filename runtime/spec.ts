// The OCI runtime-spec config.json: a zod schema for what we read (external input), and a builder of
// Docker-like defaults so the engine can turn image config + options into a spec.
import { z } from 'zod';
import { CAPABILITIES, DEFAULT_CAPABILITIES } from './caps.js';
import { DEFAULT_DEVICE_RULES } from './cgroups/devices.js';

/** Mount types we know how to set up; anything else is refused by name before anything is created. */
export const MOUNT_TYPES = [
  'bind',
  'rbind',
  'none',
  'proc',
  'sysfs',
  'tmpfs',
  'devpts',
  'mqueue',
  'cgroup',
  'cgroup2',
  'overlay',
  'ramfs',
  'hugetlbfs',
  'fuse',
  'binfmt_misc',
] as const;

export const RLIMITS: Readonly<Record<string, number>> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

export const NAMESPACE_TYPES = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'] as const;
export type NamespaceType = (typeof NAMESPACE_TYPES)[number];

function custom<T>(check: (v: T) => string | undefined) {
  return (v: T, ctx: z.RefinementCtx): void => {
    const msg = check(v);
    if (msg) ctx.addIssue({ code: 'custom', message: msg });
  };
}

const capName = z.string().superRefine(
  custom<string>((v) => (v in CAPABILITIES ? undefined : `unknown capability ${JSON.stringify(v)}`)),
);
const u32 = z.number().int().min(0).max(0xffffffff);
/** -1 means unlimited in OCI resources; anything else negative is a mistake. */
const limit = z.number().int().min(-1, { message: 'must be >= 0, or -1 for unlimited' });

const idMapping = z.object({ containerID: u32, hostID: u32, size: u32.min(1) });

const mountSchema = z.object({
  destination: z
    .string()
    .min(1)
    .superRefine(custom<string>((v) => (v.startsWith('/') ? undefined : `must be an absolute path, got ${JSON.stringify(v)}`))),
  type: z
    .string()
    .superRefine(
      custom<string>((v) =>
        (MOUNT_TYPES as readonly string[]).includes(v) ? undefined : `unknown mount type ${JSON.stringify(v)}`,
      ),
    )
    .optional(),
  source: z.string().optional(),
  options: z.array(z.string()).optional(),
});

const capsSchema = z.object({
  bounding: z.array(capName).optional(),
  effective: z.array(capName).optional(),
  inheritable: z.array(capName).optional(),
  permitted: z.array(capName).optional(),
  ambient: z.array(capName).optional(),
});

const processSchema = z.object({
  terminal: z.boolean().optional(),
  consoleSize: z.object({ height: z.number().int().min(0).max(65535), width: z.number().int().min(0).max(65535) }).optional(),
  user: z
    .object({
      uid: u32,
      gid: u32,
      umask: u32.max(0o777).optional(),
      additionalGids: z.array(u32).optional(),
      username: z.string().optional(),
    })
    .default({ uid: 0, gid: 0 }),
  args: z.array(z.string()).min(1, { message: 'must name a program to run' }),
  env: z
    .array(
      z.string().superRefine(custom<string>((v) => (v.includes('=') ? undefined : `not KEY=VALUE: ${JSON.stringify(v)}`))),
    )
    .optional(),
  cwd: z
    .string()
    .superRefine(custom<string>((v) => (v.startsWith('/') ? undefined : `must be an absolute path, got ${JSON.stringify(v)}`))),
  capabilities: capsSchema.optional(),
  rlimits: z
    .array(
      z.object({
        type: z
          .string()
          .superRefine(custom<string>((v) => (v in RLIMITS ? undefined : `unknown rlimit ${JSON.stringify(v)}`))),
        hard: z.number().int().min(0),
        soft: z.number().int().min(0),
      }),
    )
    .optional(),
  noNewPrivileges: z.boolean().optional(),
  apparmorProfile: z.string().optional(),
  oomScoreAdj: z.number().int().min(-1000).max(1000).optional(),
  selinuxLabel: z.string().optional(),
});

const resourcesSchema = z.object({
  devices: z
    .array(
      z.object({
        allow: z.boolean(),
        type: z.string().optional(),
        major: z.number().int().optional(),
        minor: z.number().int().optional(),
        access: z.string().optional(),
      }),
    )
    .optional(),
  memory: z
    .object({
      limit: limit.optional(),
      reservation: limit.optional(),
      swap: limit.optional(),
      kernel: limit.optional(),
      swappiness: z.number().int().min(0).max(100).optional(),
      disableOOMKiller: z.boolean().optional(),
    })
    .optional(),
  cpu: z
    .object({
      shares: z.number().int().min(0).optional(),
      quota: limit.optional(),
      period: z.number().int().min(0).optional(),
      cpus: z.string().optional(),
      mems: z.string().optional(),
    })
    .optional(),
  pids: z.object({ limit: limit }).optional(),
});

export const specSchema = z.object({
  ociVersion: z.string(),
  process: processSchema.optional(),
  root: z.object({ path: z.string().min(1), readonly: z.boolean().optional() }),
  hostname: z.string().max(64).optional(),
  domainname: z.string().max(64).optional(),
  mounts: z.array(mountSchema).optional(),
  hooks: z.record(z.string(), z.array(z.object({ path: z.string() }).loose())).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  linux: z
    .object({
      namespaces: z
        .array(
          z.object({
            type: z
              .string()
              .superRefine(
                custom<string>((v) =>
                  (NAMESPACE_TYPES as readonly string[]).includes(v) ? undefined : `unknown namespace type ${JSON.stringify(v)}`,
                ),
              ),
            path: z.string().optional(),
          }),
        )
        .optional(),
      uidMappings: z.array(idMapping).optional(),
      gidMappings: z.array(idMapping).optional(),
      devices: z
        .array(
          z.object({
            type: z.enum(['c', 'b', 'u', 'p']),
            path: z.string(),
            major: z.number().int().min(0).optional(),
            minor: z.number().int().min(0).optional(),
            fileMode: z.number().int().min(0).max(0o7777).optional(),
            uid: u32.optional(),
            gid: u32.optional(),
          }),
        )
        .optional(),
      cgroupsPath: z.string().optional(),
      resources: resourcesSchema.optional(),
      sysctl: z.record(z.string(), z.string()).optional(),
      rootfsPropagation: z.enum(['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared', 'unbindable', 'runbindable']).optional(),
      maskedPaths: z.array(z.string()).optional(),
      readonlyPaths: z.array(z.string()).optional(),
      mountLabel: z.string().optional(),
      seccomp: z.unknown().optional(),
    })
    .optional(),
});

export type Spec = z.infer<typeof specSchema>;
export type SpecProcess = z.infer<typeof processSchema>;
export type SpecMount = z.infer<typeof mountSchema>;
export type SpecResources = z.infer<typeof resourcesSchema>;

/** A config.json that fails validation; the message names the field (e.g. "mounts[2].type: …"). */
export class SpecError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(field ? `${field}: ${message}` : message);
    this.name = 'SpecError';
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

/** Parses and validates a config.json text. Throws SpecError naming the first bad field. */
export function parseSpec(text: string, source = 'config.json'): Spec {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new SpecError('', `${source}: not valid JSON: ${(err as Error).message}`);
  }
  return validateSpec(raw);
}

export function validateSpec(raw: unknown): Spec {
  const r = specSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new SpecError(formatPath(issue.path), issue.message);
  }
  const spec = r.data;
  // Cross-field rules the schema cannot express.
  const nsTypes = spec.linux?.namespaces?.map((n) => n.type) ?? [];
  const seen = new Set<string>();
  spec.linux?.namespaces?.forEach((n, i) => {
    if (seen.has(n.type)) throw new SpecError(`linux.namespaces[${i}].type`, `duplicate namespace ${JSON.stringify(n.type)}`);
    seen.add(n.type);
  });
  const hasUserNs = nsTypes.includes('user');
  if ((spec.linux?.uidMappings?.length || spec.linux?.gidMappings?.length) && !hasUserNs) {
    throw new SpecError('linux.uidMappings', 'id mappings need a user namespace in linux.namespaces');
  }
  const userNsIsNew = spec.linux?.namespaces?.some((n) => n.type === 'user' && !n.path);
  if (userNsIsNew && !spec.linux?.uidMappings?.length) {
    throw new SpecError('linux.uidMappings', 'a new user namespace needs uid mappings');
  }
  if (userNsIsNew && !spec.linux?.gidMappings?.length) {
    throw new SpecError('linux.gidMappings', 'a new user namespace needs gid mappings');
  }
  spec.process?.rlimits?.forEach((r, i) => {
    if (r.soft > r.hard) throw new SpecError(`process.rlimits[${i}].soft`, `soft limit ${r.soft} exceeds hard limit ${r.hard}`);
  });
  const cpu = spec.linux?.resources?.cpu;
  if (cpu?.quota !== undefined && cpu.quota !== -1 && cpu.quota > 0 && cpu.quota < 1000) {
    throw new SpecError('linux.resources.cpu.quota', `must be >= 1000 microseconds, got ${cpu.quota}`);
  }
  if (cpu?.period !== undefined && (cpu.period < 1000 || cpu.period > 1_000_000)) {
    throw new SpecError('linux.resources.cpu.period', `must be between 1000 and 1000000 microseconds, got ${cpu.period}`);
  }
  if (spec.hostname && !nsTypes.includes('uts')) {
    throw new SpecError('hostname', 'setting a hostname needs a uts namespace');
  }
  return spec;
}

// ---- Docker-like defaults ------------------------------------------------------------------

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** moby's oci.DefaultSpec masked paths. */
export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const DEFAULT_READONLY_PATHS: readonly string[] = [
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
];

export function defaultMounts(): SpecMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
  ];
}

export interface SpecOptions {
  args: string[];
  env?: string[];
  cwd?: string;
  user?: { uid: number; gid: number; additionalGids?: number[] };
  hostname?: string;
  /** Relative to the bundle, or absolute. */
  rootPath?: string;
  readonlyRootfs?: boolean;
  /** Capability names after --cap-add/--cap-drop (see tweakCapabilities); Docker's 14 by default. */
  capabilities?: string[];
  noNewPrivileges?: boolean;
  /** Extra mounts after the defaults, in order. */
  mounts?: SpecMount[];
  /** Join this network namespace (a path like /run/netns/x) instead of creating one. "host": none. */
  netns?: string;
  /** e.g. "tsswarm/<id>"; set so runc and we put the container in the same place. */
  cgroupsPath?: string;
  resources?: SpecResources;
  rlimits?: { type: string; hard: number; soft: number }[];
  /** Identity-or-shifted user namespace: map container 0.. to hostID.. for size ids. */
  userns?: { hostID: number; size: number };
  annotations?: Record<string, string>;
  sysctl?: Record<string, string>;
  oomScoreAdj?: number;
  privileged?: boolean;
}

/** A complete spec with Docker's defaults (caps, masked and read-only paths, mounts, namespaces). */
export function buildSpec(o: SpecOptions): Spec {
  const caps = o.privileged ? Object.keys(CAPABILITIES) : [...(o.capabilities ?? DEFAULT_CAPABILITIES)];
  const namespaces: { type: NamespaceType; path?: string }[] = [
    { type: 'pid' },
    { type: 'ipc' },
    { type: 'uts' },
    { type: 'mount' },
    { type: 'cgroup' },
  ];
  if (o.netns !== 'host') namespaces.splice(1, 0, o.netns ? { type: 'network', path: o.netns } : { type: 'network' });
  if (o.userns) namespaces.push({ type: 'user' });
  const mounts = defaultMounts();
  if (o.netns === 'host') {
    // sysfs of the host's netns cannot be mounted anew without owning it; Docker binds it then.
    const sys = mounts.find((m) => m.destination === '/sys')!;
    Object.assign(sys, { type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
  }
  const spec: Spec = {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: o.user?.uid ?? 0, gid: o.user?.gid ?? 0, ...(o.user?.additionalGids ? { additionalGids: o.user.additionalGids } : {}) },
      args: o.args,
      env: o.env ?? [DEFAULT_PATH],
      cwd: o.cwd ?? '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      ...(o.rlimits ? { rlimits: o.rlimits } : {}),
      noNewPrivileges: o.noNewPrivileges ?? false,
      ...(o.oomScoreAdj !== undefined ? { oomScoreAdj: o.oomScoreAdj } : {}),
    },
    root: { path: o.rootPath ?? 'rootfs', readonly: o.readonlyRootfs ?? false },
    hostname: o.hostname ?? '',
    mounts: [...mounts, ...(o.mounts ?? [])],
    ...(o.annotations ? { annotations: o.annotations } : {}),
    linux: {
      namespaces,
      ...(o.userns
        ? {
            uidMappings: [{ containerID: 0, hostID: o.userns.hostID, size: o.userns.size }],
            gidMappings: [{ containerID: 0, hostID: o.userns.hostID, size: o.userns.size }],
          }
        : {}),
      ...(o.cgroupsPath ? { cgroupsPath: o.cgroupsPath } : {}),
      resources: {
        // Docker's: privileged allows every device; otherwise deny all, then runc's default allow list.
        devices: o.privileged ? [{ allow: true, access: 'rwm' }] : [{ allow: false, access: 'rwm' }, ...DEFAULT_DEVICE_RULES.map((d) => ({ ...d }))],
        ...(o.resources ?? {}),
      },
      ...(o.sysctl ? { sysctl: o.sysctl } : {}),
      maskedPaths: o.privileged ? [] : [...DEFAULT_MASKED_PATHS],
      readonlyPaths: o.privileged ? [] : [...DEFAULT_READONLY_PATHS],
    },
  };
  if (!spec.hostname) delete spec.hostname;
  return validateSpec(spec);
}
