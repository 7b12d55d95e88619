// Cluster benchmark on the multi-node bed (each node a namespace with its own daemon): time from
// `swarm join` to the node Ready in `node ls`; node-down detection after a daemon is killed; leader
// failover to the first committed write. Medians over rounds. No anchor runs here (Docker's swarm
// needs dockerd, which this machine must not run), so ratio is null and says why.
// Needs a built tree. Last stdout line: one JSON object.
import { performance } from 'node:perf_hooks';
import { Bed } from '../../e2e/cluster/bed.js';

const rounds = Number(process.argv[2] ?? 5);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const bed = new Bed();
  try {
    await bed.boot(4);
    const must = (k: number, args: string[]): Promise<string> => bed.must(k, args);
    await must(1, ['swarm', 'init', '--advertise-addr', bed.node(1).address]);
    const mtoken = (await must(1, ['swarm', 'join-token', '-q', 'manager'])).trim();
    const wtoken = (await must(1, ['swarm', 'join-token', '-q', 'worker'])).trim();
    for (const k of [2, 3]) await must(k, ['swarm', 'join', '--token', mtoken, '--advertise-addr', bed.node(k).address, `${bed.node(1).address}:2377`]);
    const status = async (from: number, hostname: string): Promise<string | undefined> => {
      const r = await bed.cli(from, ['node', 'ls', '--format', '{{.Hostname}} {{.Status}} {{.ManagerStatus}}']);
      return r.stdout.split('\n').find((l) => l.startsWith(`${hostname} `))?.split(' ')[1];
    };
    const poll = async (what: string, check: () => Promise<boolean>): Promise<void> => {
      for (let i = 0; i < 2000; i++) {
        if (await check().catch(() => false)) return;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`gave up waiting for ${what}`);
    };

    // 1. join → Ready (a worker joins, leaves, is removed, joins again).
    const join: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      await must(4, ['swarm', 'join', '--token', wtoken, '--advertise-addr', bed.node(4).address, `${bed.node(1).address}:2377`]);
      await poll('node 4 ready', async () => (await status(1, bed.node(4).name)) === 'Ready');
      join.push(performance.now() - t0);
      const id = (await must(4, ['info', '--format', 'json'])).match(/"NodeID":"(\w+)"/)![1]!;
      await must(4, ['swarm', 'leave']);
      await must(1, ['node', 'rm', '--force', id]);
    }
    await must(4, ['swarm', 'join', '--token', wtoken, '--advertise-addr', bed.node(4).address, `${bed.node(1).address}:2377`]);
    await poll('node 4 ready', async () => (await status(1, bed.node(4).name)) === 'Ready');

    // 2. down detection: kill node 4's daemon, time until Down.
    const down: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      await bed.kill(4);
      await poll('node 4 down', async () => (await status(1, bed.node(4).name)) === 'Down');
      down.push(performance.now() - t0);
      await bed.start(4);
      await poll('node 4 ready', async () => (await status(1, bed.node(4).name)) === 'Ready');
    }

    // 3. failover: kill the leader, time until a write commits through a surviving manager.
    const failover: number[] = [];
    for (let i = 0; i < rounds; i++) {
      let leader = 0;
      for (const k of [1, 2, 3]) if ((await bed.cli(k, ['node', 'ls', '--format', '{{.Self}} {{.ManagerStatus}}'])).stdout.includes('true Leader')) leader = k;
      if (!leader) throw new Error('no leader found');
      const other = leader === 1 ? 2 : 1;
      const target = bed.node(4).name;
      const t0 = performance.now();
      await bed.kill(leader);
      await poll('a committed write after failover', async () => (await bed.cli(other, ['node', 'update', '--label-add', `round=${i}`, target])).code === 0);
      failover.push(performance.now() - t0);
      await bed.start(leader);
      await poll(`node ${leader} back`, async () => (await status(other, bed.node(leader).name)) === 'Ready');
    }

    const s = (xs: number[]) => +(median(xs) / 1000).toFixed(3);
    const result = {
      bench: 'cluster',
      rounds,
      heartbeat_period_s: 1,
      join_to_ready_s: s(join),
      down_detection_s: s(down),
      leader_failover_to_commit_s: s(failover),
      goals: { down_detection_s: 5, leader_failover_s: 2 },
      meets: { down_detection: median(down) <= 5000, leader_failover: median(failover) <= 2000 },
      anchor: null,
      ratio: null,
      anchor_note: "Docker's swarm mode needs dockerd, which this machine does not run",
    };
    process.stdout.write(`join → Ready ${result.join_to_ready_s}s  down detected ${result.down_detection_s}s  failover to first commit ${result.leader_failover_to_commit_s}s (medians of ${rounds})\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await bed.teardown();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
