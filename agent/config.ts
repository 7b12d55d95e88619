// Where a daemon keeps its state and listens: defined in api/daemon.ts, which the CLIs share.
export { DEFAULT_DATA_ROOT, DEFAULT_EXEC_ROOT, DEFAULT_HOST, checkCgroupParent, socketPath, clientHost, type DaemonOptions } from '../api/daemon.js';
