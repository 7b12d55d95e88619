// `tsswarm run` / `tsswarm create`: the flag table and the pure translation of parsed flags into an
// Engine API create body, following the Docker CLI's rules, defaults and error texts. Files and the
// environment are reached through `RunFlagsIo` so tests need neither.
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { FlagError, type FlagSpec, type Parsed } from '../lib/flags.js';
import { parseDuration, ramInBytes } from '../lib/units.js';
import { lookupSignal } from '../lib/signals.js';
import { PortSpecError, parsePublish, type PortRequest } from '../api/ports.js';
import { isIpv4 as isIp } from '../lib/ipv4.js';
import { BindSpecError, cleanPath, parseBindSpec } from '../api/binds.js';
import type { ContainerCreateBody, HostConfig, Mount, PortBinding, Ulimit } from '../api/containers.js';

export const RUN_FLAGS: FlagSpec[] = [
  { name: 'detach', short: 'd', type: 'bool', description: 'Run container in background and print container ID' },
  { name: 'interactive', short: 'i', type: 'bool', description: 'Keep STDIN open even if not attached' },
  { name: 'tty', short: 't', type: 'bool', description: 'Allocate a pseudo-TTY' },
  { name: 'rm', type: 'bool', description: 'Automatically remove the container when it exits' },
  { name: 'name', type: 'string', description: 'Assign a name to the container' },
  { name: 'env', short: 'e', type: 'list', description: 'Set environment variables' },
  { name: 'env-file', type: 'list', description: 'Read in a file of environment variables' },
  { name: 'label', short: 'l', type: 'list', description: 'Set meta data on a container' },
  { name: 'label-file', type: 'list', description: 'Read in a line delimited file of labels' },
  { name: 'publish', short: 'p', type: 'list', description: "Publish a container's port(s) to the host" },
  { name: 'publish-all', short: 'P', type: 'bool', description: 'Publish all exposed ports to random ports' },
  { name: 'expose', type: 'list', description: 'Expose a port or a range of ports' },
  { name: 'volume', short: 'v', type: 'list', description: 'Bind mount a volume' },
  { name: 'mount', type: 'list', description: 'Attach a filesystem mount to the container' },
  { name: 'tmpfs', type: 'list', description: 'Mount a tmpfs directory' },
  { name: 'network', type: 'string', description: 'Connect a container to a network' },
  { name: 'net', type: 'string', description: 'Alias of --network' },
  { name: 'network-alias', type: 'list', description: 'Add network-scoped alias for the container' },
  { name: 'ip', type: 'string', description: 'IPv4 address (e.g., 172.30.100.104)' },
  { name: 'hostname', short: 'h', type: 'string', description: 'Container host name' },
  { name: 'workdir', short: 'w', type: 'string', description: 'Working directory inside the container' },
  { name: 'user', short: 'u', type: 'string', description: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { name: 'entrypoint', type: 'string', description: 'Overwrite the default ENTRYPOINT of the image' },
  { name: 'memory', short: 'm', type: 'string', description: 'Memory limit' },
  { name: 'memory-swap', type: 'string', description: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap" },
  { name: 'cpus', type: 'string', description: 'Number of CPUs' },
  { name: 'cpu-shares', short: 'c', type: 'int', description: 'CPU shares (relative weight)' },
  { name: 'cpuset-cpus', type: 'string', description: 'CPUs in which to allow execution (0-3, 0,1)' },
  { name: 'pids-limit', type: 'int', description: 'Tune container pids limit (set -1 for unlimited)' },
  { name: 'init', type: 'bool', description: 'Run an init inside the container that forwards signals and reaps processes' },
  { name: 'restart', type: 'string', description: 'Restart policy to apply when a container exits (default "no")' },
  { name: 'health-cmd', type: 'string', description: 'Command to run to check health' },
  { name: 'health-interval', type: 'string', description: 'Time between running the check (ms|s|m|h) (default 0s)' },
  { name: 'health-timeout', type: 'string', description: 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)' },
  { name: 'health-retries', type: 'int', description: 'Consecutive failures needed to report unhealthy' },
  { name: 'health-start-period', type: 'string', description: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)' },
  { name: 'health-start-interval', type: 'string', description: 'Time between running the check during the start period (ms|s|m|h) (default 0s)' },
  { name: 'no-healthcheck', type: 'bool', description: 'Disable any container-specified HEALTHCHECK' },
  { name: 'read-only', type: 'bool', description: "Mount the container's root filesystem as read only" },
  { name: 'cap-add', type: 'list', description: 'Add Linux capabilities' },
  { name: 'cap-drop', type: 'list', description: 'Drop Linux capabilities' },
  { name: 'privileged', type: 'bool', description: 'Give extended privileges to this container' },
  { name: 'security-opt', type: 'list', description: 'Security options (seccomp=unconfined|FILE, no-new-privileges[=true|false])' },
  { name: 'stop-signal', type: 'string', description: 'Signal to stop the container' },
  { name: 'stop-timeout', type: 'int', description: 'Timeout (in seconds) to stop a container' },
  { name: 'dns', type: 'list', description: 'Set custom DNS servers' },
  { name: 'add-host', type: 'list', description: 'Add a custom host-to-IP mapping (host:ip)' },
  { name: 'ulimit', type: 'list', description: 'Ulimit options' },
  { name: 'sysctl', type: 'list', description: 'Sysctl options' },
  { name: 'shm-size', type: 'string', description: 'Size of /dev/shm' },
];

/** `create` takes the same flags but -d, which only means something when the client starts the container. */
export const CREATE_FLAGS: FlagSpec[] = RUN_FLAGS.filter((f) => f.name !== 'detach');

export interface RunFlagsIo {
  readFile(path: string): string;
  /** Looks up a variable of the client's environment (for bare `-e KEY` and env-file lines). */
  lookupEnv(key: string): string | undefined;
  /** The client's working directory, for `-v ./dir:/x`. */
  cwd: string;
}

export const defaultRunFlagsIo = (): RunFlagsIo => ({
  readFile: (p) => readFileSync(p, 'utf8'),
  lookupEnv: (k) => process.env[k],
  cwd: process.cwd(),
});

export interface RunOptions {
  name?: string;
  image: string;
  body: ContainerCreateBody;
  detach: boolean;
  interactive: boolean;
  tty: boolean;
  rm: boolean;
}

const bad = (value: string, flag: string, why: string): FlagError =>
  new FlagError(`invalid argument "${value}" for "${flag}" flag: ${why}`);

const str = (p: Parsed, k: string): string | undefined => {
  const v = p.flags[k];
  return typeof v === 'string' ? v : undefined;
};
const list = (p: Parsed, k: string): string[] => {
  const v = p.flags[k];
  return Array.isArray(v) ? v : [];
};
const bool = (p: Parsed, k: string): boolean => p.flags[k] === true;
const num = (p: Parsed, k: string): number | undefined => {
  const v = p.flags[k];
  return typeof v === 'number' ? v : undefined;
};

/**
 * Builds the create request from parsed flags and positionals (`IMAGE [COMMAND] [ARG...]`).
 * `command` is used in the "requires at least 1 argument" message.
 */
export function buildRunOptions(p: Parsed, io: RunFlagsIo, command: 'run' | 'create' = 'run'): RunOptions {
  const [image, ...cmd] = p.args;
  if (image === undefined || image === '') {
    throw new FlagError(`"tsswarm ${command}" requires at least 1 argument.\nSee 'tsswarm ${command} --help'.\n\nUsage:  tsswarm ${command} [OPTIONS] IMAGE [COMMAND] [ARG...]`);
  }
  const detach = bool(p, 'detach');
  const interactive = bool(p, 'interactive');
  const tty = bool(p, 'tty');
  const rm = bool(p, 'rm');

  const body: ContainerCreateBody = { Image: image };
  const host: HostConfig = {};
  body.HostConfig = host;

  if (cmd.length > 0) body.Cmd = cmd;
  const ep = str(p, 'entrypoint');
  // An explicit empty --entrypoint clears the image's entrypoint; Docker sends [""] for that.
  if (ep !== undefined) body.Entrypoint = [ep];

  const hostname = str(p, 'hostname');
  if (hostname !== undefined) {
    if (!/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,61}[a-zA-Z0-9])?$/.test(hostname)) {
      throw bad(hostname, '-h, --hostname', 'not a valid RFC 1123 hostname (letters, digits, "-" and "."; at most 63 characters)');
    }
    // Docker splits "host.example.com" into Hostname and Domainname.
    const dot = hostname.indexOf('.');
    if (dot > 0) {
      body.Hostname = hostname.slice(0, dot);
      body.Domainname = hostname.slice(dot + 1);
    } else body.Hostname = hostname;
  }
  const wd = str(p, 'workdir');
  if (wd !== undefined) {
    if (!wd.startsWith('/')) throw bad(wd, '-w, --workdir', 'the working directory must be an absolute path');
    body.WorkingDir = wd;
  }
  const user = str(p, 'user');
  if (user !== undefined) body.User = user;

  // Attachment: what `docker run` asks for when not detached.
  body.AttachStdin = !detach && interactive;
  body.AttachStdout = !detach;
  body.AttachStderr = !detach;
  body.Tty = tty;
  body.OpenStdin = interactive;
  body.StdinOnce = interactive && !detach;

  const env = [...readKeyValueFiles(list(p, 'env-file'), '--env-file', io, true), ...list(p, 'env').flatMap((e) => validateEnv(e, io) ?? [])];
  if (env.length > 0) body.Env = env;

  const labels = parseLabels([...readKeyValueFiles(list(p, 'label-file'), '--label-file', io, false), ...list(p, 'label')]);
  if (Object.keys(labels).length > 0) body.Labels = labels;

  // Ports.
  const exposed: Record<string, Record<string, never>> = {};
  for (const e of list(p, 'expose')) for (const port of parseExpose(e)) exposed[port] = {};
  const bindings: Record<string, PortBinding[]> = {};
  for (const v of list(p, 'publish')) {
    for (const r of parsePublishFlag(v)) {
      const key = `${r.containerPort}/${r.proto}`;
      exposed[key] = {};
      (bindings[key] ??= []).push(toBinding(r));
    }
  }
  if (Object.keys(exposed).length > 0) body.ExposedPorts = exposed;
  if (Object.keys(bindings).length > 0) host.PortBindings = bindings;
  if (bool(p, 'publish-all')) host.PublishAllPorts = true;

  // Volumes and mounts.
  const binds: string[] = [];
  const anon: Record<string, Record<string, never>> = {};
  for (const v of list(p, 'volume')) {
    const spec = absolutiseBind(v, io.cwd);
    let parsed;
    try {
      parsed = parseBindSpec(spec);
    } catch (e) {
      if (e instanceof BindSpecError) throw bad(v, '-v, --volume', e.message.replace(/^invalid volume specification: '.*?': /, ''));
      throw e;
    }
    if (parsed.source === '') anon[parsed.target] = {};
    else binds.push(spec);
  }
  if (binds.length > 0) host.Binds = binds;
  if (Object.keys(anon).length > 0) body.Volumes = anon;
  const mounts = list(p, 'mount').map((m) => parseMountFlag(m, io.cwd));
  if (mounts.length > 0) host.Mounts = mounts;
  const tmpfs: Record<string, string> = {};
  for (const t of list(p, 'tmpfs')) {
    const [path, opts = ''] = splitOnce(t, ':');
    if (!path.startsWith('/')) throw bad(t, '--tmpfs', `invalid mount path: '${path}' mount path must be absolute (expected /PATH[:OPTIONS])`);
    tmpfs[path] = opts;
  }
  if (Object.keys(tmpfs).length > 0) host.Tmpfs = tmpfs;
  checkDuplicateTargets(binds, Object.keys(anon), mounts, Object.keys(tmpfs));

  // Networking.
  const netFlag = str(p, 'network') ?? str(p, 'net');
  host.NetworkMode = netFlag ?? 'default';
  const aliases = list(p, 'network-alias');
  const ip = str(p, 'ip');
  if (ip !== undefined && !isIp(ip)) throw bad(ip, '--ip', 'not an IPv4 address (expected e.g. 172.30.100.104)');
  if (aliases.length > 0 || ip !== undefined) {
    const net = host.NetworkMode;
    if (['default', 'bridge', 'host', 'none'].includes(net) || net.startsWith('container:')) {
      const which = aliases.length > 0 ? '--network-alias' : '--ip';
      throw new FlagError(`${which} is only supported for user-defined networks (got --network ${net}; create one with 'tsswarm network create')`);
    }
    body.NetworkingConfig = { EndpointsConfig: { [net]: {} } };
    const ep = body.NetworkingConfig.EndpointsConfig![net]!;
    if (aliases.length > 0) ep.Aliases = aliases;
    if (ip !== undefined) ep.IPAMConfig = { IPv4Address: ip };
  }
  const dns = list(p, 'dns');
  for (const d of dns) if (!isIp(d)) throw bad(d, '--dns', `${d} is not an ip address`);
  if (dns.length > 0) host.Dns = dns;
  const hosts = list(p, 'add-host').map(parseAddHost);
  if (hosts.length > 0) host.ExtraHosts = hosts;

  // Resources.
  const mem = str(p, 'memory');
  if (mem !== undefined) host.Memory = sizeFlag(mem, '-m, --memory');
  const swap = str(p, 'memory-swap');
  if (swap !== undefined) host.MemorySwap = swap === '-1' ? -1 : sizeFlag(swap, '--memory-swap');
  const cpus = str(p, 'cpus');
  if (cpus !== undefined) host.NanoCpus = parseCpus(cpus);
  const shares = num(p, 'cpu-shares');
  if (shares !== undefined) {
    if (shares < 0) throw bad(String(shares), '-c, --cpu-shares', 'must not be negative (expected e.g. 512; the default weight is 1024)');
    host.CpuShares = shares;
  }
  const cpuset = str(p, 'cpuset-cpus');
  if (cpuset !== undefined) {
    if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(cpuset)) throw bad(cpuset, '--cpuset-cpus', 'expected CPU numbers and ranges, e.g. 0-3 or 0,2');
    host.CpusetCpus = cpuset;
  }
  const pids = num(p, 'pids-limit');
  if (pids !== undefined) host.PidsLimit = pids;
  const shm = str(p, 'shm-size');
  if (shm !== undefined) host.ShmSize = sizeFlag(shm, '--shm-size');
  const ulimits = list(p, 'ulimit').map(parseUlimit);
  if (ulimits.length > 0) host.Ulimits = ulimits;
  const sysctls: Record<string, string> = {};
  for (const s of list(p, 'sysctl')) {
    const [k, v] = splitOnce(s, '=');
    if (k === '' || v === undefined) throw bad(s, '--sysctl', 'expected KEY=VALUE, e.g. net.ipv4.ip_forward=1');
    sysctls[k] = v;
  }
  if (Object.keys(sysctls).length > 0) host.Sysctls = sysctls;

  // Lifecycle.
  const restart = str(p, 'restart');
  if (restart !== undefined) host.RestartPolicy = parseRestart(restart);
  if (rm && host.RestartPolicy && host.RestartPolicy.Name !== 'no' && host.RestartPolicy.Name !== '') {
    throw new FlagError('conflicting options: cannot specify both --restart and --rm');
  }
  if (rm) host.AutoRemove = true;
  if (bool(p, 'init')) host.Init = true;
  if (bool(p, 'read-only')) host.ReadonlyRootfs = true;
  if (bool(p, 'privileged')) host.Privileged = true;
  const capAdd = list(p, 'cap-add');
  if (capAdd.length > 0) host.CapAdd = capAdd;
  const capDrop = list(p, 'cap-drop');
  if (capDrop.length > 0) host.CapDrop = capDrop;
  const securityOpts = list(p, 'security-opt').map((o) => securityOpt(o, io));
  if (securityOpts.length > 0) host.SecurityOpt = securityOpts;
  const sig = str(p, 'stop-signal');
  if (sig !== undefined) {
    if (lookupSignal(sig) === undefined) throw bad(sig, '--stop-signal', 'expected a signal name or number, e.g. SIGTERM or 15');
    body.StopSignal = sig;
  }
  const stopTimeout = num(p, 'stop-timeout');
  if (stopTimeout !== undefined) body.StopTimeout = stopTimeout;

  const hc = buildHealthcheck(p);
  if (hc) body.Healthcheck = hc;

  const name = str(p, 'name');
  const out: RunOptions = { image, body, detach, interactive, tty, rm };
  if (name !== undefined) out.name = name;
  return out;
}

