/**
 * bench/images: pull of a 5-layer, ~200 MB image from a loopback docker-registry vs `skopeo copy`
 * of the same image into an OCI dir; unpacking a ~200 MB gzip layer vs `tar -xzf`. Each side
 * runs several times, alternating; the best time counts. Last stdout line: one JSON object.
 *
 * The sides do not do the same work: skopeo only stores the compressed blobs (hashing them once,
 * no fsync); a pull also gunzips, hashes the diffIDs, unpacks 200 MB of files and flushes them
 * (one syncfs) before the image becomes visible. Hence the second anchor, skopeo + `tar -xzf`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { ImageStore } from '../../image/store.js';
import { importImage } from '../../image/import.js';
import { pullImage } from '../../image/registry/pull.js';
import { pushImage } from '../../image/registry/push.js';
import { CredentialStore } from '../../image/registry/credentials.js';
import { processLayerStream } from '../../image/unpack.js';
import { TarWriter } from '../../lib/tar/index.js';
import { ensureTsunpack } from '../../image/testing/native.js';
import { makeTestDir } from '../../image/testing/tmp.js';
import { startRegistry } from '../../image/testing/registry.js';

const MB = 1 << 20;
const LAYERS = 5;
const TOTAL = 200 * MB;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

/** A gzip layer of `size` bytes over files of mixed sizes, each half random, half text (~2:1 gzip). */
async function writeLayer(path: string, size: number, seed: number): Promise<void> {
  const tar = new PassThrough({ highWaterMark: 4 * MB });
  const w = new TarWriter(tar);
  const done = pipeline(tar, createGzip({ level: 1 }), createWriteStream(path));
  let left = size;
  let i = 0;
  await w.add({ name: `l${seed}/`, type: 'dir', mtime: 1 });
  const text = Buffer.alloc(4 * MB, `line ${seed} of some fairly repetitive configuration text\n`);
  while (left > 0) {
    const sz = Math.min(left, [4 * 1024, 64 * 1024, 512 * 1024, 4 * MB][i % 4]!);
    const data = Buffer.concat([randomBytes(sz >> 1), text.subarray(0, sz - (sz >> 1))]);
    await w.add({ name: `l${seed}/d${i % 16}/f${i}`, type: 'file', mode: 0o644, size: sz, mtime: 1 }, data);
    left -= sz;
    i++;
  }
  await w.finish();
  await done;
}

