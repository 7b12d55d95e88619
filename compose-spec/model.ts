// The normalised Compose model: every short form expanded, defaults filled in, paths absolute,
// references checked. This is what `tscompose config` prints and what `up` and `stack deploy` plan
// from. Keys follow the compose spec's spelling so that the printed model reads like docker compose's.

export interface Project {
  name: string;
  /** Absolute project directory: the base of relative paths. */
  working_dir: string;
  /** Absolute paths of the files that were merged, in order. */
  compose_files: string[];
  /** Profiles that were active (explicit plus those of services targeted by name). */
  profiles: string[];
  /** Enabled services only, by name. */
  services: Record<string, Service>;
  /** Services present in the files but disabled by profiles (for diagnostics). */
  disabled_services: string[];
  /** Only the resources that enabled services use (plus external ones they reference). */
  networks: Record<string, Network>;
  volumes: Record<string, Volume>;
  secrets: Record<string, Secret>;
  configs: Record<string, Config>;
  /** Top-level x- keys, untouched. */
  extensions?: Record<string, unknown>;
}

export interface Service {
  name: string;
  image?: string;
  build?: Build;
  command?: string[] | null;
  entrypoint?: string[] | null;
  /** Resolved environment: env_file contents, then `environment` on top. null = declared, unset. */
  environment: Record<string, string | null>;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  ports: Port[];
  expose: string[];
  volumes: Mount[];
  volumes_from: string[];
  tmpfs: string[];
  /** Network key → attachment. Empty when network_mode is set. */
  networks: Record<string, ServiceNetwork>;
  network_mode?: string;
  depends_on: Record<string, Dependency>;
  links: string[];
  healthcheck?: Healthcheck;
  restart?: string;
  deploy?: Deploy;
  /** Number of containers `up` runs (scale, else deploy.replicas, else 1; 0 for global mode is not used). */
  scale: number;
  secrets: FileReference[];
  configs: FileReference[];
  container_name?: string;
  hostname?: string;
  domainname?: string;
  user?: string;
  working_dir?: string;
  init?: boolean;
  cap_add: string[];
  cap_drop: string[];
  privileged: boolean;
  read_only: boolean;
  stdin_open: boolean;
  tty: boolean;
  ulimits: Record<string, { soft: number; hard: number }>;
  profiles: string[];
  stop_signal?: string;
  stop_grace_period?: string;
  extra_hosts: string[];
  dns: string[];
  dns_search: string[];
  dns_opt: string[];
  sysctls: Record<string, string>;
  pid?: string;
  ipc?: string;
  uts?: string;
  userns_mode?: string;
  cgroup?: string;
  cgroup_parent?: string;
  group_add: string[];
  security_opt: string[];
  devices: Device[];
  logging?: { driver?: string; options: Record<string, string> };
  pull_policy?: string;
  platform?: string;
  runtime?: string;
  mac_address?: string;
  shm_size?: number;
  mem_limit?: number;
  mem_reservation?: number;
  memswap_limit?: number;
  cpus?: number;
  cpu_shares?: number;
  cpu_quota?: number;
  cpu_period?: number;
  cpuset?: string;
  pids_limit?: number;
  oom_score_adj?: number;
  storage_opt?: Record<string, string>;
  /** x- keys of the service, untouched. */
  extensions?: Record<string, unknown>;
}

export interface Build {
  /** Absolute directory, or a URL. */
  context: string;
  dockerfile?: string;
  dockerfile_inline?: string;
  args: Record<string, string | null>;
  target?: string;
  labels: Record<string, string>;
  cache_from: string[];
  cache_to: string[];
  no_cache?: boolean;
  pull?: boolean;
  network?: string;
  shm_size?: number;
  extra_hosts: string[];
  tags: string[];
  platforms: string[];
  additional_contexts: Record<string, string>;
  secrets: FileReference[];
  ssh: string[];
  privileged?: boolean;
}

export interface Port {
  target: number;
  /** Host port or range ("8080", "8000-8010"); absent: an ephemeral port. */
  published?: string;
  host_ip?: string;
  protocol: 'tcp' | 'udp' | 'sctp';
  mode: 'ingress' | 'host';
  name?: string;
  app_protocol?: string;
}

