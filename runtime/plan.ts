// Pure: turns a validated OCI spec into the flat plan tsbox executes. tsbox parses no JSON, so every
// decision that can be made up front (flags, masks, paths, order of mounts) is made here and tested.
//
// Wire format: a sequence of NUL-terminated strings. Each directive is a key followed by a fixed number
// of arguments (ARITY). tsbox refuses keys it does not know, so a stale binary fails loudly.
import { isAbsolute, join, posix, resolve } from 'node:path';
import { capMask, splitAmbient } from './caps.js';
import { compileSeccomp, SeccompCompileError } from './seccomp/bpf.js';
import { seccompSchema } from './seccomp/schema.js';
import { RLIMITS, SpecError, type Spec } from './spec.js';

export const ARITY = {
  version: 1,
  id: 1,
  statedir: 1,
  ns: 2, // type ("pid","mnt","uts","ipc","net","cgroup","user"), path ("" = new)
  uidmap: 3, // container host size
  gidmap: 3,
  cgproc: 1, // a cgroup.procs (or tasks) file to write the child's pid into before it continues
  rootfs: 1,
  overlay: 3, // lowerdir (colon-separated, top first), upperdir, workdir
  rootprop: 1, // mount flags for "/" in the new mount namespace
  mount: 6, // source, destination (in the container), fstype, flags, propagation flags, data
  device: 8, // path, type (c|b|u|p), major, minor, mode, uid, gid, bind (1 = bind the host's node)
  symlink: 2, // target, link path (in the container)
  mask: 1,
  rdonly: 1,
  readonly: 1, // 1 = remount the root read-only after pivot_root
  hostname: 1,
  domainname: 1,
  sysctl: 2,
  rlimit: 3, // resource number, soft, hard ("-1" = infinity)
  cap: 2, // set (b,e,p,i,a), hex mask
  nnp: 1,
  uid: 1,
  gid: 1,
  addgid: 1,
  umask: 1,
  cwd: 1,
  env: 1,
  arg: 1,
  oomscore: 1,
  init: 1,
  stdio: 1, // "inherit": the container gets tsbox's fds 0-2; "log": the monitor logs stdout/stderr
  stdin: 1, // "null", "inherit" (tsbox's fd 0), "monitor" (a pipe the monitor feeds from attach clients), or an inherited fd number
  log: 1, // log file path (stdio "log")
  lo: 1, // 1 = bring up loopback in a new network namespace
  pid: 1, // exec: the container's init pid whose namespaces to join
  terminal: 1, // 1 = a pty of the container's devpts is the process's controlling terminal and stdio
  winsize: 2, // rows, cols of that terminal at the start
  attach: 1, // path of the monitor's attach socket (see tsbox.c)
  stdinonce: 1, // 1 = close stdin when the first attach client that wrote to it goes away
  seccomp: 2, // SECCOMP_FILTER_FLAG_* (decimal), struct sock_filter[] (hex); installed just before execve
  console: 1, // unix socket the terminal's pty master is sent to (runc's --console-socket); needs terminal 1
} as const satisfies Record<string, number>;

export type PlanKey = keyof typeof ARITY;
export type Directive = [PlanKey, ...string[]];

export const PLAN_VERSION = '1';

export function encodePlan(directives: readonly Directive[]): Buffer {
  const parts: string[] = [];
  for (const [key, ...args] of directives) {
    if (args.length !== ARITY[key]) throw new Error(`plan: ${key} takes ${ARITY[key]} arguments, got ${args.length}`);
    for (const s of [key, ...args]) {
      if (s.includes('\0')) throw new Error(`plan: ${key}: NUL byte in ${JSON.stringify(s)}`);
      parts.push(s);
    }
  }
  return Buffer.from(parts.join('\0') + '\0');
}

export function decodePlan(buf: Buffer): Directive[] {
  const tokens = buf.toString().split('\0');
  if (tokens.at(-1) === '') tokens.pop();
  const out: Directive[] = [];
  for (let i = 0; i < tokens.length; ) {
    const key = tokens[i] as PlanKey;
    const n = ARITY[key];
    if (n === undefined) throw new Error(`plan: unknown key ${JSON.stringify(key)}`);
    out.push([key, ...tokens.slice(i + 1, i + 1 + n)]);
    i += 1 + n;
  }
  return out;
}

