// One interface over cgroup v1 and v2. The runtime driver sees only this; the backends turn it into
// files (v1: memory.limit_in_bytes, cpu.cfs_quota_us, …; v2: memory.max, cpu.max, …).

/** Limits in OCI runtime-spec units (linux.resources), validated before anything is written. */
export interface CgroupResources {
  // 0 (or absent) means "leave as is" for every numeric field except pids.limit, as in runc and the
  // Docker API, where 0 is the default for an unset value.
  memory?: {
    /** Bytes; -1 = unlimited. */
    limit?: number;
    /** Memory + swap in bytes (OCI semantics); -1 = unlimited swap. */
    swap?: number;
    /** Soft limit in bytes (v2: memory.low); -1 = none. */
    reservation?: number;
  };
  cpu?: {
    /** v1 shares (2..262144); converted to v2 weight. */
    shares?: number;
    /** Microseconds of CPU per period; -1 = unlimited. */
    quota?: number;
    /** Microseconds (1000..1000000). */
    period?: number;
    /** cpuset list, e.g. "0-1,3"; "" = leave as is. */
    cpus?: string;
    /** Memory nodes, same syntax as cpus. */
    mems?: string;
  };
  pids?: {
    /** Max tasks; -1 or 0 = unlimited. */
    limit?: number;
  };
  /**
   * Device access rules (OCI linux.resources.devices), applied in order on top of "deny all", as runc
   * does; absent = leave device access as is. A rule of type "a" resets: deny-all or allow-all.
   */
  devices?: DeviceRule[];
}

/** One OCI device cgroup rule. Unset type = "a", unset major/minor (or -1) = any, unset access = "rwm". */
export interface DeviceRule {
  allow: boolean;
  type?: 'a' | 'c' | 'b';
  major?: number;
  minor?: number;
  /** A combination of r (read), w (write), m (mknod). */
  access?: string;
}

/** Byte and count limits read back as -1 when unlimited ("max", or v1's page-counter maximum). */
export interface CgroupStats {
  memory: {
    usage: number;
    limit: number;
    maxUsage?: number;
    /** v1 memory.failcnt; v2 the "max" count from memory.events. */
    failcnt?: number;
    oomKills: number;
    /** memory.stat as read (v1 or v2 key names), e.g. for the Engine API's memory_stats.stats. */
    stat?: Record<string, number>;
  };
  cpu: {
    usageNs: number;
    userNs: number;
    systemNs: number;
    throttledPeriods?: number;
    throttledTimeNs?: number;
  };
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
