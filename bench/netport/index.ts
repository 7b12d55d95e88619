// TCP throughput through a published port (kernel DNAT) vs straight to the container, with iperf3.
// All in test namespaces: "host" runs the network manager, "c" is the container, "x" is another
// machine on the host's LAN. Pairs measured:
//   direct:   host → container IP                (bridge, no NAT)
//   port:     host → 127.0.0.1:published port    (same path + DNAT + masquerade)
//   outside:  x → host IP:published port         (extra veth hop + routing + DNAT; informational)
// ratio = median over rounds of port / direct. Last stdout line: one JSON object.
// Usage: npm run bench -- netport [--seconds N] [--rounds N]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Endpoint } from '../../network/manager.js';
import { must, sh, TestNet } from '../../network/testing/harness.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const seconds = arg('seconds', 4);
const rounds = arg('rounds', 5);
const PORT = 18080;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const t = new TestNet();
  const stateDir = mkdtempSync(join(tmpdir(), 'tsswarm-netport-'));
  try {
    const host = t.ns('h');
    const outside = t.ns('x');
    const c = t.ns('c');
    must('ip', ['-n', host, '-batch', '-'], `link add tsv${t.run}h type veth peer name tsv${t.run}x netns /run/netns/${outside}\naddr add 192.0.2.1/24 dev tsv${t.run}h\nlink set tsv${t.run}h up\n`);
    must('ip', ['-n', outside, '-batch', '-'], `addr add 192.0.2.2/24 dev tsv${t.run}x\nlink set tsv${t.run}x up\n`);
    const netd = await t.netd(host, { stateFile: join(stateDir, 'state.json'), table: `tsswarm_b${t.run}`, dns: false, hostResolvConf: '/dev/null' });
    await netd.call('createNetwork', { name: 'bench' });
    const ep = await netd.call<Endpoint>('connect', { network: 'bench', containerId: 'b'.repeat(64), containerName: 'srv', netns: { path: `/run/netns/${c}` } });
    await netd.call('publishSpecs', 'b'.repeat(64), [`${PORT}:5201`]);

    const server = await t.start(c, ['iperf3', '-s', '-p', '5201', '-B', ep.ip, '--forceflush']);
    void server.first;

    const measure = (ns: string, ip: string, port: number): number => {
      let last = '';
      // The server takes one test at a time and may still be closing the previous one ("busy").
      for (let attempt = 0; attempt < 5; attempt++) {
        // -O 1 leaves out the first second (slow start).
        const r = sh('ip', ['netns', 'exec', ns, 'iperf3', '-c', ip, '-p', String(port), '-t', String(seconds), '-O', '1', '-J']);
        const j = JSON.parse(r.stdout || '{}') as { error?: string; end?: { sum_received?: { bits_per_second: number } } };
        const bps = j.end?.sum_received?.bits_per_second;
        if (r.code === 0 && bps !== undefined) return bps / 1e9;
        last = j.error ?? r.stderr;
        sh('sleep', ['1']);
      }
      throw new Error(`iperf3 ${ns} -> ${ip}:${port} failed: ${last}`);
    };

    measure(host, ep.ip, 5201); // warm-up: caches, conntrack, CPU frequency
    const direct: number[] = [];
    const port: number[] = [];
    const outsideRuns: number[] = [];
    for (let i = 0; i < rounds; i++) {
      // Interleaved so drift in machine load hits both sides alike.
      direct.push(measure(host, ep.ip, 5201));
      port.push(measure(host, '127.0.0.1', PORT));
      outsideRuns.push(measure(outside, '192.0.2.1', PORT));
      process.stderr.write(`round ${i + 1}: direct ${direct[i]!.toFixed(2)} port ${port[i]!.toFixed(2)} outside ${outsideRuns[i]!.toFixed(2)} Gbit/s\n`);
    }
    server.proc.kill();
    await netd.call('teardown');
    await netd.stop();
    const d = median(direct);
    const p = median(port);
    // Paired per-round ratios cancel slow drift in machine load; their median is the headline.
    const ratio = median(port.map((x, i) => x / direct[i]!));
    process.stdout.write(
      JSON.stringify({
        bench: 'netport',
        seconds,
        rounds,
        directGbps: +d.toFixed(3),
        portGbps: +p.toFixed(3),
        outsidePortGbps: +median(outsideRuns).toFixed(3),
        ratio: +ratio.toFixed(3),
        goal: 0.9,
        pass: ratio >= 0.9,
      }) + '\n',
    );
  } finally {
    t.cleanup();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  process.stderr.write(`netport: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
