// Overlay benchmark on the 4-node bed, in one run (iperf3 from the host run inside the tasks' network
// namespaces; the task containers themselves just sleep). `npm run bench -- overlay [SECONDS] [ROUNDS]`;
// each Gbit/s figure is the median of ROUNDS runs taken in turn with the other paths:
//   gbps_overlay      task on node 2 → task on node 3, over the VXLAN overlay
//   gbps_underlay     node 2 → node 3 over the bare underlay (the same two hosts)     ratio = overlay / underlay
//   gbps_vip / gbps_direct    a client task on node 3 → the service's VIP vs → the task's address (= overlay)
//   gbps_ingress      node 4 → node 1's published port (node 1 has no task) → the task on node 2
//   ms_vip_follow_100 scale 1 → 100: from the 100th task running to the client's VIP map listing 100
//   ms_killed_task_out_of_rotation   one of the 100 killed (`kill`): until the client's map drops it
// Goals (issue 11): overlay/underlay ≥ 0.8, VIP/direct ≥ 0.9, ingress/direct ≥ 0.8. Needs a built tree.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Bed, until } from '../../e2e/cluster/bed.js';
import { busyboxArchive } from '../../e2e/helpers/busybox.js';

const SECONDS = Number(process.argv[2] ?? 3);
const ROUNDS = Number(process.argv[3] ?? 5);

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function iperf(clientNetns: string, serverNetns: string, target: string, port = 5201): number {
  const srv = spawnSync('nsenter', [`--net=${serverNetns}`, 'iperf3', '-s', '-1', '-D', '-p', String(port)], { encoding: 'utf8' });
  if (srv.status !== 0) throw new Error(`iperf3 server in ${serverNetns}: ${srv.stderr}`);
  let out = '';
  for (let i = 0; i < 20; i++) {
    const c = spawnSync('nsenter', [`--net=${clientNetns}`, 'iperf3', '-c', target, '-p', String(port), '-t', String(SECONDS), '-J'], { encoding: 'utf8', timeout: (SECONDS + 20) * 1000 });
    out = c.stdout;
    if (c.status === 0) {
      const j = JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } };
      return Math.round((j.end.sum_received.bits_per_second / 1e9) * 100) / 100;
    }
    spawnSync('sleep', ['0.2']);
  }
  throw new Error(`iperf3 to ${target}:${port} from ${clientNetns}: ${out.slice(0, 300)}`);
}

