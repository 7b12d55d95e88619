// Compose keys a stack cannot honour. As Docker's `stack deploy`: container-only options are ignored
// with one "Ignoring unsupported options: …" line, deprecated ones with their reason, and options that
// would silently change what runs (volumes_from, the container resource keys) are an error. Keys
// Docker's own schema refuses but ours loads (cpus, pids_limit, depends_on, …) join the ignored list
// rather than vanish without a word.
import type { Project, Service } from '../../compose-spec/index.js';
import { compareStrings, StackConvertError, type ConvertProblem } from './convert.js';

/** Docker's list: container settings a swarm task does not take. */
const IGNORED: Record<string, (s: Service) => boolean> = {
  build: (s) => s.build !== undefined,
  cgroup: (s) => s.cgroup !== undefined,
  cgroup_parent: (s) => s.cgroup_parent !== undefined,
  devices: (s) => s.devices.length > 0,
  domainname: (s) => s.domainname !== undefined,
  ipc: (s) => s.ipc !== undefined,
  links: (s) => s.links.length > 0,
  mac_address: (s) => s.mac_address !== undefined,
  network_mode: (s) => s.network_mode !== undefined,
  pid: (s) => s.pid !== undefined,
  privileged: (s) => s.privileged,
  restart: (s) => s.restart !== undefined,
  security_opt: (s) => s.security_opt.length > 0,
  shm_size: (s) => s.shm_size !== undefined,
  userns_mode: (s) => s.userns_mode !== undefined,
  // Ours: loaded by tscompose, with no place in a ServiceSpec.
  cpu_period: (s) => s.cpu_period !== undefined,
  cpus: (s) => s.cpus !== undefined,
  // The model adds the dependencies links, volumes_from and network_mode imply; only declared ones count.
  depends_on: (s) =>
    Object.keys(s.depends_on).some(
      (d) =>
        !s.links.some((l) => l.split(':')[0] === d) &&
        !s.volumes_from.some((v) => v.split(':')[0] === d || v === `service:${d}`) &&
        s.network_mode !== `service:${d}`,
    ),
  mem_reservation: (s) => s.mem_reservation !== undefined,
  oom_score_adj: (s) => s.oom_score_adj !== undefined,
  pids_limit: (s) => s.pids_limit !== undefined,
  platform: (s) => s.platform !== undefined,
  pull_policy: (s) => s.pull_policy !== undefined,
  runtime: (s) => s.runtime !== undefined,
  storage_opt: (s) => s.storage_opt !== undefined,
  uts: (s) => s.uts !== undefined,
  'deploy.resources.reservations.devices': (s) => (s.deploy?.resources.reservations?.devices?.length ?? 0) > 0,
  'deploy.resources.reservations.generic_resources': (s) => (s.deploy?.resources.reservations?.generic_resources?.length ?? 0) > 0,
};

const DEPRECATED: Record<string, { reason: string; used: (s: Service) => boolean }> = {
  container_name: { reason: 'Setting the container name is not supported.', used: (s) => s.container_name !== undefined },
  expose: {
    reason: "Exposing ports is unnecessary - services on the same network can access each other's containers on any port.",
    used: (s) => s.expose.length > 0,
  },
};

const RESOURCES = 'Set resource limits using deploy.resources';
const FORBIDDEN: Record<string, { reason: string; used: (s: Service) => boolean }> = {
  volumes_from: {
    reason:
      'To share a volume between services, define it using the top-level `volumes` option and reference it from each service that shares it using the service-level `volumes` option.',
    used: (s) => s.volumes_from.length > 0,
  },
  cpu_quota: { reason: RESOURCES, used: (s) => s.cpu_quota !== undefined },
  cpu_shares: { reason: RESOURCES, used: (s) => s.cpu_shares !== undefined },
  cpuset: { reason: RESOURCES, used: (s) => s.cpuset !== undefined },
  mem_limit: { reason: RESOURCES, used: (s) => s.mem_limit !== undefined },
  memswap_limit: { reason: RESOURCES, used: (s) => s.memswap_limit !== undefined },
};

/**
 * Checks a project for a stack: throws StackConvertError naming each forbidden key by service, and
 * returns the warnings to print (each a paragraph, as Docker prints them, without the final newline).
 */
export function stackWarnings(project: Project): string[] {
  const services = Object.values(project.services).sort((a, b) => compareStrings(a.name, b.name));
  const forbidden: ConvertProblem[] = [];
  for (const s of services)
    for (const [key, f] of Object.entries(FORBIDDEN)) if (f.used(s)) forbidden.push({ path: `services.${s.name}.${key}`, message: f.reason });
  if (forbidden.length > 0) throw new StackConvertError(forbidden);
  const out: string[] = [];
  const ignored = Object.keys(IGNORED)
    .filter((k) => services.some((s) => IGNORED[k]!(s)))
    .sort(compareStrings);
  if (ignored.length > 0) out.push(`Ignoring unsupported options: ${ignored.join(', ')}`);
  const deprecated = Object.entries(DEPRECATED)
    .filter(([, d]) => services.some((s) => d.used(s)))
    .map(([k, d]) => `${k}: ${d.reason}`)
    .sort(compareStrings);
  if (deprecated.length > 0) out.push(`Ignoring deprecated options:\n\n${deprecated.join('\n\n')}`);
  return out;
}
