// The swarm's service, task, secret and config objects on the wire, in Docker Engine API v1.50's
// shapes (/services, /tasks, /secrets, /configs). Shared by the manager (which validates specs with
// these schemas), the Engine API routes and the CLIs (which build specs from flags and compose files).
// Durations are nanoseconds and sizes bytes, as Docker's API has them.
import { z } from 'zod';
import { InvalidArgumentError } from '../lib/errors.js';

const Labels = z.record(z.string(), z.string());
const nsDuration = z.number().int().nonnegative();

export const MountSchema = z
  .object({
    Type: z.enum(['bind', 'volume', 'tmpfs']),
    Source: z.string().optional(),
    Target: z.string().min(1, 'a mount needs a Target (the path in the container)'),
    ReadOnly: z.boolean().optional(),
    BindOptions: z.object({ Propagation: z.string().optional() }).passthrough().nullish(),
    VolumeOptions: z.object({ NoCopy: z.boolean().optional(), Labels: Labels.nullish(), DriverConfig: z.object({ Name: z.string().optional(), Options: Labels.nullish() }).passthrough().nullish() }).passthrough().nullish(),
    TmpfsOptions: z.object({ SizeBytes: z.number().int().nonnegative().optional(), Mode: z.number().int().nonnegative().optional() }).passthrough().nullish(),
  })
  .passthrough();

export const HealthConfigSchema = z
  .object({
    Test: z.array(z.string()).nullish(),
    Interval: nsDuration.optional(),
    Timeout: nsDuration.optional(),
    Retries: z.number().int().nonnegative().optional(),
    StartPeriod: nsDuration.optional(),
    StartInterval: nsDuration.optional(),
  })
  .passthrough();

const FileTarget = z.object({ Name: z.string().min(1), UID: z.string().default('0'), GID: z.string().default('0'), Mode: z.number().int().min(0).max(0o7777).default(0o444) });

export const SecretReferenceSchema = z.object({ File: FileTarget, SecretID: z.string().min(1), SecretName: z.string().min(1) });
export const ConfigReferenceSchema = z.object({ File: FileTarget.optional(), Runtime: z.object({}).passthrough().optional(), ConfigID: z.string().min(1), ConfigName: z.string().min(1) });

export const ContainerSpecSchema = z
  .object({
    Image: z.string().min(1, 'a service needs an image'),
    Labels: Labels.nullish(),
    Command: z.array(z.string()).nullish(),
    Args: z.array(z.string()).nullish(),
    Hostname: z.string().optional(),
    Env: z.array(z.string()).nullish(),
    Dir: z.string().optional(),
    User: z.string().optional(),
    Groups: z.array(z.string()).nullish(),
    Init: z.boolean().nullish(),
    TTY: z.boolean().optional(),
    OpenStdin: z.boolean().optional(),
    ReadOnly: z.boolean().optional(),
    Mounts: z.array(MountSchema).nullish(),
    StopSignal: z.string().optional(),
    StopGracePeriod: nsDuration.optional(),
    HealthCheck: HealthConfigSchema.nullish(),
    Hosts: z.array(z.string()).nullish(),
    DNSConfig: z.object({ Nameservers: z.array(z.string()).nullish(), Search: z.array(z.string()).nullish(), Options: z.array(z.string()).nullish() }).passthrough().nullish(),
    Secrets: z.array(SecretReferenceSchema).nullish(),
    Configs: z.array(ConfigReferenceSchema).nullish(),
    Sysctls: Labels.nullish(),
    CapabilityAdd: z.array(z.string()).nullish(),
    CapabilityDrop: z.array(z.string()).nullish(),
    Ulimits: z.array(z.object({ Name: z.string(), Soft: z.number().int(), Hard: z.number().int() })).nullish(),
  })
  .passthrough();

export const ResourcesSchema = z
  .object({
    Limits: z.object({ NanoCPUs: z.number().int().nonnegative().optional(), MemoryBytes: z.number().int().nonnegative().optional(), Pids: z.number().int().nonnegative().optional() }).passthrough().nullish(),
    Reservations: z.object({ NanoCPUs: z.number().int().nonnegative().optional(), MemoryBytes: z.number().int().nonnegative().optional() }).passthrough().nullish(),
  })
  .passthrough();