// ---- mount flags (include/uapi/linux/mount.h) ----

export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOSYMFOLLOW: 256,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  MOVE: 8192,
  REC: 16384,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  STRICTATIME: 1 << 24,
} as const;

/** [set, clear] per option, as runc's parseMountOptions. */
const FLAG_OPTIONS: Record<string, [number, number]> = {
  async: [0, MS.SYNCHRONOUS],
  atime: [0, MS.NOATIME],
  bind: [MS.BIND, 0],
  defaults: [0, 0],
  dev: [0, MS.NODEV],
  diratime: [0, MS.NODIRATIME],
  dirsync: [MS.DIRSYNC, 0],
  exec: [0, MS.NOEXEC],
  mand: [MS.MANDLOCK, 0],
  noatime: [MS.NOATIME, 0],
  nodev: [MS.NODEV, 0],
  nodiratime: [MS.NODIRATIME, 0],
  noexec: [MS.NOEXEC, 0],
  nomand: [0, MS.MANDLOCK],
  norelatime: [0, MS.RELATIME],
  nostrictatime: [0, MS.STRICTATIME],
  nosuid: [MS.NOSUID, 0],
  nosymfollow: [MS.NOSYMFOLLOW, 0],
  rbind: [MS.BIND | MS.REC, 0],
  relatime: [MS.RELATIME, 0],
  remount: [MS.REMOUNT, 0],
  ro: [MS.RDONLY, 0],
  rw: [0, MS.RDONLY],
  strictatime: [MS.STRICTATIME, 0],
  suid: [0, MS.NOSUID],
  sync: [MS.SYNCHRONOUS, 0],
};

const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** runc-specific options that are not kernel mount options; accepted and ignored. */
const IGNORED_OPTIONS = new Set(['tmpcopyup', 'idmap', 'ridmap']);

export interface ParsedMountOptions {
  flags: number;
  propagation: number;
  data: string;
}

export function parseMountOptions(options: readonly string[] = []): ParsedMountOptions {
  let flags = 0;
  let propagation = 0;
  const data: string[] = [];
  for (const o of options) {
    const f = FLAG_OPTIONS[o];
    if (f) {
      flags = (flags | f[0]) & ~f[1];
    } else if (o in PROPAGATION) {
      propagation = PROPAGATION[o]!;
    } else if (!IGNORED_OPTIONS.has(o)) {
      data.push(o);
    }
  }
  return { flags, propagation, data: data.join(',') };
}

// ---- host facts the plan depends on (gathered by the driver, passed in to keep this pure) ----

export interface CgroupMount {
  /** Host mount point, e.g. /sys/fs/cgroup/memory. */
  mountpoint: string;
  type: 'cgroup' | 'cgroup2';
  /** Super options without rw/ro, e.g. "memory", "cpu,cpuacct", "name=systemd". */
  options: string;
}

export interface HostInfo {
  /** cgroup hierarchies mounted on the host, under cgroupRoot. */
  cgroupMounts: CgroupMount[];
  cgroupRoot: string;
  /** Whether /proc/kcore exists (runc links /dev/core to it). */
  hasKcore: boolean;
}

export interface PlanContext {
  id: string;
  stateDir: string;
  bundle: string;
  /** Overlay root: lower[0] is the top-most layer (overlayfs lowerdir order). */
  overlay?: { lower: string[]; upper: string; work: string };
  /** Files to write the init's pid into (CgroupManager.procsFiles). */
  cgroupProcs: string[];
  host: HostInfo;
  stdio: 'inherit' | 'log';
  /** A number: that inherited fd of tsbox becomes the container's stdin; "monitor": a pipe fed from attach clients. */
  stdin?: 'null' | 'inherit' | 'monitor' | number;
  logPath?: string;
  /** The monitor's attach socket. */
  attach?: string;
  /** With a terminal: the pty master goes to this unix socket and nobody here holds it (runc's --console-socket). */
  consoleSocket?: string;
  stdinOnce?: boolean;
  init?: boolean;
}

