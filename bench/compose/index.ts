// tscompose against a private daemon: `up -d --scale web=3` and `down` of examples/ (images present:
// the worker is built once before timing), and `ps -a` of a project with 100 containers. Compared with
// docker compose when a Docker daemon answers; otherwise absolute numbers against the goals.
// This VM sets NODE_EXTRA_CA_CERTS, which makes every node process parse the CA bundle at start
// (~30 ms); users rarely have it, so every figure is taken both with the environment as given and
// without it, and the goals are judged on the latter (as bench/engine does). A per-phase breakdown
// (TSSWARM_TIMING=1, medians) shows where the time goes.
// Needs `node scripts/build.mjs` first (it drives dist/tscompose.js). Last stdout line: one JSON object.
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { ROOT, startDaemon, type TestDaemon } from '../../e2e/helpers/daemon.js';
import { tarBuffer, writeDockerArchive } from '../../image/testing/archives.js';
import { busyboxConfig, busyboxLayerEntries } from '../../image/testing/busybox-image.js';

const run = promisify(execFile);
const TSCOMPOSE = join(ROOT, 'dist/tscompose.js');
const rounds = Number(process.argv[2] ?? 5);
const GOALS = { up_s: 0.3, down_s: 1, ps_ms: 60 };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const round = (x: number): number => Math.round(x * 10) / 10;

async function timedIn(env: NodeJS.ProcessEnv, cwd: string, args: string[]): Promise<{ ms: number; stderr: string }> {
  const t0 = performance.now();
  let stderr: string;
  try {
    stderr = (await run(process.execPath, [TSCOMPOSE, ...args], { cwd, env, maxBuffer: 16 << 20 })).stderr;
  } catch (e) {
    const x = e as { stderr?: string };
    throw new Error(`tscompose ${args.join(' ')} failed: ${x.stderr ?? String(e)}`);
  }
  return { ms: performance.now() - t0, stderr };
}

async function timed(d: TestDaemon, cwd: string, args: string[]): Promise<number> {
  return (await timedIn(d.env, cwd, args)).ms;
}

/** Medians per phase of the `tscompose: timings {...}` lines. */
function medianPhases(lines: string[]): Record<string, number> {
  const rows = lines.map((l) => JSON.parse(l.slice(l.indexOf('{'))) as Record<string, number>);
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(keys.map((k) => [k, round(median(rows.map((r) => r[k] ?? 0)))]));
}
const timingLine = (stderr: string): string => stderr.split('\n').find((l) => l.startsWith('tscompose: timings ')) ?? 'tscompose: timings {}';

/** A bare `node -e ''`: what any node CLI pays before its first line runs. */
async function timedNode(env: NodeJS.ProcessEnv): Promise<number> {
  const t0 = performance.now();
  await run(process.execPath, ['-e', ''], { env });
  return performance.now() - t0;
}

function load(sock: string, tar: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: sock, path: '/v1.41/images/load', method: 'POST', headers: { 'Content-Length': tar.length } }, (res) => {
      res.resume();
      res.on('end', () => ((res.statusCode ?? 500) < 300 ? resolve() : reject(new Error(`load: ${res.statusCode}`))));
    });
    req.once('error', reject);
    req.end(tar);
  });
}

/**
 * `down` of two services whose PID 1 cannot receive SIGTERM (no handler, own PID namespace): Docker
 * waits the full 10 s grace for nothing. Through tscompose and through docker-compose 1.29 (Debian's
 * package, driving our daemon), same project, in the same run.
 */
async function stopBench(d: TestDaemon, work: string): Promise<{ ours_s: number; docker_compose_s: number | null }> {
  const dir = join(work, 'blind');
  cpSync(join(ROOT, 'bench', 'compose', 'signal-blind'), dir, { recursive: true });
  const ours: number[] = [];
  for (let i = 0; i < 3; i++) {
    await timed(d, dir, ['up', '-d']);
    ours.push(await timed(d, dir, ['down']));
  }
  let dc: number[] | null = null;
  if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0) {
    dc = [];
    const env = { ...d.env, DOCKER_HOST: d.host };
    const compose = async (args: string[]): Promise<number> => {
      const t0 = performance.now();
      await run('docker-compose', ['-p', 'blinddc', ...args], { cwd: dir, env });
      return performance.now() - t0;
    };
    for (let i = 0; i < 3; i++) {
      await compose(['up', '-d']);
      dc.push(await compose(['down']));
    }
  }
  return { ours_s: +(median(ours) / 1000).toFixed(3), docker_compose_s: dc ? +(median(dc) / 1000).toFixed(3) : null };
}