// ---- env and labels ---------------------------------------------------------------------------

/** Docker's ValidateEnv: `KEY=VAL` as is; a bare `KEY` takes the client's value if it has one. */
/** A bare KEY takes the client's value; unset on the client it is left out (undefined), as Docker does. */
export function validateEnv(val: string, io: Pick<RunFlagsIo, 'lookupEnv'>): string | undefined {
  const [k, v] = splitOnce(val, '=');
  if (k === '') throw bad(val, '-e, --env', 'invalid environment variable: empty name (expected KEY=VALUE or KEY)');
  if (v !== undefined) return val;
  const fromEnv = io.lookupEnv(k);
  return fromEnv === undefined ? undefined : `${k}=${fromEnv}`;
}

/**
 * Docker's env-file/label-file format: one KEY=VALUE per line, taken literally (no quotes removed);
 * blank lines and `#` comments skipped; for env files a bare KEY takes the client's value or is dropped.
 */
export function parseKeyValueFile(text: string, file: string, flag: string, lookupEnv?: (k: string) => string | undefined): string[] {
  const out: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq >= 0) {
      const key = line.slice(0, eq);
      if (key === '') throw new FlagError(`invalid ${flag} file ${file}: no variable name on line ${i + 1} '${raw}' (expected KEY=VALUE)`);
      if (/\s/.test(key)) throw new FlagError(`invalid ${flag} file ${file}: variable '${key}' contains whitespaces (line ${i + 1})`);
      out.push(line);
      return;
    }
    const key = line.trim();
    if (/\s/.test(key)) throw new FlagError(`invalid ${flag} file ${file}: variable '${key}' contains whitespaces (line ${i + 1})`);
    if (!lookupEnv) {
      out.push(key);
      return;
    }
    const v = lookupEnv(key);
    if (v !== undefined) out.push(`${key}=${v}`);
  });
  return out;
}

