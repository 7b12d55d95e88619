// Container start-up cost: N x (create, start, wait, delete) of a container running `true` through our
// driver in this Node process, against N x `runc run` of the same bundle. Iterations alternate so
// both see the same machine state. Last stdout line: one JSON object.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Runtime } from '../../runtime/driver.js';
import { buildSpec } from '../../runtime/spec.js';
import { busyboxRootfs } from '../../e2e/fixtures/busybox.js';
import { ensureTsbox } from '../../e2e/fixtures/tsbox.js';

const n = Number(process.argv[2] ?? 100);
const warmup = 5;
const tag = `tsswarm-bench-${randomBytes(3).toString('hex')}`;
const root = `/run/${tag}`;
const runcRoot = `/run/${tag}-runc`;
const work = `/tmp/${tag}`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function runc(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = spawn('runc', ['--root', runcRoot, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    c.on('error', reject);
    c.on('exit', (code) => resolve(code ?? 1));
  });
}

async function main(): Promise<void> {
  ensureTsbox();
  const rootfs = await busyboxRootfs();
  const bundle = join(work, 'bundle');
  await mkdir(bundle, { recursive: true });
  const spec = buildSpec({ args: ['true'], rootPath: rootfs, readonlyRootfs: true, cgroupsPath: `/tsswarm/${tag}` });
  await writeFile(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
  const rt = new Runtime({ root });

  const ours = async (i: number) => {
    const id = `${tag}-${i}`;
    const t0 = performance.now();
    await rt.create(id, { bundle });
    await rt.start(id);
    const exit = await rt.wait(id);
    await rt.delete(id);
    const dt = performance.now() - t0;
    if (exit.exitCode !== 0) throw new Error(`ours: ${id} exited ${exit.exitCode}`);
    return dt;
  };
  const theirs = async (i: number) => {
    const t0 = performance.now();
    const code = await runc(['run', '--bundle', bundle, `${tag}-runc-${i}`]);
    const dt = performance.now() - t0;
    if (code !== 0) throw new Error(`runc run exited ${code}`);
    return dt;
  };

  const oursMs: number[] = [];
  const runcMs: number[] = [];
  try {
    for (let i = 0; i < warmup; i++) {
      await ours(-1 - i);
      await theirs(-1 - i);
    }
    for (let i = 0; i < n; i++) {
      oursMs.push(await ours(i));
      runcMs.push(await theirs(i));
    }
  } finally {
    await rm(root, { recursive: true, force: true });
    await rm(runcRoot, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  }
  const o = median(oursMs);
  const r = median(runcMs);
  const round = (x: number) => Math.round(x * 100) / 100;
  process.stdout.write(`ours: median ${round(o)} ms (min ${round(Math.min(...oursMs))}, max ${round(Math.max(...oursMs))})\n`);
  process.stdout.write(`runc: median ${round(r)} ms (min ${round(Math.min(...runcMs))}, max ${round(Math.max(...runcMs))})\n`);
  process.stdout.write(
    JSON.stringify({ bench: 'runtime', n, ours_median_ms: round(o), runc_median_ms: round(r), ratio: Math.round((o / r) * 1000) / 1000 }) + '\n',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench runtime: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
