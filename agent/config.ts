// Where a daemon keeps its state and listens. Defaults follow dockerd's layout.

export const DEFAULT_DATA_ROOT = '/var/lib/tsswarm';
export const DEFAULT_EXEC_ROOT = '/run/tsswarm';
export const DEFAULT_HOST = `unix://${DEFAULT_EXEC_ROOT}/tsswarm.sock`;

export interface DaemonOptions {
  dataRoot: string;
  execRoot: string;
  host: string;
  /** dockerd's --live-restore: containers keep running when the daemon stops; the next one re-attaches. */
  liveRestore?: boolean;
}

export function socketPath(host: string): string {
  if (!host.startsWith('unix://')) throw new Error(`--host ${host}: only unix:// sockets are supported`);
  return host.slice('unix://'.length);
}

/** The host the CLI talks to: --host, then TSSWARM_HOST, then the default socket. */
export function clientHost(flag?: string): string {
  return flag ?? process.env.TSSWARM_HOST ?? DEFAULT_HOST;
}