/** As Docker's CLI: `seccomp=FILE` is read here and sent as the profile's JSON; the daemon checks the rest. */
function securityOpt(o: string, io: RunFlagsIo): string {
  const m = /^seccomp[=:](.+)$/.exec(o);
  if (!m || m[1] === 'unconfined' || m[1]!.trimStart().startsWith('{')) return o;
  let text: string;
  try {
    text = io.readFile(m[1]!);
  } catch (e) {
    throw bad(o, '--security-opt', `cannot read the seccomp profile: ${(e as Error).message}`);
  }
  try {
    return `seccomp=${JSON.stringify(JSON.parse(text))}`;
  } catch (e) {
    throw bad(o, '--security-opt', `the seccomp profile ${m[1]} is not JSON: ${(e as Error).message}`);
  }
}

function readKeyValueFiles(files: string[], flag: string, io: RunFlagsIo, fromEnv: boolean): string[] {
  const out: string[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = io.readFile(f);
    } catch (e) {
      throw bad(f, flag, `cannot read the file: ${(e as Error).message}`);
    }
    out.push(...parseKeyValueFile(text, f, flag, fromEnv ? io.lookupEnv : undefined));
  }
  return out;
}

function parseLabels(items: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of items) {
    const [k, v] = splitOnce(l, '=');
    if (k === '') throw bad(l, '-l, --label', 'empty label name (expected KEY=VALUE or KEY)');
    out[k] = v ?? '';
  }
  return out;
}

