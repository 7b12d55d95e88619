// One interface over cgroup v1 and v2. The runtime driver sees only this; the backends turn it into
// files (v1: memory.limit_in_bytes, cpu.cfs_quota_us, …; v2: memory.max, cpu.max, …).

/** Limits in OCI runtime-spec units (linux.resources), validated before anything is written. */
export interface CgroupResources {
  memory?: {
    /** Bytes; -1 = unlimited. */
    limit?: number;
    /** Memory + swap in bytes (OCI semantics); -1 = unlimited swap. */
    swap?: number;
    /** Soft limit in bytes. */
    reservation?: number;
  };
  cpu?: {
    /** v1 shares (2..262144); converted to v2 weight. */
    shares?: number;
    /** Microseconds of CPU per period; -1 = unlimited. */
    quota?: number;
    /** Microseconds (1000..1000000). */
    period?: number;
    /** cpuset, e.g. "0-1". */
    cpus?: string;
    mems?: string;
  };
  pids?: {
    /** Max tasks; -1 or 0 = unlimited. */
    limit?: number;
  };
}

export interface CgroupStats {
  memory: { usage: number; limit: number; maxUsage?: number; failcnt?: number; oomKills: number };
  cpu: { usageNs: number; userNs: number; systemNs: number; throttledPeriods?: number };
  pids: { current: number; limit: number };
}

export interface CgroupManager {
  readonly version: 1 | 2;
  /**
   * Creates the group at `path` (relative, e.g. "tsswarm/<id>") in every controller it uses and writes
   * the limits. Validates first: a bad value throws CgroupError naming the field and nothing is created.
   */
  create(path: string, resources: CgroupResources): Promise<void>;
  /** Files a process must be written into to join the group (one per v1 hierarchy, one for v2). */
  procsFiles(path: string): string[];
  /** Moves a process into the group. */
  addProcess(path: string, pid: number): Promise<void>;
  update(path: string, resources: CgroupResources): Promise<void>;
  stats(path: string): Promise<CgroupStats>;
  freeze(path: string): Promise<void>;
  thaw(path: string): Promise<void>;
  /** PIDs currently in the group. */
  pids(path: string): Promise<number[]>;
  /** Number of OOM kills seen in the group so far. */
  oomKills(path: string): Promise<number>;
  /** SIGKILLs anything left, then removes the group from every controller. Idempotent. */
  destroy(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
}

export class CgroupError extends Error {
  constructor(
    /** The offending field, in OCI spec terms, e.g. "linux.resources.memory.limit". */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'CgroupError';
  }
}
