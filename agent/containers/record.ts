// The persisted shape of a container (one JSON file per container under <data-root>/containers).
// Field names follow the Engine API's inspect output so the view is mostly a copy.
import type { HealthConfig, HostConfig } from './create-config.js';
import type { HealthState } from './health.js';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerState {
  Status: ContainerStatus;
  Pid: number;
  ExitCode: number;
  Error: string;
  OOMKilled: boolean;
  StartedAt: string;
  FinishedAt: string;
  Health?: HealthState;
}

export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  Env: string[];
  Cmd: string[];
  Entrypoint: string[] | null;
  Image: string;
  WorkingDir: string;
  Labels: Record<string, string>;
  ExposedPorts: Record<string, Record<string, never>>;
  Volumes: Record<string, Record<string, never>>;
  StopSignal: string;
  StopTimeout?: number;
  Healthcheck?: HealthConfig;
  Tty: boolean;
  OpenStdin: boolean;
  /** Close the container's stdin when the first attached client that wrote to it detaches. */
  StdinOnce?: boolean;
}

export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  /** Volume name (volumes only). */
  Name?: string;
  Source: string;
  Destination: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
  /** tmpfs mount options (tmpfs only). */
  Options?: string[];
  /** Anonymous volumes go away with `rm -v` and `--rm`. */
  Anonymous?: boolean;
}

export interface EndpointConfig {
  Aliases: string[];
  IPv4Address?: string;
}

export interface ContainerRecord {
  Id: string;
  Name: string;
  Created: string;
  /** Image ID (sha256:…). */
  Image: string;
  Path: string;
  Args: string[];
  Config: ContainerConfig;
  HostConfig: HostConfig;
  /** Networks to join on start, by name as given (NetworkMode plus any EndpointsConfig). */
  Networks: Record<string, EndpointConfig>;
  State: ContainerState;
  RestartCount: number;
  RestartDelayMs: number;
  /** Docker's HasBeenManuallyStopped: consulted for unless-stopped at daemon start. */
  ManuallyStopped: boolean;
  Mounts: MountPoint[];
}

export function validateRecord(v: unknown, id: string): ContainerRecord {
  const r = v as Partial<ContainerRecord> | null;
  if (!r || typeof r !== 'object' || r.Id !== id || typeof r.Name !== 'string' || !r.State || !r.Config || !r.HostConfig) {
    throw new Error(`container record ${id}: missing Id, Name, State, Config or HostConfig`);
  }
  return r as ContainerRecord;
}

export const isActive = (s: ContainerStatus): boolean => s === 'running' || s === 'paused' || s === 'restarting';
