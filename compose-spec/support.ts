// Which keys of the file format tscompose honours. Every service key of the schema is in exactly one
// of the two lists (a test checks it against schema.ts); an unsupported key that a file uses is named
// in a warning and left out of the model, never dropped silently.

/** Service keys carried into the normalised model for the engine and the swarm. */
export const SUPPORTED_SERVICE_KEYS: readonly string[] = [
  'annotations', 'build', 'cap_add', 'cap_drop', 'cgroup', 'cgroup_parent', 'command', 'configs',
  'container_name', 'cpu_period', 'cpu_quota', 'cpu_shares', 'cpus', 'cpuset', 'depends_on', 'deploy',
  'devices', 'dns', 'dns_opt', 'dns_search', 'domainname', 'entrypoint', 'env_file', 'environment',
  'expose', 'extends', 'extra_hosts', 'group_add', 'healthcheck', 'hostname', 'image', 'init', 'ipc',
  'label_file', 'labels', 'links', 'logging', 'mac_address', 'mem_limit', 'mem_reservation',
  'memswap_limit', 'network_mode', 'networks', 'oom_score_adj', 'pid', 'pids_limit', 'platform',
  'ports', 'privileged', 'profiles', 'pull_policy', 'read_only', 'restart', 'runtime', 'scale',
  'secrets', 'security_opt', 'shm_size', 'stdin_open', 'stop_grace_period', 'stop_signal',
  'storage_opt', 'sysctls', 'tmpfs', 'tty', 'ulimits', 'user', 'userns_mode', 'uts', 'volumes',
  'volumes_from', 'working_dir',
];

/** Valid service keys tscompose ignores, with a warning. */
export const UNSUPPORTED_SERVICE_KEYS: readonly string[] = [
  'attach', 'blkio_config', 'cpu_count', 'cpu_percent', 'cpu_rt_period', 'cpu_rt_runtime',
  'credential_spec', 'develop', 'device_cgroup_rules', 'external_links', 'gpus', 'isolation',
  'mem_swappiness', 'models', 'oom_kill_disable', 'post_start', 'pre_start', 'pre_stop', 'provider',
  'pull_refresh_after', 'use_api_socket',
];

/** Top-level keys tscompose ignores, with a warning. */
export const UNSUPPORTED_TOP_LEVEL_KEYS: readonly string[] = ['models'];

const unsupportedService = new Set(UNSUPPORTED_SERVICE_KEYS);

export function isUnsupportedServiceKey(key: string): boolean {
  return unsupportedService.has(key);
}

export function unsupportedMessage(path: string): string {
  return `${path}: not supported by tscompose, ignored`;
}
