// What the engine needs of a container runtime: the lifecycle of one container by id, its processes
// and its cgroup. runtime/driver.ts's Runtime (tsbox, namespaces, cgroups) implements it; the
// contract — states, guarantees, errors, idempotency — is in runtime/README.md.
import type { AttachConnection } from './attach.js';
import type { CgroupResources, CgroupStats } from './cgroups/types.js';
import type { CreateOptions, CreateResult, ExecHandle, ExecOptions } from './driver.js';
import type { SpecProcess } from './spec.js';
import type { ExitStatus, OciState } from './state.js';

export interface ContainerRuntime {
  /** The container's state directory (its existence tells a created container from none). Throws on an invalid id. */
  dir(id: string): string;
  /** Namespaces, cgroup, rootfs and an init waiting for start(): state `created`. */
  create(id: string, opts: CreateOptions): Promise<CreateResult>;
  /** Lets a `created` container's init exec the user process: state `running`. */
  start(id: string): Promise<void>;
  /** Joins the monitor's attach socket (output from now on, stdin, resize). */
  attach(id: string): Promise<AttachConnection>;
  /** The OCI state, read fresh each call. */
  state(id: string): Promise<OciState>;
  /** Signals the init (or, with all, every process of the cgroup). */
  kill(id: string, signal?: NodeJS.Signals | number, opts?: { all?: boolean }): Promise<void>;
  /**
   * Resolves with the exit status once the process has exited (the monitor recorded it). When the
   * monitor itself dies, `onMonitorLost` is told, and the status reports it lost.
   */
  wait(id: string, opts?: { onMonitorLost?: () => void }): Promise<ExitStatus>;
  /** Applies new resource limits to a running container's cgroup (`docker update`). */
  update(id: string, resources: CgroupResources): Promise<void>;
  /** Removes a cgroup no container state refers to (left by a daemon killed mid-start). */
  sweepCgroup(path: string): Promise<void>;
  /** Removes a stopped container (force: kills it first) with its cgroup and state directory. */
  delete(id: string, opts?: { force?: boolean }): Promise<void>;
  /** Freezes the cgroup: state `paused`. */
  pause(id: string): Promise<void>;
  /** Thaws a `paused` container. */
  resume(id: string): Promise<void>;
  /** The cgroup's counters now. */
  stats(id: string): Promise<CgroupStats>;
  /** Host pids of every process in the container, ascending; [] once stopped. */
  ps(id: string): Promise<number[]>;
  /** The state of every container under this runtime's root, by id. */
  list(): Promise<OciState[]>;
  /** Runs another process in a running container's namespaces and cgroup. */
  exec(id: string, proc: Partial<SpecProcess> & { args: string[] }, opts?: ExecOptions): Promise<ExecHandle>;
}