async function main(): Promise<void> {
  const bed = new Bed();
  const work = mkdtempSync('/tmp/tsswarm-bench-ovl-');
  try {
    await bed.boot(4);
    const must = (k: number, args: string[]): Promise<string> => bed.must(k, args);
    const archive = await busyboxArchive(work);
    for (const k of [1, 2, 3, 4]) await must(k, ['load', '-i', archive]);
    await bed.formSwarm([2, 3, 4]);
    const poll = (what: string, check: () => Promise<boolean>, tries = 3000): Promise<true> => until(what, async () => ((await check()) ? true : undefined), tries, 50);
    const runningCount = async (svc: string) => (await must(1, ['service', 'ps', '--filter', 'desired-state=running', '--format', '{{.CurrentState}}', svc])).split('\n').filter((l) => l.startsWith('Running')).length;
    const on = (k: number) => `node.hostname==${bed.node(k).name}`;
    await must(1, ['network', 'create', '-d', 'overlay', 'bench']);
    await must(1, ['service', 'create', '-d', '--name', 'srv', '--network', 'bench', '-p', '5201:5201', '--constraint', on(2), 'busybox:latest', 'sleep', '86400']);
    await must(1, ['service', 'create', '-d', '--name', 'cli', '--network', 'bench', '--constraint', on(3), 'busybox:latest', 'sleep', '86400']);
    await poll('srv and cli running', async () => (await runningCount('srv')) === 1 && (await runningCount('cli')) === 1);
    const netnsOf = async (k: number, svc: string): Promise<{ path: string; ip: string }> => {
      const id = (await must(k, ['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${svc}`])).trim().split('\n')[0]!;
      const pid = (await must(k, ['inspect', '-f', '{{.State.Pid}}', id])).trim();
      const ip = (await must(k, ['inspect', '-f', '{{(index .NetworkSettings.Networks "bench").IPAddress}}', id])).trim();
      return { path: `/proc/${pid}/ns/net`, ip };
    };
    const srv = await netnsOf(2, 'srv');
    const cli = await netnsOf(3, 'cli');
    const vip = (JSON.parse(await must(1, ['service', 'inspect', '--format', '{{json .Endpoint.VirtualIPs}}', 'srv'])) as { NetworkID: string; Addr: string }[])
      .map((v) => v.Addr.split('/')[0]!)
      .find((a) => a.split('.').slice(0, 3).join('.') === srv.ip.split('.').slice(0, 3).join('.'))!;
    const nodeNs = (k: number) => `/run/netns/${bed.node(k).netns}`;
    // Wait for the client's VIP table (the dispatcher's first overlay update) and node 1's mesh.
    await poll('VIP programmed in the client', async () => spawnSync('nsenter', [`--net=${cli.path}`, 'nft', 'list', 'table', 'ip', 'tsswarm_lb'], { encoding: 'utf8' }).stdout.includes(srv.ip));
    await poll('mesh on node 1', async () => spawnSync('nsenter', [`--net=${nodeNs(1)}`, 'nft', 'list', 'table', 'ip', 'tsswarm_ingress'], { encoding: 'utf8' }).stdout.includes(' . 5201'));

    // The paths take turns, ROUNDS times, and each figure is the median of its runs: on a 2-core
    // machine one run of a path varies by ~10 %, and a burst of other work during one path's turn
    // would otherwise decide its ratio.
    const runs = { underlay: [] as number[], overlay: [] as number[], vip: [] as number[], ingress: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      runs.underlay.push(iperf(nodeNs(3), nodeNs(2), bed.node(2).address, 5202));
      runs.overlay.push(iperf(cli.path, srv.path, srv.ip));
      runs.vip.push(iperf(cli.path, srv.path, vip));
      runs.ingress.push(iperf(nodeNs(4), srv.path, bed.node(1).address));
    }
    const underlay = median(runs.underlay);
    // Task to task address over the overlay is also the "direct" baseline of the VIP and ingress paths.
    const overlay = median(runs.overlay);
    const direct = overlay;
    const viaVip = median(runs.vip);
    const ingress = median(runs.ingress);

    // VIP rules following a scale from 1 to 100.
    await must(1, ['service', 'create', '-d', '--name', 'many', '--network', 'bench', '--constraint', `node.hostname!=${bed.node(3).name}`, 'busybox:latest', 'sleep', '86400']);
    await poll('many 1/1', async () => (await runningCount('many')) === 1);
    const t0 = performance.now();
    await must(1, ['service', 'scale', '-d', 'many=100']);
    let tRunning = 0;
    const manyVip = (JSON.parse(await must(1, ['service', 'inspect', '--format', '{{json .Endpoint.VirtualIPs}}', 'many'])) as { Addr: string }[])[0]!.Addr.split('/')[0]!;
    const mapBackends = (): number => {
      const t = spawnSync('nsenter', [`--net=${cli.path}`, 'nft', 'list', 'map', 'ip', 'tsswarm_lb', `vip_${manyVip.replace(/\./g, '_')}`], { encoding: 'utf8' }).stdout;
      return new Set([...t.matchAll(/: (\d+\.\d+\.\d+\.\d+)/g)].map((m) => m[1])).size;
    };
    await poll('100 tasks running and the VIP map listing 100', async () => {
      if (!tRunning && (await runningCount('many')) === 100) tRunning = performance.now();
      return tRunning > 0 && mapBackends() === 100;
    }, 12000);
    const tMap = performance.now();

    // A task that stops leaves the rotation: one of `many`'s containers on node 2 killed, until the
    // client's VIP map no longer lists its address (a replacement joins later, under another address).
    const victim = (await must(2, ['ps', '-q', '--filter', 'label=com.docker.swarm.service.name=many'])).trim().split('\n')[0]!;
    const victimIp = (await must(2, ['inspect', '-f', '{{(index .NetworkSettings.Networks "bench").IPAddress}}', victim])).trim();
    const listed = (): boolean => spawnSync('nsenter', [`--net=${cli.path}`, 'nft', 'list', 'map', 'ip', 'tsswarm_lb', `vip_${manyVip.replace(/\./g, '_')}`], { encoding: 'utf8' }).stdout.split(/[\s,{}]+/).includes(victimIp);
    if (!listed()) throw new Error(`task ${victimIp} of many is not in the client's VIP map before the kill`);
    const tKill = performance.now();
    await must(2, ['kill', victim]);
    await poll('the killed task out of the VIP map', async () => !listed(), 12000);
    const tOut = performance.now();

    const r2 = (x: number) => Math.round(x * 1000) / 1000;
    const out = {
      bench: 'overlay',
      seconds_per_run: SECONDS,
      rounds: ROUNDS,
      runs,
      gbps_underlay: underlay,
      gbps_overlay: overlay,
      gbps_direct: direct,
      gbps_vip: viaVip,
      gbps_ingress: ingress,
      vip_over_direct: r2(viaVip / direct),
      ingress_over_direct: r2(ingress / direct),
      ms_scale_1_to_100_running: Math.round(tRunning - t0),
      ms_vip_follow_100: Math.round(tMap - tRunning),
      ms_killed_task_out_of_rotation: Math.round(tOut - tKill),
      ratio: r2(overlay / underlay),
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await bed.teardown();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  process.stderr.write(`bench/overlay: ${e.message}\n`);
  process.exit(1);
});
