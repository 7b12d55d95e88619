// Raft KV benchmark: 3 kv-server processes on loopback (fsync on: every Ready with entries or a
// term/vote change is fdatasynced before messages go out), driven by N concurrent closed-loop
// clients issuing puts. Reports commits/s and p50/p99 commit latency for 1, 16 and 256 clients.
// The anchor, in the same run: etcd 3.4 (Debian's etcd-server), three members on loopback (etcd
// fsyncs its WAL on every commit), driven by the same load generator through the etcd3 client.
// ratio = ours / etcd commits per second at 256 clients. Last stdout line: one JSON object.
import { parseArgs } from 'node:util';
import { KvClient } from '../../manager/raft/kv/kv-client.js';
import { KvCluster } from '../../manager/raft/node/kv-cluster.js';
import { startEtcd, type EtcdCluster } from './etcd.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '1,16,256' },
    'value-size': { type: 'string', default: '100' },
    'no-anchor': { type: 'boolean', default: false },
  },
});
const durationMs = Number(args.duration) * 1000;
const warmupMs = Number(args.warmup) * 1000;
const levels = args.concurrency.split(',').map(Number);
const value = 'v'.repeat(Number(args['value-size']));

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

interface Result {
  clients: number;
  commitsPerS: number;
  p50: number;
  p99: number;
  errors: number;
}

/** One connection of a system under test: a put that resolves once committed. */
interface Conn {
  put(key: string, value: string): Promise<unknown>;
  close(): void;
}

async function runLevel(connect: () => Conn, clients: number): Promise<Result> {
  // Several connections so that one socket's ordering is not the bottleneck; loops share them.
  const conns = Array.from({ length: Math.min(clients, 8) }, connect);
  const lat: number[] = [];
  let errors = 0;
  let measuring = false;
  let stop = false;
  const loop = async (c: number) => {
    const kc = conns[c % conns.length]!;
    for (let i = 0; !stop; i++) {
      const t0 = performance.now();
      try {
        // A bounded key space keeps snapshots small and constant-size.
        await kc.put(`c${c}-${i % 64}`, value);
        if (measuring) lat.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  };
  const loops = Array.from({ length: clients }, (_, c) => loop(c));
  await new Promise((r) => setTimeout(r, warmupMs));
  measuring = true;
  const start = performance.now();
  await new Promise((r) => setTimeout(r, durationMs));
  measuring = false;
  const elapsed = performance.now() - start;
  const n = lat.length;
  stop = true;
  await Promise.all(loops);
  for (const c of conns) c.close();
  const sorted = Float64Array.from(lat).sort();
  return { clients, commitsPerS: (n / elapsed) * 1000, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), errors };
}

async function measure(name: string, connect: () => Conn): Promise<Result[]> {
  const results: Result[] = [];
  for (const c of levels) {
    const r = await runLevel(connect, c);
    results.push(r);
    process.stdout.write(
      `${name.padEnd(5)} clients=${String(c).padStart(3)}  commits/s=${r.commitsPerS.toFixed(0).padStart(6)}  p50=${r.p50.toFixed(2)}ms  p99=${r.p99.toFixed(2)}ms  errors=${r.errors}\n`,
    );
  }
  return results;
}

const round = (x: number | undefined, d = 0) => (x === undefined || Number.isNaN(x) ? null : Number(x.toFixed(d)));

function figures(prefix: string, results: Result[]): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const r of results) {
    out[`${prefix}commits_per_s_${r.clients}`] = round(r.commitsPerS);
    out[`${prefix}p50_ms_${r.clients}`] = round(r.p50, 3);
    out[`${prefix}p99_ms_${r.clients}`] = round(r.p99, 3);
  }
  return out;
}

async function main(): Promise<void> {
  process.stdout.write(`raft bench: 3 members each, fsync on, ${durationMs / 1000}s per level, value ${value.length} B\n`);
  let ours: Result[];
  const cluster = await KvCluster.start({ size: 3, tickMs: 50, electionTick: 10, snapshotEvery: 20_000, quiet: true, logFile: 'ignore' });
  try {
    const leader = await cluster.waitForLeader();
    ours = await measure('ours', () => {
      const kc = new KvClient({ servers: [leader.client, ...cluster.clientAddresses] });
      return { put: (k, v) => kc.put(k, v), close: () => kc.close() };
    });
  } finally {
    await cluster.stop();
  }

  let etcd: Result[] | undefined;
  let anchorNote: string | null = null;
  if (args['no-anchor']) {
    anchorNote = 'anchor skipped (--no-anchor)';
  } else {
    let ec: EtcdCluster | undefined;
    try {
      ec = await startEtcd(3);
      const cluster = ec;
      etcd = await measure('etcd', () => cluster.connect());
    } catch (err) {
      // No etcd here (a machine set up without it): the figures of ours still stand, the ratio is null.
      anchorNote = `etcd anchor unavailable: ${(err as Error).message}`;
      process.stderr.write(`${anchorNote}\n`);
    } finally {
      await ec?.stop();
    }
  }
  const at256 = (rs: Result[] | undefined) => rs?.find((r) => r.clients === 256)?.commitsPerS;
  const o = at256(ours);
  const e = at256(etcd);
  const ratio = o !== undefined && e !== undefined && e > 0 ? Number((o / e).toFixed(3)) : null;
  process.stdout.write(
    `${JSON.stringify({ bench: 'raft', anchor: 'etcd 3.4, 3 members on loopback', ...figures('', ours), ...(etcd ? figures('etcd_', etcd) : {}), anchor_note: anchorNote, ratio })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`raft bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