async function time<T>(fn: () => Promise<T>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

function dropCaches(): void {
  // Equal footing for both sides: flush dirty pages written by the previous run.
  spawnSync('sync');
}

async function main(): Promise<void> {
  ensureTsunpack();
  const { dir, cleanup } = await makeTestDir('tsswarm-bench-images-');
  const reg = await startRegistry();
  try {
    const creds = new CredentialStore(join(dir, 'creds.json'));
    process.stderr.write(`bench/images: generating ${LAYERS} layers, ${TOTAL / MB} MB…\n`);
    const layerFiles: string[] = [];
    for (let i = 0; i < LAYERS; i++) {
      const f = join(dir, `layer${i}.tar.gz`);
      await writeLayer(f, TOTAL / LAYERS, i);
      layerFiles.push(f);
    }
    const src = await ImageStore.open(join(dir, 'src'));
    const name = `${reg.host}/bench/big:1`;
    await importImage(src, {
      layers: layerFiles.map((f) => () => createReadStream(f, { highWaterMark: MB })),
      config: { architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] } },
      tags: [name],
    });
    await pushImage(src, name, { credentials: creds });
    const compressed = (await Promise.all(layerFiles.map((f) => stat(f)))).reduce((n, s) => n + s.size, 0);

    // Pull vs skopeo copy.
    const pullTimes: number[] = [];
    const skopeoTimes: number[] = [];
    const skopeoTarTimes: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const ociDir = join(dir, `oci-${r}`);
      dropCaches();
      skopeoTimes.push(
        await time(async () => {
          execFileSync('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${name}`, `oci:${ociDir}:x`], { stdio: 'pipe' });
        }),
      );
      // Context, not the goal: skopeo does not unpack; this is skopeo plus `tar -xzf` per layer.
      const manifestIdx = JSON.parse(await readFile(join(ociDir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
      const manifest = JSON.parse(await readFile(join(ociDir, 'blobs', 'sha256', manifestIdx.manifests[0]!.digest.slice(7)), 'utf8')) as {
        layers: Array<{ digest: string }>;
      };
      const unpackDir = join(dir, `oci-unpack-${r}`);
      await mkdir(unpackDir);
      const tarOnly = await time(async () => {
        for (const l of manifest.layers) execFileSync('tar', ['-xzf', join(ociDir, 'blobs', 'sha256', l.digest.slice(7)), '-C', unpackDir]);
      });
      skopeoTarTimes.push(skopeoTimes[skopeoTimes.length - 1]! + tarOnly);
      await rm(unpackDir, { recursive: true, force: true });
      await rm(ociDir, { recursive: true, force: true });
      const store = await ImageStore.open(join(dir, `pull-${r}`));
      dropCaches();
      // The engine's default parallelism (6, like skopeo's) unless BENCH_CONCURRENCY says otherwise.
      const concurrency = process.env.BENCH_CONCURRENCY ? Number(process.env.BENCH_CONCURRENCY) : undefined;
      pullTimes.push(await time(() => pullImage(store, name, { credentials: creds, concurrency })));
      await rm(join(dir, `pull-${r}`), { recursive: true, force: true });
    }

    // Unpack one 200 MB layer vs tar -xzf.
    const big = join(dir, 'big.tar.gz');
    await writeLayer(big, TOTAL, 99);
    const unpackTimes: number[] = [];
    const tarTimes: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const t = join(dir, `tar-${r}`);
      await mkdir(t);
      dropCaches();
      tarTimes.push(await time(async () => execFileSync('tar', ['-xzf', big, '-C', t])));
      await rm(t, { recursive: true, force: true });
      const u = join(dir, `unpack-${r}`);
      await mkdir(u);
      dropCaches();
      unpackTimes.push(await time(() => processLayerStream(createReadStream(big, { highWaterMark: MB }), { unpackDir: u })));
      await rm(u, { recursive: true, force: true });
    }

    const best = (xs: number[]): number => Math.min(...xs);
    const round = (x: number): number => Math.round(x * 1000) / 1000;
    const result = {
      bench: 'images',
      layers: LAYERS,
      image_mb: TOTAL / MB,
      compressed_mb: round(compressed / MB),
      runs: RUNS,
      pull_s: round(best(pullTimes)),
      skopeo_copy_s: round(best(skopeoTimes)),
      pull_ratio: round(best(pullTimes) / best(skopeoTimes)),
      pull_goal: 1.2,
      skopeo_copy_plus_tar_x_s: round(best(skopeoTarTimes)),
      pull_vs_skopeo_plus_tar_ratio: round(best(pullTimes) / best(skopeoTarTimes)),
      unpack_s: round(best(unpackTimes)),
      tar_x_s: round(best(tarTimes)),
      unpack_ratio: round(best(unpackTimes) / best(tarTimes)),
      unpack_goal: 1.5,
      all: { pull: pullTimes.map(round), skopeo: skopeoTimes.map(round), skopeo_tar: skopeoTarTimes.map(round), unpack: unpackTimes.map(round), tar: tarTimes.map(round) },
    };
    process.stderr.write(
      `pull ${result.pull_s}s vs skopeo copy ${result.skopeo_copy_s}s (ratio ${result.pull_ratio}, goal ≤ 1.2)\n` +
        `  (context: skopeo copy + tar -xzf of its layers ${result.skopeo_copy_plus_tar_x_s}s; pull is ${result.pull_vs_skopeo_plus_tar_ratio} of that)\n` +
        `unpack ${result.unpack_s}s vs tar -xzf ${result.tar_x_s}s (ratio ${result.unpack_ratio}, goal ≤ 1.5)\n`,
    );
    process.stdout.write(`${JSON.stringify({ ...result, ratio: Math.max(result.pull_ratio / 1.2, result.unpack_ratio / 1.5) })}\n`);
  } finally {
    await reg.stop();
    await cleanup();
  }
}

await main();
