// Where a daemon keeps its state and listens (dockerd's layout), how a client finds it, and what
// `GET /version` answers. Shared by the daemon (agent/config.ts re-exports it) and the CLIs.

export const DEFAULT_DATA_ROOT = '/var/lib/tsswarm';
export const DEFAULT_EXEC_ROOT = '/run/tsswarm';
export const DEFAULT_HOST = `unix://${DEFAULT_EXEC_ROOT}/tsswarm.sock`;

export interface DaemonOptions {
  dataRoot: string;
  execRoot: string;
  host: string;
  /** dockerd's --live-restore: containers keep running when the daemon stops; the next one re-attaches. */
  liveRestore?: boolean;
  /** dockerd's --cgroup-parent: the cgroup containers are placed under (default "tsswarm"). */
  cgroupParent?: string;
}

/** Checks a --cgroup-parent value: a relative cgroup path without "." or ".." parts. */
export function checkCgroupParent(p: string): string {
  const rel = p.replace(/^\/+|\/+$/g, '');
  if (!rel || p.includes(':') || rel.split('/').some((c) => c === '' || c === '.' || c === '..')) {
    throw new Error(`--cgroup-parent ${JSON.stringify(p)}: want a cgroup path like "tsswarm" or "nodes/n1" (no "..", no systemd slices)`);
  }
  return rel;
}

export function socketPath(host: string): string {
  if (!host.startsWith('unix://')) throw new Error(`--host ${host}: only unix:// sockets are supported`);
  return host.slice('unix://'.length);
}

/** The host the CLI talks to: --host, then TSSWARM_HOST, then the default socket. */
export function clientHost(flag?: string): string {
  return flag ?? process.env.TSSWARM_HOST ?? DEFAULT_HOST;
}

/** `GET /version`. */
export interface VersionInfo {
  Version: string;
  ApiVersion: string;
  MinAPIVersion: string;
  Os: string;
  Arch: string;
  KernelVersion: string;
  NodeVersion: string;
}