async function main(): Promise<void> {
  const docker = spawnSync('docker', ['info'], { stdio: 'ignore' }).status === 0;
  const d = await startDaemon();
  const work = mkdtempSync('/tmp/tscompose-bench-');
  try {
    const archive = join(work, 'busybox.tar');
    await writeDockerArchive(archive, [{ layers: [await tarBuffer(busyboxLayerEntries())], config: busyboxConfig(), tags: ['busybox:latest'] }]);
    await load(d.host.slice('unix://'.length), readFileSync(archive));
    const ex = join(work, 'example');
    cpSync(join(ROOT, 'examples'), ex, { recursive: true });
    // Warm-up: builds the worker image, so the timed rounds find every image present.
    await timed(d, ex, ['up', '-d', '--scale', 'web=3']);
    await timed(d, ex, ['down']);
    const noCa: NodeJS.ProcessEnv = { ...d.env };
    delete noCa.NODE_EXTRA_CA_CERTS;
    const extraCa = d.env.NODE_EXTRA_CA_CERTS !== undefined;
    const timing: NodeJS.ProcessEnv = { ...noCa, TSSWARM_TIMING: '1' };
    const up: number[] = [];
    const down: number[] = [];
    const upNoCa: number[] = [];
    const downNoCa: number[] = [];
    const upPhases: string[] = [];
    const downPhases: string[] = [];
    for (let i = 0; i < rounds; i++) {
      up.push(await timed(d, ex, ['up', '-d', '--scale', 'web=3']));
      down.push(await timed(d, ex, ['down']));
      if (extraCa) {
        upNoCa.push((await timedIn(noCa, ex, ['up', '-d', '--scale', 'web=3'])).ms);
        downNoCa.push((await timedIn(noCa, ex, ['down'])).ms);
      }
      upPhases.push(timingLine((await timedIn(timing, ex, ['up', '-d', '--scale', 'web=3'])).stderr));
      downPhases.push(timingLine((await timedIn(timing, ex, ['down'])).stderr));
    }
    const many = join(work, 'many');
    cpSync(ex, many, { recursive: true });
    writeFileSync(join(many, 'compose.yaml'), 'name: many\nservices:\n  c: {image: busybox:latest, command: ["sleep", "1000"], init: true}\n');
    await timed(d, many, ['create', '--scale', 'c=100']);
    await timed(d, many, ['ps', '-a']);
    const ps: number[] = [];
    const psNoCa: number[] = [];
    const psPhases: string[] = [];
    for (let i = 0; i < Math.max(rounds, 10); i++) {
      ps.push(await timed(d, many, ['ps', '-a']));
      if (extraCa) psNoCa.push((await timedIn(noCa, many, ['ps', '-a'])).ms);
      psPhases.push(timingLine((await timedIn(timing, many, ['ps', '-a'])).stderr));
    }
    await timed(d, many, ['down']);
    const nodeBare: number[] = [];
    const nodeBareNoCa: number[] = [];
    for (let i = 0; i < 10; i++) {
      nodeBare.push((await timedNode(d.env)));
      nodeBareNoCa.push((await timedNode(noCa)));
    }
    const stop = await stopBench(d, work);
    const judged = { up: extraCa ? upNoCa : up, down: extraCa ? downNoCa : down, ps: extraCa ? psNoCa : ps };
    const result = {
      bench: 'compose',
      baseline: docker ? 'docker compose (not run: comparison not implemented)' : 'none (no Docker daemon); absolute',
      rounds,
      node_extra_ca_certs_set: extraCa,
      up_s: +(median(up) / 1000).toFixed(3),
      down_s: +(median(down) / 1000).toFixed(3),
      ps_100_ms: round(median(ps)),
      up_no_extra_ca_s: +(median(judged.up) / 1000).toFixed(3),
      down_no_extra_ca_s: +(median(judged.down) / 1000).toFixed(3),
      ps_100_no_extra_ca_ms: round(median(judged.ps)),
      node_bare_start_ms: round(median(nodeBare)),
      node_bare_start_no_extra_ca_ms: round(median(nodeBareNoCa)),
      breakdown_no_extra_ca_ms: { up: medianPhases(upPhases), down: medianPhases(downPhases), ps: medianPhases(psPhases) },
      goals: GOALS,
      goals_judged_on: extraCa ? 'figures without NODE_EXTRA_CA_CERTS' : 'figures as measured',
      meets: {
        up: median(judged.up) / 1000 <= GOALS.up_s,
        down: median(judged.down) / 1000 <= GOALS.down_s,
        ps: median(judged.ps) <= GOALS.ps_ms,
        down_signal_blind_2_services: stop.ours_s <= GOALS.down_s,
      },
      down_signal_blind_2_services_s: stop.ours_s,
      docker_compose_down_signal_blind_2_services_s: stop.docker_compose_s,
      anchor: stop.docker_compose_s === null ? null : 'docker-compose 1.29 on our daemon, same project',
      ratio: stop.docker_compose_s === null ? null : +(stop.ours_s / stop.docker_compose_s).toFixed(3),
    };
    process.stdout.write(`up -d --scale web=3: ${result.up_s}s  down: ${result.down_s}s  ps (100 containers): ${result.ps_100_ms}ms  (environment as given; bare node ${result.node_bare_start_ms} ms)\n`);
    process.stdout.write(`without NODE_EXTRA_CA_CERTS: up ${result.up_no_extra_ca_s}s  down ${result.down_no_extra_ca_s}s  ps ${result.ps_100_no_extra_ca_ms}ms  (bare node ${result.node_bare_start_no_extra_ca_ms} ms)\n`);
    process.stdout.write(
      `down of 2 services whose PID 1 has no SIGTERM handler (sleep, httpd -f): ours ${stop.ours_s}s, docker-compose 1.29 ${stop.docker_compose_s ?? 'n/a'}s\n`,
    );
    process.stdout.write(`breakdown (medians, ms, without NODE_EXTRA_CA_CERTS): ${JSON.stringify(result.breakdown_no_extra_ca_ms)}\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await d.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