export const RestartPolicySchema = z
  .object({
    Condition: z.enum(['none', 'on-failure', 'any']).optional(),
    Delay: nsDuration.optional(),
    MaxAttempts: z.number().int().nonnegative().optional(),
    Window: nsDuration.optional(),
  })
  .passthrough();

export const PlacementSchema = z
  .object({
    Constraints: z.array(z.string()).nullish(),
    Preferences: z.array(z.object({ Spread: z.object({ SpreadDescriptor: z.string().min(1) }) })).nullish(),
    MaxReplicas: z.number().int().nonnegative().optional(),
    Platforms: z.array(z.object({ Architecture: z.string().optional(), OS: z.string().optional() })).nullish(),
  })
  .passthrough();

export const NetworkAttachmentConfigSchema = z.object({ Target: z.string().min(1), Aliases: z.array(z.string()).nullish(), DriverOpts: Labels.nullish() }).passthrough();

export const TaskSpecSchema = z
  .object({
    ContainerSpec: ContainerSpecSchema,
    Resources: ResourcesSchema.nullish(),
    RestartPolicy: RestartPolicySchema.nullish(),
    Placement: PlacementSchema.nullish(),
    ForceUpdate: z.number().int().nonnegative().optional(),
    Runtime: z.string().optional(),
    Networks: z.array(NetworkAttachmentConfigSchema).nullish(),
    LogDriver: z.object({ Name: z.string(), Options: Labels.nullish() }).passthrough().nullish(),
  })
  .passthrough();

export const UpdateConfigSchema = z
  .object({
    Parallelism: z.number().int().nonnegative().optional(),
    Delay: nsDuration.optional(),
    FailureAction: z.enum(['continue', 'pause', 'rollback']).optional(),
    Monitor: nsDuration.optional(),
    MaxFailureRatio: z.number().min(0).max(1).optional(),
    Order: z.enum(['stop-first', 'start-first']).optional(),
  })
  .passthrough();

export const PortConfigSchema = z.object({
  Name: z.string().optional(),
  Protocol: z.enum(['tcp', 'udp', 'sctp']).default('tcp'),
  TargetPort: z.number().int().min(1).max(65535),
  PublishedPort: z.number().int().min(0).max(65535).optional(),
  PublishMode: z.enum(['ingress', 'host']).default('ingress'),
});

export const EndpointSpecSchema = z.object({ Mode: z.enum(['vip', 'dnsrr']).default('vip'), Ports: z.array(PortConfigSchema).nullish() }).passthrough();

export const ServiceModeSchema = z
  .object({
    Replicated: z.object({ Replicas: z.number().int().nonnegative().optional() }).optional(),
    Global: z.object({}).passthrough().optional(),
    ReplicatedJob: z.object({ MaxConcurrent: z.number().int().positive().optional(), TotalCompletions: z.number().int().nonnegative().optional() }).optional(),
    GlobalJob: z.object({}).passthrough().optional(),
  })
  .refine((m) => [m.Replicated, m.Global, m.ReplicatedJob, m.GlobalJob].filter((x) => x !== undefined).length === 1, {
    message: 'exactly one of Replicated, Global, ReplicatedJob or GlobalJob',
  });

export const ServiceSpecSchema = z
  .object({
    Name: z.string().optional(),
    Labels: Labels.nullish(),
    TaskTemplate: TaskSpecSchema,
    Mode: ServiceModeSchema.optional(),
    UpdateConfig: UpdateConfigSchema.nullish(),
    RollbackConfig: UpdateConfigSchema.nullish(),
    Networks: z.array(NetworkAttachmentConfigSchema).nullish(),
    EndpointSpec: EndpointSpecSchema.nullish(),
  })
  .passthrough();

