// `docker update`: the body of POST /containers/{id}/update, and how it changes a HostConfig.
// Pure: the service applies the result to the cgroup (when running) and persists it.
import { z } from 'zod';
import type { CgroupResources } from '../../runtime/cgroups/types.js';
import { HostConfigSchema, ResourceFields, checkCreateBody, describeIssues, type HostConfig } from './create-config.js';
import { specResources } from './spec.js';

/** Docker's UpdateConfig: Resources plus RestartPolicy; unknown fields (Devices, Ulimits …) are ignored. */
export const UpdateSchema = z.object({ ...ResourceFields, RestartPolicy: HostConfigSchema.shape.RestartPolicy });
export type UpdateBody = z.infer<typeof UpdateSchema>;

export class UpdateError extends Error {
  override name = 'UpdateError';
}

export function parseUpdateBody(v: unknown): UpdateBody {
  const r = UpdateSchema.safeParse(v ?? {});
  if (!r.success) throw new UpdateError(`invalid update config: ${describeIssues(r.error)}`);
  return r.data;
}

export interface UpdatePlan {
  hostConfig: HostConfig;
  /** What to write to a running container's cgroup; undefined when only the restart policy changed. */
  resources?: CgroupResources;
}

/**
 * Merges an update into a HostConfig with Docker's rules: 0 (or absent) leaves a value as it is, a
 * PidsLimit of 0 or -1 lifts the limit, and the result must pass create's own checks.
 */
export function planUpdate(h: HostConfig, image: string, u: UpdateBody): UpdatePlan {
  const next: HostConfig = { ...h };
  const problems: string[] = [];
  if (u.NanoCpus) {
    if ((h.CpuQuota ?? 0) > 0 && !u.CpuQuota) problems.push('Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set');
    if ((h.CpuPeriod ?? 0) > 0 && !u.CpuPeriod) problems.push('Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set');
    next.NanoCpus = u.NanoCpus;
  }
  if (u.CpuQuota) {
    if ((h.NanoCpus ?? 0) > 0) problems.push('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
    next.CpuQuota = u.CpuQuota;
  }
  if (u.CpuPeriod) {
    if ((h.NanoCpus ?? 0) > 0) problems.push('Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set');
    next.CpuPeriod = u.CpuPeriod;
  }
  if (u.CpuShares) next.CpuShares = u.CpuShares;
  if (u.CpusetCpus) next.CpusetCpus = u.CpusetCpus;
  if (u.Memory) {
    if (!u.MemorySwap && (h.MemorySwap ?? 0) > 0 && u.Memory > (h.MemorySwap ?? 0)) {
      problems.push('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
    }
    next.Memory = u.Memory;
  }
  if (u.MemorySwap) next.MemorySwap = u.MemorySwap;
  if (u.MemoryReservation) next.MemoryReservation = u.MemoryReservation;
  if (u.PidsLimit !== undefined) next.PidsLimit = u.PidsLimit <= 0 ? 0 : u.PidsLimit;
  if (u.RestartPolicy?.Name) {
    if (h.AutoRemove && u.RestartPolicy.Name !== 'no') problems.push('Restart policy cannot be updated because AutoRemove is enabled for the container');
    next.RestartPolicy = { Name: u.RestartPolicy.Name, MaximumRetryCount: u.RestartPolicy.MaximumRetryCount ?? 0 };
  }
  problems.push(...checkCreateBody({ Image: image, HostConfig: next }));
  if (problems.length > 0) throw new UpdateError(problems.join('; '));

  const touchesResources = [u.Memory, u.MemorySwap, u.MemoryReservation, u.NanoCpus, u.CpuShares, u.CpuQuota, u.CpuPeriod, u.CpusetCpus, u.PidsLimit].some((v) => v !== undefined && v !== 0 && v !== '');
  if (!touchesResources && u.PidsLimit === undefined) return { hostConfig: next };
  const r = specResources(next);
  const resources: CgroupResources = {};
  if (r.memory) resources.memory = { ...r.memory };
  if (r.cpu) resources.cpu = { ...r.cpu };
  // A lifted limit must be written as "max": absent would leave the old one in place.
  resources.pids = { limit: next.PidsLimit ? next.PidsLimit : -1 };
  return { hostConfig: next, resources };
}