const NS_KEYS: Record<string, string> = {
  pid: 'pid',
  network: 'net',
  mount: 'mnt',
  ipc: 'ipc',
  uts: 'uts',
  user: 'user',
  cgroup: 'cgroup',
};

export const DEFAULT_DEVICES: readonly { path: string; major: number; minor: number }[] = [
  { path: '/dev/null', major: 1, minor: 3 },
  { path: '/dev/zero', major: 1, minor: 5 },
  { path: '/dev/full', major: 1, minor: 7 },
  { path: '/dev/tty', major: 5, minor: 0 },
  { path: '/dev/urandom', major: 1, minor: 9 },
  { path: '/dev/random', major: 1, minor: 8 },
];

export function rootfsPath(spec: Spec, bundle: string): string {
  return isAbsolute(spec.root.path) ? spec.root.path : resolve(bundle, spec.root.path);
}

function checkPlanPath(field: string, p: string): void {
  if (!isAbsolute(p)) throw new SpecError(field, `must be an absolute path, got ${JSON.stringify(p)}`);
  if (/[,:]/.test(p)) throw new SpecError(field, `overlay paths cannot contain "," or ":": ${JSON.stringify(p)}`);
}

/** Directives that create the container: namespaces, root, mounts, process. */
export function buildCreatePlan(spec: Spec, ctx: PlanContext): Directive[] {
  const d: Directive[] = [['version', PLAN_VERSION], ['id', ctx.id], ['statedir', ctx.stateDir]];
  const proc = spec.process;
  if (!proc) throw new SpecError('process', 'required to create a container');
  const linux = spec.linux ?? {};
  // Refused rather than ignored: a caller relying on them would get something else than it asked for.
  // The monitor holds a terminal's master, or hands it to a console socket; with inherited stdio and
  // no socket nobody would.
  if (ctx.consoleSocket !== undefined) {
    if (!proc.terminal) throw new SpecError('process.terminal', 'a console socket needs "terminal": true (without a terminal there is no pty master to send)');
    if (ctx.stdio === 'log') throw new SpecError('process.terminal', 'a console socket takes the terminal: its output cannot also be logged');
    if (!isAbsolute(ctx.consoleSocket)) throw new SpecError('--console-socket', `must be an absolute path, got ${JSON.stringify(ctx.consoleSocket)}`);
  } else if (proc.terminal && ctx.stdio !== 'log') {
    throw new SpecError('process.terminal', 'a terminal needs logged stdio (the monitor holds the pty; attach to it through the attach socket) or a console socket (--console-socket)');
  }
  for (const [kind, hooks] of Object.entries(spec.hooks ?? {})) {
    if (hooks.length) throw new SpecError(`hooks.${kind}`, 'hooks are not supported');
  }

  const namespaces = linux.namespaces ?? [];
  let newNet = false;
  let newUser = false;
  namespaces.forEach((ns, i) => {
    const key = NS_KEYS[ns.type];
    if (!key) throw new SpecError(`linux.namespaces[${i}].type`, `namespace ${JSON.stringify(ns.type)} is not supported`);
    if (ns.path !== undefined && ns.path !== '' && !isAbsolute(ns.path)) {
      throw new SpecError(`linux.namespaces[${i}].path`, `must be an absolute path, got ${JSON.stringify(ns.path)}`);
    }
    d.push(['ns', key, ns.path ?? '']);
    if (key === 'net' && !ns.path) newNet = true;
    if (key === 'user' && !ns.path) newUser = true;
  });
  // Absent namespaces are inherited (runtime-spec); without a mount namespace the process stays in
  // ours with our root, as under runc, so anything that would mount is refused rather than applied here.
  const hasMountNs = namespaces.some((n) => n.type === 'mount');
  if (!hasMountNs) {
    const needs = (field: string) => new SpecError(field, 'needs a mount namespace (linux.namespaces has no "mount"); remove it or add {"type":"mount"}');
    if (spec.mounts?.length) throw needs('mounts');
    if (linux.maskedPaths?.length) throw needs('linux.maskedPaths');
    if (linux.readonlyPaths?.length) throw needs('linux.readonlyPaths');
    if (linux.devices?.length) throw needs('linux.devices');
    if (spec.root.readonly) throw needs('root.readonly');
    if (ctx.overlay) throw needs('rootfs (overlay)');
  }
  const hasCgroupNs = namespaces.some((n) => n.type === 'cgroup');
  for (const m of linux.uidMappings ?? []) d.push(['uidmap', String(m.containerID), String(m.hostID), String(m.size)]);
  for (const m of linux.gidMappings ?? []) d.push(['gidmap', String(m.containerID), String(m.hostID), String(m.size)]);
  for (const f of ctx.cgroupProcs) d.push(['cgproc', f]);
  if (newNet) d.push(['lo', '1']);

  // Root.
  d.push(['rootfs', rootfsPath(spec, ctx.bundle)]);
  if (ctx.overlay) {
    const { lower, upper, work } = ctx.overlay;
    if (!lower.length) throw new SpecError('rootfs.lower', 'needs at least one lower directory');
    lower.forEach((p, i) => checkPlanPath(`rootfs.lower[${i}]`, p));
    checkPlanPath('rootfs.upper', upper);
    checkPlanPath('rootfs.work', work);
    const data = `lowerdir=${lower.join(':')},upperdir=${upper},workdir=${work}`;
    // The kernel takes at most one page of mount data.
    if (data.length > 4000) throw new SpecError('rootfs.lower', `overlay options too long (${data.length} bytes > 4000)`);
    d.push(['overlay', lower.join(':'), upper, work]);
  }
  const prop = linux.rootfsPropagation ? PROPAGATION[linux.rootfsPropagation]! : MS.SLAVE | MS.REC;
  d.push(['rootprop', String(prop)]);

  // Mounts, in order; then /dev contents (unless /dev is a bind of something the user provides).
  const mounts = spec.mounts ?? [];
  let devIsBind = false;
  mounts.forEach((m, i) => {
    const field = `mounts[${i}]`;
    const opts = parseMountOptions(m.options);
    const isBind = m.type === 'bind' || m.type === 'rbind' || (opts.flags & MS.BIND) !== 0;
    const dest = posix.normalize(m.destination);
    if (dest === '/dev' && isBind) devIsBind = true;
    if (isBind) {
      if (!m.source) throw new SpecError(`${field}.source`, 'a bind mount needs a source');
      const src = isAbsolute(m.source) ? m.source : resolve(ctx.bundle, m.source);
      let flags = opts.flags | MS.BIND;
      if (m.type === 'rbind') flags |= MS.REC;
      d.push(['mount', src, dest, 'bind', String(flags), String(opts.propagation), '']);
      return;
    }
    if (m.type === 'cgroup') {
      d.push(...cgroupMount(dest, opts, ctx, hasCgroupNs));
      return;
    }
    if (!m.type || m.type === 'none') throw new SpecError(`${field}.type`, 'required for a mount that is not a bind mount');
    d.push(['mount', m.source ?? m.type, dest, m.type, String(opts.flags), String(opts.propagation), opts.data]);
  });

  if (hasMountNs && !devIsBind) {
    const devices = [
      ...DEFAULT_DEVICES.map((x) => ({ ...x, type: 'c', fileMode: 0o666, uid: 0, gid: 0 })),
      ...(linux.devices ?? []),
    ];
    const seen = new Set<string>();
    devices.forEach((dev, i) => {
      if (seen.has(dev.path)) return;
      seen.add(dev.path);
      if (!dev.path.startsWith('/dev/')) throw new SpecError(`linux.devices[${i}].path`, `must be under /dev, got ${JSON.stringify(dev.path)}`);
      d.push([
        'device',
        posix.normalize(dev.path),
        dev.type,
        String(dev.major ?? 0),
        String(dev.minor ?? 0),
        String(dev.fileMode ?? 0o666),
        String(dev.uid ?? 0),
        String(dev.gid ?? 0),
        newUser ? '1' : '0',
      ]);
    });
    const links: [string, string][] = [
      ['/proc/self/fd', '/dev/fd'],
      ['/proc/self/fd/0', '/dev/stdin'],
      ['/proc/self/fd/1', '/dev/stdout'],
      ['/proc/self/fd/2', '/dev/stderr'],
    ];
    if (ctx.host.hasKcore) links.push(['/proc/kcore', '/dev/core']);
    if (mounts.some((m) => posix.normalize(m.destination) === '/dev/pts')) links.push(['pts/ptmx', '/dev/ptmx']);
    for (const [target, link] of links) d.push(['symlink', target, link]);
  }

  for (const p of linux.maskedPaths ?? []) d.push(['mask', p]);
  for (const p of linux.readonlyPaths ?? []) d.push(['rdonly', p]);
  if (spec.root.readonly) d.push(['readonly', '1']);
  if (spec.hostname !== undefined && spec.hostname !== '') d.push(['hostname', spec.hostname]);
  if (spec.domainname) d.push(['domainname', spec.domainname]);
  for (const [k, v] of Object.entries(linux.sysctl ?? {})) {
    if (!/^[a-zA-Z0-9_.\-/]+$/.test(k) || k.includes('..')) throw new SpecError(`linux.sysctl.${k}`, 'not a valid sysctl name');
    d.push(['sysctl', k, v]);
  }
  if (proc.oomScoreAdj !== undefined) d.push(['oomscore', String(proc.oomScoreAdj)]);
  d.push(...processDirectives(spec));
  d.push(['stdio', ctx.stdio], ['stdin', String(ctx.stdin ?? (ctx.stdio === 'inherit' ? 'inherit' : 'null'))]);
  if (ctx.stdio === 'log') {
    if (!ctx.logPath) throw new Error('plan: stdio "log" needs a log path');
    d.push(['log', ctx.logPath]);
  }
  if (ctx.attach) d.push(['attach', ctx.attach]);
  if (ctx.consoleSocket) d.push(['console', ctx.consoleSocket]);
  if (ctx.stdinOnce) d.push(['stdinonce', '1']);
  if (ctx.init) d.push(['init', '1']);
  d.push(...seccompDirectives(linux.seccomp));
  return d;
}

