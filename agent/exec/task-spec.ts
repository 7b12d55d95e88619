// The container a swarm task runs, in the shape of Docker's swarm ContainerSpec (the fields this
// engine honours so far), and its translation into a container create body. Pure: no I/O.
import { z } from 'zod';
import { InvalidArgumentError } from '../../lib/errors.js';
import type { ContainerCreateBody } from '../containers/create-config.js';

export const TaskMountSchema = z.object({
  Type: z.enum(['bind', 'volume', 'tmpfs']),
  Source: z.string().optional(),
  Target: z.string().min(1),
  ReadOnly: z.boolean().optional(),
});

export const TaskSpecSchema = z.object({
  /** The image reference; pull-if-missing is the agent's job later, here it must be present. */
  Image: z.string().min(1),
  /** Replaces the image's ENTRYPOINT (Docker swarm's ContainerSpec.Command). */
  Command: z.array(z.string()).optional(),
  /** Replaces the image's CMD (ContainerSpec.Args). */
  Args: z.array(z.string()).optional(),
  Env: z.array(z.string()).optional(),
  Labels: z.record(z.string(), z.string()).optional(),
  Mounts: z.array(TaskMountSchema).optional(),
  Resources: z
    .object({
      Limits: z
        .object({
          NanoCPUs: z.number().int().nonnegative().optional(),
          MemoryBytes: z.number().int().nonnegative().optional(),
          Pids: z.number().int().nonnegative().optional(),
        })
        .optional(),
    })
    .optional(),
  /** Nanoseconds between the stop signal and SIGKILL at shutdown (swarm's unit; Docker's default 10 s). */
  StopGracePeriod: z.number().int().nonnegative().optional(),
  Hostname: z.string().optional(),
});

export type TaskSpec = z.infer<typeof TaskSpecSchema>;
export type TaskMount = z.infer<typeof TaskMountSchema>;

/** Docker's default grace when a spec gives none. */
export const DEFAULT_STOP_GRACE_NS = 10e9;

/** Validates a task spec from outside (the manager's wire); errors name the field. */
export function parseTaskSpec(raw: unknown): TaskSpec {
  const r = TaskSpecSchema.safeParse(raw);
  if (r.success) return r.data;
  const why = r.error.issues.map((i) => `${i.path.join('.') || 'spec'}: ${i.message}`).join('; ');
  throw new TaskSpecError(`invalid task spec: ${why}`);
}

export class TaskSpecError extends InvalidArgumentError {
  override name = 'TaskSpecError';
}

/** The grace period in whole seconds, rounded up (the container service counts seconds). */
export function stopGraceSeconds(spec: TaskSpec): number {
  return Math.ceil((spec.StopGracePeriod ?? DEFAULT_STOP_GRACE_NS) / 1e9);
}

/** The create body of the task's container. Labels carry through so `ps --filter label=` finds tasks. */
export function createBody(spec: TaskSpec): ContainerCreateBody {
  const limits = spec.Resources?.Limits;
  const host: NonNullable<ContainerCreateBody['HostConfig']> = {};
  if (spec.Mounts?.length) host.Mounts = spec.Mounts.map((m) => ({ Type: m.Type, Target: m.Target, ...(m.Source !== undefined ? { Source: m.Source } : {}), ...(m.ReadOnly ? { ReadOnly: true } : {}) }));
  if (limits?.NanoCPUs) host.NanoCpus = limits.NanoCPUs;
  if (limits?.MemoryBytes) host.Memory = limits.MemoryBytes;
  if (limits?.Pids) host.PidsLimit = limits.Pids;
  return {
    Image: spec.Image,
    ...(spec.Command ? { Entrypoint: spec.Command } : {}),
    ...(spec.Args ? { Cmd: spec.Args } : {}),
    ...(spec.Env ? { Env: spec.Env } : {}),
    ...(spec.Labels ? { Labels: spec.Labels } : {}),
    ...(spec.Hostname ? { Hostname: spec.Hostname } : {}),
    StopTimeout: stopGraceSeconds(spec),
    HostConfig: host,
  };
}
