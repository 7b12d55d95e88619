// A multi-node test bed on one machine (design.md §7): each node is a network namespace with its own
// address on an underlay bridge (which lives in a namespace of its own), its own hostname (a UTS
// namespace), data root, exec root and socket, and a daemon started inside those namespaces.
//
// Daemons enter only the net and UTS namespaces (nsenter --net + unshare --uts), not a private mount
// namespace as `ip netns exec` would make: container mounts then stay visible to the host, so
// clean-up and inspection work from here. Every kernel object carries the bed's prefix and is
// removed by teardown(), also after a failure (and by sweep() after a crashed run).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { ROOT, runCli } from '../helpers/daemon.js';

export const TSSWARM = join(ROOT, 'dist/tsswarm.js');
/** Every bed's names start with this, so a sweep finds the leftovers of a crashed run. */
export const BED_PREFIX = 'tsb';

export interface BedNode {
  index: number;
  name: string;
  netns: string;
  address: string;
  socket: string;
  host: string;
  dataRoot: string;
  execRoot: string;
  env: NodeJS.ProcessEnv;
  proc?: ChildProcess;
  log: string;
}

function sh(cmd: string, args: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function must(cmd: string, args: string[], input?: string): string {
  const r = sh(cmd, args, input);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

function ping(sock: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: sock, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** A node daemon's environment: per node, bridge and nftables names (inside its own netns anyway). */
export function nodeDaemonEnv(k: number): NodeJS.ProcessEnv {
  return { TSSWARM_NET_PREFIX: `b${k}`, TSSWARM_TEARDOWN: '1', TSSWARM_NO_AUTOSTART: '1' };
}

/** `nsenter` arguments that start a node's daemon in its net namespace and a UTS namespace of its own. */
export function nodeDaemonArgs(nd: { netns: string; name: string; dataRoot: string; execRoot: string; socket: string }, cgroupParent: string): string[] {
  return [
    `--net=/run/netns/${nd.netns}`, '--', 'unshare', '--uts', '--', 'sh', '-c', `hostname ${nd.name} && exec "$0" "$@"`,
    process.execPath, TSSWARM, 'daemon', '--data-root', nd.dataRoot, '--exec-root', nd.execRoot, '--host', `unix://${nd.socket}`, '--cgroup-parent', cgroupParent,
  ];
}

export class Bed {
  readonly id = randomBytes(2).toString('hex');
  readonly prefix = `${BED_PREFIX}${this.id}`;
  readonly dir: string;
  readonly underlay: string;
  readonly subnet: string;
  readonly nodes: BedNode[] = [];

  constructor(dir?: string) {
    this.dir = dir ?? `/tmp/tsswarm-bed-${this.id}`;
    this.underlay = `${this.prefix}-u`;
    // 10.199.X.0/24: X from the bed id, so two beds at once rarely share a subnet (they cannot
    // collide anyway: each underlay is its own namespace).
    this.subnet = `10.199.${parseInt(this.id, 16) % 250}`;
  }

  /** Boots `n` nodes and their daemons; `env` is added to every node's (daemon and CLI) environment. */
  async boot(n: number, opts: { env?: NodeJS.ProcessEnv } = {}): Promise<BedNode[]> {
    mkdirSync(this.dir, { recursive: true });
    // Who owns the bed: a sweep by another run leaves it alone while this process lives.
    writeFileSync(join(this.dir, 'owner'), `${process.pid}\n`);
    must('ip', ['netns', 'add', this.underlay]);
    must('ip', ['-n', this.underlay, '-batch', '-'], 'link set lo up\nlink add br0 type bridge\nlink set br0 up\n');
    for (let k = 1; k <= n; k++) this.nodes.push(this.makeNode(k, opts.env ?? {}));
    await Promise.all(this.nodes.map((nd) => this.start(nd.index)));
    return this.nodes;
  }

  private makeNode(k: number, extraEnv: NodeJS.ProcessEnv): BedNode {
    const netns = `${this.prefix}-n${k}`;
    must('ip', ['netns', 'add', netns]);
    const veth = `${this.prefix}v${k}`;
    must('ip', ['link', 'add', veth, 'netns', this.underlay, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
    must('ip', ['-n', this.underlay, '-batch', '-'], `link set ${veth} master br0\nlink set ${veth} up\n`);
    const address = `${this.subnet}.${k}`;
    must('ip', ['-n', netns, '-batch', '-'], `link set lo up\naddr add ${address}/24 dev eth0\nlink set eth0 up\n`);
    const base = join(this.dir, `n${k}`);
    mkdirSync(base, { recursive: true });
    const socket = join(base, 'tsswarm.sock');
    const host = `unix://${socket}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...nodeDaemonEnv(k),
      ...extraEnv,
      TSSWARM_HOST: host,
      DOCKER_HOST: host,
      TSSWARM_NO_AUTOSTART: '1',
    };
    return { index: k, name: `${this.prefix}-node${k}`, netns, address, socket, host, dataRoot: join(base, 'data'), execRoot: join(base, 'exec'), env, log: '' };
  }

  node(k: number): BedNode {
    const n = this.nodes[k - 1];
    if (!n) throw new Error(`the bed has no node ${k}`);
    return n;
  }

  /** Each node's containers live in a cgroup subtree of their own. */
  cgroupParent(k: number): string {
    return `${this.prefix}/n${k}`;
  }

  /** Starts (or restarts) node k's daemon on its same data, and waits until it answers. */
  async start(k: number): Promise<void> {
    const nd = this.node(k);
    if (nd.proc && nd.proc.exitCode === null && nd.proc.signalCode === null) return;
    const p = spawn('nsenter', nodeDaemonArgs(nd, this.cgroupParent(k)), { stdio: ['ignore', 'ignore', 'pipe'], env: nd.env });
    nd.proc = p;
    nd.log = '';
    p.stderr?.on('data', (d: Buffer) => (nd.log = (nd.log + d.toString()).slice(-20_000)));
    for (let i = 0; i < 400; i++) {
      if (p.exitCode !== null) throw new Error(`node ${k}'s daemon exited with ${p.exitCode}: ${nd.log}`);
      if (await ping(nd.socket)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`node ${k}'s daemon did not answer within 20 s: ${nd.log}`);
  }

  /** SIGKILL of node k's daemon: what a crashed host looks like to the others. */
  async kill(k: number): Promise<void> {
    const p = this.node(k).proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  }

  /** Takes node k's underlay link down (a partition) or back up. */
  cut(k: number): void {
    must('ip', ['-n', this.underlay, 'link', 'set', `${this.prefix}v${k}`, 'down']);
  }
  heal(k: number): void {
    must('ip', ['-n', this.underlay, 'link', 'set', `${this.prefix}v${k}`, 'up']);
  }

  /** Runs the tsswarm CLI against node k's daemon. */
  cli(k: number, args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
    return runCli(args, this.node(k).env);
  }

  /** The CLI on node k, for its output; a failure throws naming the node, the command and its stderr. */
  async must(k: number, args: string[]): Promise<string> {
    const r = await this.cli(k, args);
    if (r.code !== 0) throw new Error(`node ${k}: tsswarm ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  /** A swarm: `swarm init` on node 1 (the manager), the `workers` joining it with the worker token. */
  async formSwarm(workers: readonly number[]): Promise<void> {
    await this.must(1, ['swarm', 'init', '--advertise-addr', this.node(1).address]);
    const token = (await this.must(1, ['swarm', 'join-token', '-q', 'worker'])).trim();
    for (const k of workers) await this.must(k, ['swarm', 'join', '--token', token, '--advertise-addr', this.node(k).address, `${this.node(1).address}:2377`]);
  }

  /** Runs a command inside node k's network namespace. */
  exec(k: number, cmd: string, args: string[]): { code: number; stdout: string; stderr: string } {
    return sh('nsenter', [`--net=/run/netns/${this.node(k).netns}`, '--', cmd, ...args]);
  }

  /** Stops every daemon (SIGTERM: they tear their networks down), then removes namespaces and dirs. */
  async teardown(): Promise<void> {
    // Containers outlive their daemon (by design): the bed's go with their daemons still up to remove
    // them. Nodes leave the swarm first (workers, then managers): a leaving node removes its tasks, and
    // no manager is left to start replacements for the task containers removed after.
    const up = this.nodes.filter((nd) => nd.proc && nd.proc.exitCode === null && nd.proc.signalCode === null);
    const leave = (nd: BedNode) => runCli(['swarm', 'leave', '--force'], nd.env).catch(() => undefined);
    const isManager = (nd: BedNode) => spawnSync(process.execPath, [TSSWARM, 'info', '--format', '{{.Swarm.ControlAvailable}}'], { encoding: 'utf8', env: nd.env, timeout: 30_000 }).stdout?.trim() === 'true';
    const managers = up.filter(isManager);
    await Promise.all(up.filter((nd) => !managers.includes(nd)).map(leave));
    for (const nd of managers.reverse()) await leave(nd);
    for (const nd of up) removeContainers(nd.socket);
    await Promise.all(
      this.nodes.map(async (nd) => {
        const p = nd.proc;
        if (!p || p.exitCode !== null || p.signalCode !== null) return;
        const gone = new Promise((r) => p.once('exit', r));
        p.kill('SIGTERM');
        const t = setTimeout(() => p.kill('SIGKILL'), 15_000);
        await gone;
        clearTimeout(t);
      }),
    );
    for (const nd of this.nodes) sh('ip', ['netns', 'del', nd.netns]);
    sh('ip', ['netns', 'del', this.underlay]);
    unmountUnder(this.dir);
    removeCgroupTrees(this.prefix);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Force-removes every container of the daemon at `socket` (task containers included). */
export function removeContainers(socket: string): void {
  const env = { ...process.env, TSSWARM_HOST: `unix://${socket}`, TSSWARM_NO_AUTOSTART: '1' };
  const ids = spawnSync(process.execPath, [TSSWARM, 'ps', '-aq'], { encoding: 'utf8', env, timeout: 30_000 }).stdout?.split('\n').filter(Boolean) ?? [];
  if (ids.length) spawnSync(process.execPath, [TSSWARM, 'rm', '-f', ...ids], { encoding: 'utf8', env, timeout: 180_000 });
}

/** Unmounts whatever is still mounted under `dir` (task tmpfs, container roots), deepest first. */
export function unmountUnder(dir: string): void {
  const points = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of points) sh('umount', ['-l', m]);
}

/**
 * Removes what crashed beds left: the namespaces and dir of a bed whose owner process is gone and in
 * none of whose namespaces a process still runs (a bed of another live run, or one `cluster.sh` keeps
 * up, is left alone).
 */
export function sweep(): string[] {
  const removed: string[] = [];
  const list = existsSync('/run/netns') ? readdirSync('/run/netns') : [];
  const beds = new Map<string, string[]>();
  for (const ns of list) {
    const m = new RegExp(`^${BED_PREFIX}([0-9a-f]{4})-(u|n\\d+)$`).exec(ns);
    if (m) beds.set(m[1]!, [...(beds.get(m[1]!) ?? []), ns]);
  }
  for (const [id, namespaces] of beds) {
    const dir = `/tmp/tsswarm-bed-${id}`;
    const owner = Number((existsSync(join(dir, 'owner')) ? readFileSync(join(dir, 'owner'), 'utf8') : '').trim());
    if (owner > 0 && alive(owner)) continue;
    if (namespaces.some((ns) => sh('ip', ['netns', 'pids', ns]).stdout.trim() !== '')) continue;
    for (const ns of namespaces) sh('ip', ['netns', 'del', ns]);
    unmountUnder(dir);
    removeCgroupTrees(`${BED_PREFIX}${id}`);
    rmSync(dir, { recursive: true, force: true });
    removed.push(...namespaces);
  }
  return removed;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Removes the (empty) cgroup directories named `prefix` that the nodes' daemons made, in every hierarchy. */
export function removeCgroupTrees(prefix: string): void {
  const base = '/sys/fs/cgroup';
  const roots = existsSync(base) ? readdirSync(base).map((d) => join(base, d)) : [];
  for (const root of [base, ...roots]) {
    const dir = join(root, prefix);
    if (existsSync(dir)) sh('find', [dir, '-depth', '-type', 'd', '-exec', 'rmdir', '{}', ';']);
  }
}

/** Polls `check` until it gives a value; bounded by a count of tries (never a timed assertion). */
export async function until<T>(what: string, check: () => Promise<T | undefined>, tries = 300, everyMs = 100): Promise<T> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`gave up waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