/** `linux.seccomp` compiled to BPF; the spec keeps it `unknown` so the message can name the field. */
export function seccompDirectives(section: unknown): Directive[] {
  if (section === undefined || section === null) return [];
  const parsed = seccompSchema.safeParse(section);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = ['linux', 'seccomp', ...issue.path].map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
    throw new SpecError(path, issue.message);
  }
  try {
    const { program, flags } = compileSeccomp(parsed.data);
    return [['seccomp', String(flags), program.toString('hex')]];
  } catch (e) {
    if (e instanceof SeccompCompileError) throw new SpecError(e.field, e.message.slice(e.field.length + 2));
    throw e;
  }
}

/** Process identity, capabilities, limits, environment and command: shared by create and exec. */
export function processDirectives(spec: Pick<Spec, 'process'>): Directive[] {
  const proc = spec.process;
  if (!proc) throw new SpecError('process', 'required');
  const d: Directive[] = [];
  for (const r of proc.rlimits ?? []) d.push(['rlimit', String(RLIMITS[r.type]), String(r.soft), String(r.hard)]);
  const caps = proc.capabilities ?? {};
  const sets: [string, string[] | undefined][] = [
    ['b', caps.bounding],
    ['e', caps.effective],
    ['p', caps.permitted],
    ['i', caps.inheritable],
    ['a', splitAmbient(caps).keep],
  ];
  for (const [set, names] of sets) d.push(['cap', set, capMask(names ?? []).toString(16)]);
  if (proc.noNewPrivileges) d.push(['nnp', '1']);
  d.push(['uid', String(proc.user.uid)], ['gid', String(proc.user.gid)]);
  for (const g of proc.user.additionalGids ?? []) d.push(['addgid', String(g)]);
  d.push(['umask', String(proc.user.umask ?? 0o022)]);
  d.push(['cwd', proc.cwd]);
  for (const e of proc.env ?? []) d.push(['env', e]);
  for (const a of proc.args) d.push(['arg', a]);
  if (proc.terminal) {
    d.push(['terminal', '1']);
    if (proc.consoleSize) d.push(['winsize', String(proc.consoleSize.height), String(proc.consoleSize.width)]);
  }
  return d;
}