// ---- ports --------------------------------------------------------------------------------------

const PUBLISH_FORM = '[IP:][HOST[-RANGE]:]CONTAINER[-RANGE][/tcp|udp|sctp]';

function parsePublishFlag(v: string): PortRequest[] {
  try {
    return parsePublish(v);
  } catch (e) {
    if (!(e instanceof PortSpecError)) throw e;
    const why = e.message.startsWith(`invalid -p value "${v}": `) ? e.message.slice(`invalid -p value "${v}": `.length) : `${e.message} (expected ${PUBLISH_FORM})`;
    throw bad(v, '-p, --publish', why);
  }
}

function toBinding(r: PortRequest): PortBinding {
  const hostIp = r.hostIp === '0.0.0.0' ? '' : r.hostIp;
  const hostPort = r.hostPortMin === 0 ? '' : r.hostPortMin === r.hostPortMax ? String(r.hostPortMin) : `${r.hostPortMin}-${r.hostPortMax}`;
  return { HostIp: hostIp, HostPort: hostPort };
}

/** `--expose 80`, `80/udp`, `8000-8002` → "80/tcp" keys. */
export function parseExpose(v: string): string[] {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/i.exec(v);
  if (!m) throw bad(v, '--expose', 'expected PORT[-PORT][/tcp|udp|sctp], e.g. 80 or 8000-8010/udp');
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo < 1 || hi > 65535 || hi < lo) throw bad(v, '--expose', 'ports must be 1-65535 and a range must not end before it starts');
  const proto = (m[3] ?? 'tcp').toLowerCase();
  const out: string[] = [];
  for (let port = lo; port <= hi; port++) out.push(`${port}/${proto}`);
  return out;
}

