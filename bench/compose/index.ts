// tscompose against a private daemon: `up -d --scale web=3` and `down` of examples/ (images present:
// the worker is built once before timing), and `ps -a` of a project with 100 containers. Compared with
// docker compose when a Docker daemon answers; otherwise absolute numbers against the goals.
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

async function timed(d: TestDaemon, cwd: string, args: string[]): Promise<number> {
  const t0 = performance.now();
  try {
    await run(process.execPath, [TSCOMPOSE, ...args], { cwd, env: d.env, maxBuffer: 16 << 20 });
  } catch (e) {
    const x = e as { stderr?: string };
    throw new Error(`tscompose ${args.join(' ')} failed: ${x.stderr ?? String(e)}`);
  }
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
    const up: number[] = [];
    const down: number[] = [];
    for (let i = 0; i < rounds; i++) {
      up.push(await timed(d, ex, ['up', '-d', '--scale', 'web=3']));
      down.push(await timed(d, ex, ['down']));
    }
    const many = join(work, 'many');
    cpSync(ex, many, { recursive: true });
    writeFileSync(join(many, 'compose.yaml'), 'name: many\nservices:\n  c: {image: busybox:latest, command: ["sleep", "1000"], init: true}\n');
    await timed(d, many, ['create', '--scale', 'c=100']);
    await timed(d, many, ['ps', '-a']);
    const ps: number[] = [];
    for (let i = 0; i < Math.max(rounds, 10); i++) ps.push(await timed(d, many, ['ps', '-a']));
    await timed(d, many, ['down']);
    const result = {
      bench: 'compose',
      baseline: docker ? 'docker compose (not run: comparison not implemented)' : 'none (no Docker daemon); absolute',
      rounds,
      up_s: +(median(up) / 1000).toFixed(3),
      down_s: +(median(down) / 1000).toFixed(3),
      ps_100_ms: +median(ps).toFixed(1),
      goals: GOALS,
      meets: { up: median(up) / 1000 <= GOALS.up_s, down: median(down) / 1000 <= GOALS.down_s, ps: median(ps) <= GOALS.ps_ms },
    };
    process.stdout.write(`up -d --scale web=3: ${result.up_s}s  down: ${result.down_s}s  ps (100 containers): ${result.ps_100_ms}ms\n`);
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
