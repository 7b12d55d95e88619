// `scripts/cluster.sh`: the multi-node bed of e2e/cluster for people. State (the bed's prefix and
// nodes) is kept in /run/tsswarm-cluster/state.json so separate invocations find it; daemons run
// detached (their logs in the bed's dir) and outlive the command that started them.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, Bed, nodeDaemonArgs, nodeDaemonEnv, removeCgroupTrees, removeContainers, TSSWARM, unmountUnder } from '../../e2e/cluster/bed.js';

const STATE_DIR = '/run/tsswarm-cluster';
const STATE = join(STATE_DIR, 'state.json');

interface Saved {
  prefix: string;
  dir: string;
  underlay: string;
  nodes: { index: number; name: string; netns: string; address: string; socket: string; dataRoot: string; execRoot: string; pid: number }[];
  managers: number;
}

function load(): Saved {
  if (!existsSync(STATE)) throw new Error('no cluster is up (scripts/cluster.sh up N first)');
  return JSON.parse(readFileSync(STATE, 'utf8')) as Saved;
}


function startDaemon(s: Saved, k: number): number {
  const nd = s.nodes[k - 1]!;
  const log = openSync(join(s.dir, `n${k}`, 'daemon.log'), 'a');
  const p = spawn('nsenter', nodeDaemonArgs(nd, `${s.prefix}/n${k}`), { stdio: ['ignore', log, log], env: { ...process.env, ...nodeDaemonEnv(k) }, detached: true });
  p.unref();
  return p.pid!;
}

function cli(s: Saved, k: number, args: string[]): { code: number; stdout: string; stderr: string } {
  const nd = s.nodes[k - 1]!;
  const r = spawnSync(process.execPath, [TSSWARM, ...args], { encoding: 'utf8', env: { ...process.env, TSSWARM_HOST: `unix://${nd.socket}`, TSSWARM_NO_AUTOSTART: '1' } });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

async function waitUp(s: Saved, k: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cli(s, k, ['version']).code === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`node ${k}'s daemon did not answer; see ${join(s.dir, `n${k}`, 'daemon.log')}`);
}

async function up(n: number, managers: number): Promise<void> {
  if (existsSync(STATE)) throw new Error('a cluster is already up: scripts/cluster.sh down first');
  if (!Number.isInteger(n) || n < 1 || n > 20) throw new Error(`N must be 1..20, not ${n}`);
  const bed = new Bed();
  // Namespaces and links only: the daemons are started detached below so they outlive this command.
  const nodes = await bed.boot(n).then(async (list) => {
    await Promise.all(list.map((x) => bed.kill(x.index)));
    return list;
  });
  const s: Saved = {
    prefix: bed.prefix,
    dir: bed.dir,
    underlay: bed.underlay,
    managers,
    nodes: nodes.map((x) => ({ index: x.index, name: x.name, netns: x.netns, address: x.address, socket: x.socket, dataRoot: x.dataRoot, execRoot: x.execRoot, pid: 0 })),
  };
  mkdirSync(STATE_DIR, { recursive: true });
  for (const x of s.nodes) x.pid = startDaemon(s, x.index);
  writeFileSync(STATE, JSON.stringify(s, null, 2));
  for (const x of s.nodes) await waitUp(s, x.index);
  const init = cli(s, 1, ['swarm', 'init', '--advertise-addr', s.nodes[0]!.address]);
  if (init.code !== 0) throw new Error(`swarm init on node 1 failed: ${init.stderr}`);
  const token = (role: string) => cli(s, 1, ['swarm', 'join-token', '-q', role]).stdout.trim();
  const tokens = { manager: token('manager'), worker: token('worker') };
  for (const x of s.nodes.slice(1)) {
    const role = x.index <= managers ? 'manager' : 'worker';
    const j = cli(s, x.index, ['swarm', 'join', '--token', tokens[role], '--advertise-addr', x.address, `${s.nodes[0]!.address}:2377`]);
    if (j.code !== 0) throw new Error(`node ${x.index} could not join as a ${role}: ${j.stderr}`);
  }
  for (const x of s.nodes) {
    process.stdout.write(`node ${x.index}  ${x.index <= managers ? 'manager' : 'worker '}  ${x.address}  unix://${x.socket}\n`);
  }
  process.stdout.write(`\nscripts/cluster.sh exec 1 tsswarm node ls    # runs inside node 1 with TSSWARM_HOST/DOCKER_HOST set\n`);
}

