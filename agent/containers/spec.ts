// Turns a container record into the OCI spec the runtime runs: image config already merged at
// create, HostConfig → resources, capabilities and mounts, plus the files the engine bind-mounts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSpec, defaultSeccompProfile, parseSecurityOpts, tweakCapabilities, DEFAULT_CAPABILITIES, type Spec, type SpecMount, type SpecResources } from '../../runtime/index.js';
import type { ContainerRecord } from './record.js';

export interface SpecInputs {
  /** Image layer dirs, top first. */
  lowerDirs: string[];
  /** Per-container dir: hosts, hostname, resolv.conf live here. */
  dir: string;
  /** "host", a netns path to join, or undefined for a new one. */
  netns?: string;
  /** The cgroup containers go under (default "tsswarm"). */
  cgroupParent?: string;
}

/** Docker's ulimit names ("nofile") to OCI's ("RLIMIT_NOFILE"). */
const rlimitName = (n: string): string => `RLIMIT_${n.toUpperCase()}`;

/** Where a container's cgroup lives (relative to each hierarchy); start-up reconciliation sweeps it too. */
/** A container's cgroup, under the daemon's --cgroup-parent (default "tsswarm"). */
export const cgroupPathOfContainer = (id: string, parent = 'tsswarm'): string => `${parent}/${id}`;

/** HostConfig's limits in runtime-spec terms (linux.resources); also what `update` applies live. */
export function specResources(h: ContainerRecord['HostConfig']): SpecResources {
  const resources: SpecResources = {};
  if (h.Memory) resources.memory = { limit: h.Memory, ...(h.MemorySwap ? { swap: h.MemorySwap } : {}), ...(h.MemoryReservation ? { reservation: h.MemoryReservation } : {}) };
  const period = h.CpuPeriod || 100_000;
  if (h.NanoCpus || h.CpuShares || h.CpuQuota || h.CpusetCpus) {
    resources.cpu = {
      ...(h.CpuShares ? { shares: h.CpuShares } : {}),
      ...(h.NanoCpus ? { quota: Math.round((h.NanoCpus * period) / 1e9), period } : {}),
      ...(h.CpuQuota ? { quota: h.CpuQuota, period } : {}),
      ...(h.CpusetCpus ? { cpus: h.CpusetCpus } : {}),
    };
  }
  if (h.PidsLimit !== undefined && h.PidsLimit !== 0) resources.pids = { limit: h.PidsLimit };
  return resources;
}

export function containerSpec(c: ContainerRecord, inp: SpecInputs): Spec {
  const h = c.HostConfig;
  const user = resolveUser(c.Config.User, inp.lowerDirs);
  const resources = specResources(h);

  const mounts: SpecMount[] = [];
  const shm = h.ShmSize ? `size=${Math.floor(h.ShmSize / 1024)}k` : undefined;
  for (const m of c.Mounts) {
    if (m.Type === 'tmpfs') {
      mounts.push({ destination: m.Destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', ...(m.Options ?? [])] });
    } else {
      const prop = m.Propagation || 'rprivate';
      mounts.push({ destination: m.Destination, type: 'bind', source: m.Source, options: ['rbind', prop, m.RW ? 'rw' : 'ro'] });
    }
  }
  const files: [string, string][] = [['/etc/hostname', 'hostname']];
  // With the host's network the host's /etc/hosts applies, read-only, as Docker does.
  if (inp.netns === 'host') {
    if (!c.Mounts.some((m) => m.Destination === '/etc/hosts')) mounts.push({ destination: '/etc/hosts', type: 'bind', source: '/etc/hosts', options: ['rbind', 'rprivate', 'ro'] });
  } else files.push(['/etc/hosts', 'hosts']);
  files.push(['/etc/resolv.conf', 'resolv.conf']);
  const covered = new Set(c.Mounts.map((m) => m.Destination));
  for (const [dest, file] of files) {
    if (!covered.has(dest)) mounts.push({ destination: dest, type: 'bind', source: join(inp.dir, file), options: ['rbind', 'rprivate'] });
  }

  const spec = buildSpec({
    args: [...(c.Config.Entrypoint ?? []), ...c.Config.Cmd],
    env: c.Config.Env,
    cwd: c.Config.WorkingDir || '/',
    user,
    hostname: c.Config.Hostname,
    rootPath: join(inp.dir, 'rootfs'),
    readonlyRootfs: h.ReadonlyRootfs ?? false,
    capabilities: tweakCapabilities(DEFAULT_CAPABILITIES, h.CapAdd ?? [], h.CapDrop ?? []),
    privileged: h.Privileged ?? false,
    mounts,
    ...(inp.netns ? { netns: inp.netns } : {}),
    cgroupsPath: cgroupPathOfContainer(c.Id, inp.cgroupParent),
    resources,
    ...(h.Ulimits?.length ? { rlimits: h.Ulimits.map((u) => ({ type: rlimitName(u.Name), soft: u.Soft, hard: u.Hard })) } : {}),
    ...(h.Sysctls && Object.keys(h.Sysctls).length ? { sysctl: h.Sysctls } : {}),
  });
  if (shm) {
    const m = spec.mounts?.find((x) => x.destination === '/dev/shm');
    if (m) m.options = (m.options ?? []).map((o) => (o.startsWith('size=') ? shm : o));
  }
  if (c.Config.Domainname) spec.domainname = c.Config.Domainname;
  // Validated at create (checkCreateBody), so a throw here means a record from before that check.
  const sec = parseSecurityOpts(h.SecurityOpt ?? []);
  if (sec.noNewPrivileges) spec.process!.noNewPrivileges = true;
  // As Docker: a privileged container runs unconfined.
  if (!h.Privileged && sec.seccomp !== 'unconfined') {
    spec.linux!.seccomp = sec.seccomp === 'default' ? defaultSeccompProfile(spec.process!.capabilities?.bounding ?? []) : sec.seccomp;
  }
  return spec;
}

/** Parses the image's /etc/passwd or /etc/group from the first layer that has it. */
function readImageFile(lowerDirs: string[], path: string): string {
  for (const d of lowerDirs) {
    try {
      return readFileSync(join(d, path), 'utf8');
    } catch {
      // Not in this layer (or deleted by a whiteout we do not model): look lower.
    }
  }
  return '';
}

/**
 * Docker's `--user name|uid[:group|gid]`: names are looked up in the image's /etc/passwd and
 * /etc/group; a bare uid takes its primary group from passwd when listed there, else gid 0.
 */
export function resolveUser(spec: string, lowerDirs: string[]): { uid: number; gid: number } {
  if (!spec) return { uid: 0, gid: 0 };
  const [u, g] = spec.split(':', 2) as [string, string | undefined];
  const passwd = readImageFile(lowerDirs, 'etc/passwd')
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 4);
  let uid: number;
  let gid = 0;
  const byName = passwd.find((f) => f[0] === u);
  if (/^\d+$/.test(u)) {
    uid = Number(u);
    const e = passwd.find((f) => f[2] === u);
    if (e) gid = Number(e[3]);
  } else if (byName) {
    uid = Number(byName[2]);
    gid = Number(byName[3]);
  } else {
    throw new Error(`unable to find user ${u}: no matching entries in passwd file`);
  }
  if (g !== undefined && g !== '') {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const grp = readImageFile(lowerDirs, 'etc/group')
        .split('\n')
        .map((l) => l.split(':'))
        .find((f) => f[0] === g);
      if (!grp) throw new Error(`unable to find group ${g}: no matching entries in group file`);
      gid = Number(grp[2]);
    }
  }
  return { uid, gid };
}