// ---- mounts ---------------------------------------------------------------------------------------

/** The Docker CLI turns `./dir` and `.` host parts into absolute paths before sending. */
function absolutiseBind(v: string, cwd: string): string {
  const [hostPart, rest] = splitOnce(v, ':');
  if (rest === undefined) return v;
  if (hostPart === '.' || hostPart === '..' || hostPart.startsWith('./') || hostPart.startsWith('../')) {
    return `${resolvePath(cwd, hostPart)}:${rest}`;
  }
  return v;
}

const MOUNT_FORM = 'expected type=bind|volume|tmpfs,source=SRC,target=/PATH[,readonly][,tmpfs-size=SIZE]…';

/** `--mount type=…,source=…,target=…,readonly,…` (Docker's csv syntax). */
export function parseMountFlag(v: string, cwd = '/'): Mount {
  const fail = (why: string): never => {
    throw bad(v, '--mount', `${why} (${MOUNT_FORM})`);
  };
  let type: Mount['Type'] = 'volume';
  let source: string | undefined;
  let target: string | undefined;
  let readOnly: boolean | undefined;
  let propagation: string | undefined;
  let noCopy: boolean | undefined;
  const volLabels: Record<string, string> = {};
  const volOpts: Record<string, string> = {};
  let volDriver: string | undefined;
  let tmpfsSize: number | undefined;
  let tmpfsMode: number | undefined;
  const boolOf = (key: string, val: string | undefined): boolean => {
    if (val === undefined || ['1', 'true'].includes(val.toLowerCase())) return true;
    if (['0', 'false'].includes(val.toLowerCase())) return false;
    return fail(`invalid value for ${key}: ${val} (expected true or false)`);
  };
  for (const field of v.split(',')) {
    if (field === '') continue;
    const [rawKey, val] = splitOnce(field, '=');
    const key = rawKey.toLowerCase().trim();
    const need = (): string => (val === undefined || val === '' ? fail(`invalid field '${field}' must be a key=value pair`) : val);
    switch (key) {
      case 'type': {
        const t = need();
        if (t !== 'bind' && t !== 'volume' && t !== 'tmpfs') fail(`invalid mount type '${t}'`);
        type = t as Mount['Type'];
        break;
      }
      case 'source':
      case 'src':
        source = need();
        break;
      case 'target':
      case 'dst':
      case 'destination':
        target = need();
        break;
      case 'readonly':
      case 'ro':
        readOnly = boolOf(key, val);
        break;
      case 'bind-propagation':
        propagation = need();
        if (!['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'].includes(propagation)) fail(`invalid bind-propagation '${propagation}'`);
        break;
      case 'volume-nocopy':
        noCopy = boolOf(key, val);
        break;
      case 'volume-label': {
        const [lk, lv] = splitOnce(need(), '=');
        volLabels[lk] = lv ?? '';
        break;
      }
      case 'volume-driver':
        volDriver = need();
        break;
      case 'volume-opt': {
        const [ok, ov] = splitOnce(need(), '=');
        if (ov === undefined) fail(`invalid volume-opt '${val}' (expected volume-opt=KEY=VALUE)`);
        volOpts[ok] = ov!;
        break;
      }
      case 'tmpfs-size': {
        const s = need();
        try {
          tmpfsSize = ramInBytes(s);
        } catch {
          fail(`invalid value for tmpfs-size: ${s}`);
        }
        break;
      }
      case 'tmpfs-mode': {
        const s = need();
        if (!/^[0-7]{1,4}$/.test(s)) fail(`invalid value for tmpfs-mode: ${s} (expected octal, e.g. 1777)`);
        tmpfsMode = parseInt(s, 8);
        break;
      }
      case 'consistency':
        need();
        break;
      default:
        fail(`unexpected key '${rawKey}' in '${field}'`);
    }
  }
  if (target === undefined) fail('target is required');
  if (!target!.startsWith('/')) fail(`invalid mount path: '${target}' mount path must be absolute`);
  if (cleanPath(target!) === '/') fail(`invalid specification: destination can't be '/'`);
  const m: Mount = { Type: type, Target: target! };
  if (type === 'bind') {
    if (!source) fail('source is required for bind mounts');
    m.Source = source!.startsWith('/') ? source! : resolvePath(cwd, source!);
    if (propagation) m.BindOptions = { Propagation: propagation };
  } else if (propagation) fail('bind-propagation only applies to bind mounts');
  if (type === 'tmpfs') {
    if (source) fail('source is not allowed for tmpfs mounts');
    if (tmpfsSize !== undefined || tmpfsMode !== undefined) {
      m.TmpfsOptions = {};
      if (tmpfsSize !== undefined) m.TmpfsOptions.SizeBytes = tmpfsSize;
      if (tmpfsMode !== undefined) m.TmpfsOptions.Mode = tmpfsMode;
    }
  } else if (tmpfsSize !== undefined || tmpfsMode !== undefined) fail('tmpfs-size and tmpfs-mode only apply to tmpfs mounts');
  if (type === 'volume') {
    if (source !== undefined) m.Source = source;
    const hasOpts = noCopy !== undefined || Object.keys(volLabels).length > 0 || volDriver !== undefined || Object.keys(volOpts).length > 0;
    if (hasOpts) {
      m.VolumeOptions = {};
      if (noCopy !== undefined) m.VolumeOptions.NoCopy = noCopy;
      if (Object.keys(volLabels).length > 0) m.VolumeOptions.Labels = volLabels;
      if (volDriver !== undefined || Object.keys(volOpts).length > 0) {
        m.VolumeOptions.DriverConfig = { Name: volDriver ?? 'local' };
        if (Object.keys(volOpts).length > 0) m.VolumeOptions.DriverConfig.Options = volOpts;
      }
    }
  } else if (noCopy !== undefined || Object.keys(volLabels).length > 0 || volDriver !== undefined || Object.keys(volOpts).length > 0) {
    fail('volume-* options only apply to volume mounts');
  }
  if (readOnly) m.ReadOnly = true;
  return m;
}