function exec(k: number, cmd: string[]): number {
  const s = load();
  const nd = s.nodes[k - 1];
  if (!nd) throw new Error(`no node ${k} (the cluster has ${s.nodes.length})`);
  const host = `unix://${nd.socket}`;
  const r = spawnSync('nsenter', [`--net=/run/netns/${nd.netns}`, '--', ...cmd], { stdio: 'inherit', env: { ...process.env, TSSWARM_HOST: host, DOCKER_HOST: host, TSSWARM_NO_AUTOSTART: '1' } });
  return r.status ?? 1;
}

function link(k: number, state: 'up' | 'down'): void {
  const s = load();
  const r = spawnSync('ip', ['-n', s.underlay, 'link', 'set', `${s.prefix}v${k}`, state], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot set node ${k}'s link ${state}: ${r.stderr}`);
}

async function down(): Promise<void> {
  if (!existsSync(STATE)) return; // idempotent
  const s = load();
  for (const x of s.nodes) if (x.pid && alive(x.pid)) removeContainers(x.socket);
  for (const x of s.nodes) if (x.pid && alive(x.pid)) process.kill(x.pid, 'SIGTERM');
  for (let i = 0; i < 150 && s.nodes.some((x) => x.pid && alive(x.pid)); i++) await new Promise((r) => setTimeout(r, 100));
  for (const x of s.nodes) if (x.pid && alive(x.pid)) process.kill(x.pid, 'SIGKILL');
  for (const x of s.nodes) spawnSync('ip', ['netns', 'del', x.netns]);
  spawnSync('ip', ['netns', 'del', s.underlay]);
  unmountUnder(s.dir);
  removeCgroupTrees(s.prefix);
  rmSync(s.dir, { recursive: true, force: true });
  rmSync(STATE, { force: true });
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const k = Number(rest[0]);
  switch (cmd) {
    case 'up': {
      const n = Number(rest[0] ?? 3);
      const mi = rest.indexOf('--managers');
      const managers = mi >= 0 ? Number(rest[mi + 1]) : Math.min(n, 3);
      if (!Number.isInteger(managers) || managers < 1 || managers > n) throw new Error(`--managers must be 1..${n}`);
      await up(n, managers);
      return 0;
    }
    case 'exec':
      if (!rest[1]) throw new Error('usage: scripts/cluster.sh exec K CMD…');
      return exec(k, rest.slice(1));
    case 'kill': {
      const s = load();
      const nd = s.nodes[k - 1];
      if (!nd) throw new Error(`no node ${k}`);
      if (nd.pid && alive(nd.pid)) process.kill(nd.pid, 'SIGKILL');
      return 0;
    }
    case 'start': {
      const s = load();
      const nd = s.nodes[k - 1];
      if (!nd) throw new Error(`no node ${k}`);
      if (!(nd.pid && alive(nd.pid))) {
        nd.pid = startDaemon(s, k);
        writeFileSync(STATE, JSON.stringify(s, null, 2));
        await waitUp(s, k);
      }
      return 0;
    }
    case 'cut':
      link(k, 'down');
      return 0;
    case 'heal':
      link(k, 'up');
      return 0;
    case 'down':
      await down();
      return 0;
    default:
      process.stderr.write('usage: scripts/cluster.sh up N [--managers M] | exec K CMD… | kill K | start K | cut K | heal K | down\n');
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`cluster: ${e.message}\n`);
    process.exit(1);
  },
);