export type Mount = z.infer<typeof MountSchema>;
export type HealthConfig = z.infer<typeof HealthConfigSchema>;
export type SecretReference = z.infer<typeof SecretReferenceSchema>;
export type ConfigReference = z.infer<typeof ConfigReferenceSchema>;
export type ContainerSpec = z.infer<typeof ContainerSpecSchema>;
export type Resources = z.infer<typeof ResourcesSchema>;
export type RestartPolicy = z.infer<typeof RestartPolicySchema>;
export type Placement = z.infer<typeof PlacementSchema>;
export type NetworkAttachmentConfig = z.infer<typeof NetworkAttachmentConfigSchema>;
export type TaskSpec = z.infer<typeof TaskSpecSchema>;
export type UpdateConfig = z.infer<typeof UpdateConfigSchema>;
export type PortConfig = z.infer<typeof PortConfigSchema>;
export type EndpointSpec = z.infer<typeof EndpointSpecSchema>;
export type ServiceMode = z.infer<typeof ServiceModeSchema>;
export type ServiceSpec = z.infer<typeof ServiceSpecSchema>;

/** Docker's task states, in order: a task only moves forward through them. */
export const TASK_STATES = ['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running', 'complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned'] as const;
export type TaskState = (typeof TASK_STATES)[number];

export interface Version {
  Index: number;
}

export interface UpdateStatus {
  State: 'updating' | 'paused' | 'completed' | 'rollback_started' | 'rollback_paused' | 'rollback_completed';
  StartedAt?: string;
  CompletedAt?: string;
  Message: string;
}

/** GET /services/{id} (ServiceStatus only with ?status=true). */
export interface Service {
  ID: string;
  Version: Version;
  CreatedAt: string;
  UpdatedAt: string;
  Spec: ServiceSpec;
  PreviousSpec?: ServiceSpec;
  Endpoint: { Spec: EndpointSpec; Ports?: PortConfig[]; VirtualIPs?: { NetworkID: string; Addr: string }[] };
  UpdateStatus?: UpdateStatus;
  ServiceStatus?: { RunningTasks: number; DesiredTasks: number; CompletedTasks: number };
  JobStatus?: { JobIteration: Version; LastExecution?: string };
}

export interface TaskStatus {
  Timestamp: string;
  State: TaskState;
  Message: string;
  Err?: string;
  ContainerStatus?: { ContainerID: string; PID: number; ExitCode: number };
  PortStatus?: { Ports?: PortConfig[] };
}

/** GET /tasks/{id}. */
export interface Task {
  ID: string;
  Version: Version;
  CreatedAt: string;
  UpdatedAt: string;
  Name?: string;
  Labels: Record<string, string>;
  Spec: TaskSpec;
  ServiceID: string;
  /** Replicated services: the slot the task fills (1…replicas). Global: absent, one per NodeID. */
  Slot?: number;
  NodeID?: string;
  Status: TaskStatus;
  DesiredState: TaskState;
  JobIteration?: Version;
}

export const SecretSpecSchema = z.object({
  Name: z.string().min(1, 'a secret needs a Name'),
  Labels: Labels.nullish(),
  /** base64 of the secret's bytes; never returned by the API. */
  Data: z.string().optional(),
  Driver: z.object({ Name: z.string() }).passthrough().nullish(),
  Templating: z.object({ Name: z.string() }).passthrough().nullish(),
});
export const ConfigSpecSchema = z.object({
  Name: z.string().min(1, 'a config needs a Name'),
  Labels: Labels.nullish(),
  /** base64 of the config's bytes (returned by the API, unlike a secret's). */
  Data: z.string().optional(),
  Templating: z.object({ Name: z.enum(['golang']) }).passthrough().nullish(),
});
export type SecretSpec = z.infer<typeof SecretSpecSchema>;
export type ConfigSpec = z.infer<typeof ConfigSpecSchema>;

export interface Secret {
  ID: string;
  Version: Version;
  CreatedAt: string;
  UpdatedAt: string;
  Spec: Omit<SecretSpec, 'Data'>;
}

export interface Config {
  ID: string;
  Version: Version;
  CreatedAt: string;
  UpdatedAt: string;
  Spec: ConfigSpec;
}

export { LABELS } from './swarm-labels.js';

/** Parses a spec from outside; the error names each wrong key path. */
export function parseSpec<T>(schema: z.ZodType<T>, raw: unknown, what: string): T {
  const r = schema.safeParse(raw ?? {});
  if (r.success) return r.data;
  const why = r.error.issues.map((i) => `${i.path.join('.') || '(spec)'}: ${i.message}`).join('; ');
  throw new SpecError(`invalid ${what}: ${why}`);
}

export class SpecError extends InvalidArgumentError {
  override name = 'SpecError';
}