function checkDuplicateTargets(binds: string[], anon: string[], mounts: Mount[], tmpfs: string[]): void {
  const seen = new Set<string>();
  const targets = [...binds.map((b) => parseBindSpec(b).target), ...anon, ...mounts.map((m) => cleanPath(m.Target)), ...tmpfs.map((t) => cleanPath(t))];
  for (const t of targets) {
    if (seen.has(t)) throw new FlagError(`Duplicate mount point: ${t} (each container path may be mounted once across -v, --mount and --tmpfs)`);
    seen.add(t);
  }
}

// ---- networking -----------------------------------------------------------------------------------

/** `--add-host name:ip` or `name=ip`; `host-gateway` is kept for the daemon to resolve. */
function parseAddHost(v: string): string {
  const sep = v.includes('=') ? '=' : ':';
  const [h, ip] = splitOnce(v, sep);
  if (h === '' || ip === undefined || ip === '') throw bad(v, '--add-host', `bad format for add-host: "${v}" (expected HOST:IP)`);
  if (ip !== 'host-gateway' && !isIp(ip)) throw bad(v, '--add-host', `invalid IP address in add-host: "${ip}" (expected HOST:IP or HOST:host-gateway)`);
  return `${h}:${ip}`;
}

// ---- resources ---------------------------------------------------------------------------------