function cgroupMount(dest: string, opts: ParsedMountOptions, ctx: PlanContext, cgroupNs: boolean): Directive[] {
  const d: Directive[] = [];
  const flags = opts.flags & ~MS.RDONLY;
  const v2 = ctx.host.cgroupMounts.find((m) => m.type === 'cgroup2' && m.mountpoint === ctx.host.cgroupRoot);
  if (v2) {
    // Pure v2: one cgroup2 mount; with a cgroup namespace it shows the container's own subtree.
    if (cgroupNs) return [['mount', 'cgroup', dest, 'cgroup2', String(opts.flags), '0', '']];
    const own = ctx.cgroupProcs.find((f) => f.startsWith(v2.mountpoint + '/'));
    return own ? [['mount', posix.dirname(own), dest, 'bind', String(opts.flags | MS.BIND), '0', '']] : [];
  }
  // v1 (or hybrid): a tmpfs holding one mount per hierarchy, made read-only at the end like runc.
  d.push(['mount', 'tmpfs', dest, 'tmpfs', String(flags), '0', 'mode=755']);
  for (const m of ctx.host.cgroupMounts) {
    // On a hybrid host the (empty) unified hierarchy is left out, as runc does.
    if (!m.mountpoint.startsWith(ctx.host.cgroupRoot + '/') || m.type !== 'cgroup') continue;
    const rel = m.mountpoint.slice(ctx.host.cgroupRoot.length + 1);
    const target = join(dest, rel);
    if (cgroupNs) {
      // Named hierarchies ("name=systemd") show their name as the source, as under runc.
      const source = /(?:^|,)name=([^,]+)/.exec(m.options)?.[1] ?? 'cgroup';
      d.push(['mount', source, target, 'cgroup', String(opts.flags), '0', m.options]);
    } else {
      const own = ctx.cgroupProcs.find((f) => f.startsWith(m.mountpoint + '/'));
      if (!own) continue;
      d.push(['mount', posix.dirname(own), target, 'bind', String(opts.flags | MS.BIND), '0', '']);
    }
    // Co-mounted controllers ("cpu,cpuacct") get a link per controller, as on the host.
    if (rel.includes(',')) {
      for (const c of rel.split(',')) d.push(['symlink', rel, join(dest, c)]);
    }
  }
  if (opts.flags & MS.RDONLY) {
    d.push(['mount', '', dest, '', String(MS.REMOUNT | MS.RDONLY | flags), '0', '']);
  }
  return d;
}

/** Directives for `tsbox exec`: join the namespaces of pid, its cgroup, and run process. */
export function buildExecPlan(
  spec: Pick<Spec, 'process'>,
  ctx: { pid: number; namespaces: string[]; cgroupProcs: string[] },
): Directive[] {
  const d: Directive[] = [['version', PLAN_VERSION], ['pid', String(ctx.pid)]];
  for (const ns of ctx.namespaces) d.push(['ns', ns, `/proc/${ctx.pid}/ns/${ns}`]);
  for (const f of ctx.cgroupProcs) d.push(['cgproc', f]);
  d.push(...processDirectives(spec));
  return d;
}

/** Parses /proc/self/mountinfo text into the cgroup mounts the plan needs. */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const [fstype, , superOpts = ''] = line.slice(sep + 3).split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const mountpoint = left[4]!.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    const options = superOpts
      .split(',')
      .filter((o) => o !== 'rw' && o !== 'ro')
      .join(',');
    out.push({ mountpoint, type: fstype, options });
  }
  return out;
}