export type MountType = 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster' | 'image';

export interface Mount {
  type: MountType;
  /** Absolute host path (bind), volume key (volume; absent = anonymous), image ref (image). */
  source?: string;
  target: string;
  read_only: boolean;
  consistency?: string;
  bind?: { propagation?: string; create_host_path: boolean; selinux?: 'z' | 'Z'; recursive?: string };
  volume?: { nocopy: boolean; subpath?: string; labels?: Record<string, string> };
  tmpfs?: { size?: number; mode?: number };
  image?: { subpath?: string };
}

export interface ServiceNetwork {
  aliases: string[];
  ipv4_address?: string;
  ipv6_address?: string;
  link_local_ips?: string[];
  mac_address?: string;
  interface_name?: string;
  priority?: number;
  gw_priority?: number;
  driver_opts?: Record<string, string>;
}

export type DependencyCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface Dependency {
  condition: DependencyCondition;
  required: boolean;
  restart: boolean;
}

export interface Healthcheck {
  /** ["NONE"] disables; ["CMD", ...] or ["CMD-SHELL", "..."]. */
  test?: string[];
  interval?: string;
  timeout?: string;
  start_period?: string;
  start_interval?: string;
  retries?: number;
  disable?: boolean;
}

export interface RestartPolicy {
  condition?: 'none' | 'on-failure' | 'any';
  delay?: string;
  max_attempts?: number;
  window?: string;
}

export interface UpdateConfig {
  parallelism?: number;
  delay?: string;
  failure_action?: string;
  monitor?: string;
  max_failure_ratio?: number;
  order?: 'start-first' | 'stop-first';
}

export interface Resources {
  cpus?: number;
  /** Bytes. */
  memory?: number;
  pids?: number;
}

export interface DeviceRequest {
  capabilities: string[];
  count?: number | 'all';
  device_ids?: string[];
  driver?: string;
  options?: Record<string, string>;
}

export interface Deploy {
  mode: 'replicated' | 'global' | 'replicated-job' | 'global-job';
  replicas?: number;
  endpoint_mode?: 'vip' | 'dnsrr';
  labels: Record<string, string>;
  resources: {
    limits?: Resources;
    reservations?: Resources & { devices?: DeviceRequest[]; generic_resources?: Array<{ kind?: string; value?: number | string }> };
  };
  restart_policy?: RestartPolicy;
  update_config?: UpdateConfig;
  rollback_config?: UpdateConfig;
  placement?: { constraints: string[]; preferences: Array<{ spread: string }>; max_replicas_per_node?: number };
}

export interface FileReference {
  /** Key in the top-level secrets/configs. */
  source: string;
  /** Absolute path in the container. */
  target: string;
  uid?: string;
  gid?: string;
  mode?: number;
}

export interface Device {
  source: string;
  target: string;
  permissions: string;
}

export interface Network {
  /** Name of the network in the engine: {project}_{key}, or `name:`, or the external name. */
  name: string;
  external: boolean;
  driver?: string;
  driver_opts: Record<string, string>;
  ipam?: { driver?: string; config: Array<{ subnet?: string; ip_range?: string; gateway?: string; aux_addresses?: Record<string, string> }>; options?: Record<string, string> };
  internal: boolean;
  attachable: boolean;
  enable_ipv4?: boolean;
  enable_ipv6?: boolean;
  labels: Record<string, string>;
}

export interface Volume {
  name: string;
  external: boolean;
  driver?: string;
  driver_opts: Record<string, string>;
  labels: Record<string, string>;
}

export interface Secret {
  name: string;
  external: boolean;
  /** Absolute path on the client. */
  file?: string;
  /** Name of a variable of the project environment that holds the content. */
  environment?: string;
  labels: Record<string, string>;
  driver?: string;
  driver_opts?: Record<string, string>;
  template_driver?: string;
}

export interface Config extends Secret {
  /** Inline content. */
  content?: string;
}