export function sizeFlag(v: string, flag: string): number {
  try {
    return ramInBytes(v);
  } catch {
    throw bad(v, flag, 'expected a size such as 512m or 1.5g (units b, k, m, g)');
  }
}

/** `--cpus 1.5` → NanoCpus 1.5e9. */
export function parseCpus(v: string): number {
  if (!/^\d*\.?\d+$/.test(v.trim())) throw bad(v, '--cpus', `failed to parse ${v} as a rational number (expected e.g. 0.5 or 2)`);
  const n = Math.round(Number(v) * 1e9);
  if (n === 0 && Number(v) !== 0) throw bad(v, '--cpus', 'value is too precise (the smallest step is 0.000000001)');
  return n;
}

const ULIMITS = ['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack'];

/** `--ulimit nofile=1024[:2048]`. */
export function parseUlimit(v: string): Ulimit {
  const [name, limits] = splitOnce(v, '=');
  if (limits === undefined || limits === '') throw bad(v, '--ulimit', `invalid ulimit argument: ${v} (expected NAME=SOFT[:HARD])`);
  if (!ULIMITS.includes(name)) throw bad(v, '--ulimit', `invalid ulimit type: ${name} (expected one of ${ULIMITS.join(', ')})`);
  const [softText, hardText] = splitOnce(limits, ':');
  const toN = (t: string): number => {
    if (!/^-?\d+$/.test(t)) throw bad(v, '--ulimit', `invalid ulimit value: ${t} (expected an integer)`);
    return Number(t);
  };
  const soft = toN(softText);
  const hard = hardText === undefined ? soft : toN(hardText);
  if (soft > hard && hard !== -1) throw bad(v, '--ulimit', `ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: name, Soft: soft, Hard: hard };
}

// ---- lifecycle ---------------------------------------------------------------------------------

/** `--restart no|always|unless-stopped|on-failure[:N]`. */
export function parseRestart(v: string): { Name: 'no' | 'always' | 'unless-stopped' | 'on-failure'; MaximumRetryCount: number } {
  const [name, count] = splitOnce(v, ':');
  const form = 'expected no, always, unless-stopped or on-failure[:MAX-RETRIES]';
  switch (name) {
    case 'no':
    case 'always':
    case 'unless-stopped':
      if (count !== undefined) throw bad(v, '--restart', `maximum retry count can only be used with 'on-failure' (${form})`);
      return { Name: name, MaximumRetryCount: 0 };
    case 'on-failure': {
      if (count === undefined) return { Name: name, MaximumRetryCount: 0 };
      if (!/^\d+$/.test(count)) throw bad(v, '--restart', `maximum retry count must be a non-negative integer (${form})`);
      return { Name: name, MaximumRetryCount: Number(count) };
    }
    default:
      throw bad(v, '--restart', `invalid restart policy ${name} (${form})`);
  }
}

function buildHealthcheck(p: Parsed): ContainerCreateBody['Healthcheck'] {
  const dur = (k: string): number | undefined => {
    const v = str(p, k);
    if (v === undefined) return undefined;
    let ns: number;
    try {
      ns = parseDuration(v);
    } catch {
      throw bad(v, `--${k}`, 'expected a duration such as 30s, 1m30s or 500ms');
    }
    if (ns < 0) throw bad(v, `--${k}`, `--${k} cannot be negative`);
    return ns;
  };
  const cmd = str(p, 'health-cmd');
  const interval = dur('health-interval');
  const timeout = dur('health-timeout');
  const startPeriod = dur('health-start-period');
  const startInterval = dur('health-start-interval');
  const retries = num(p, 'health-retries');
  if (retries !== undefined && retries < 0) throw bad(String(retries), '--health-retries', '--health-retries cannot be negative');
  const any = cmd !== undefined || interval !== undefined || timeout !== undefined || startPeriod !== undefined || startInterval !== undefined || retries !== undefined;
  if (bool(p, 'no-healthcheck')) {
    if (any) throw new FlagError('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!any) return undefined;
  const hc: NonNullable<ContainerCreateBody['Healthcheck']> = {};
  if (cmd !== undefined) hc.Test = ['CMD-SHELL', cmd];
  if (interval !== undefined) hc.Interval = interval;
  if (timeout !== undefined) hc.Timeout = timeout;
  if (startPeriod !== undefined) hc.StartPeriod = startPeriod;
  if (startInterval !== undefined) hc.StartInterval = startInterval;
  if (retries !== undefined) hc.Retries = retries;
  return hc;
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + sep.length)];
}
