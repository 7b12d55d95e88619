import { createWriteStream } from 'node:fs';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { sha256, type Digest } from '../digest.js';
import { MediaType, type ImageConfigBase } from '../schemas.js';
import { TarWriter, type TarHeader } from '../../lib/tar/index.js';

export type TarEntry = { h: TarHeader; data?: Uint8Array };

/** An in-memory tar (for test layers). */
export async function tarBuffer(entries: TarEntry[]): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const w = new TarWriter(out);
  for (const e of entries) await w.add(e.h, e.data);
  await w.finish();
  return Buffer.concat(chunks);
}

async function writeTarFile(path: string, entries: TarEntry[]): Promise<void> {
  const w = new TarWriter(createWriteStream(path));
  for (const e of entries) await w.add(e.h, e.data);
  await w.finish();
}

export interface TestImage {
  /** Layer tars, bottom first (uncompressed). */
  layers: Buffer[];
  config?: ImageConfigBase;
  tags?: string[];
  /** Override the diff_ids written into the config (to craft mismatches). */
  diffIds?: Digest[];
}

function configFor(img: TestImage): Buffer {
  const cfg = {
    architecture: 'amd64',
    os: 'linux',
    ...(img.config ?? {}),
    rootfs: { type: 'layers', diff_ids: img.diffIds ?? img.layers.map((l) => sha256(l)) },
  };
  return Buffer.from(JSON.stringify(cfg));
}

/** A classic `docker save` archive: <hex>.json configs, <n>/layer.tar, manifest.json. */
export async function writeDockerArchive(path: string, images: TestImage[]): Promise<void> {
  const entries: TarEntry[] = [];
  const manifest: Array<{ Config: string; RepoTags: string[]; Layers: string[] }> = [];
  images.forEach((img, i) => {
    const cfg = configFor(img);
    const cfgName = `${sha256(cfg).slice(7)}.json`;
    entries.push({ h: { name: cfgName, type: 'file' }, data: cfg });
    const layers = img.layers.map((l, j) => {
      const dir = `${i}-${j}`;
      entries.push({ h: { name: `${dir}/`, type: 'dir' } });
      entries.push({ h: { name: `${dir}/layer.tar`, type: 'file' }, data: l });
      return `${dir}/layer.tar`;
    });
    manifest.push({ Config: cfgName, RepoTags: img.tags ?? [], Layers: layers });
  });
  entries.push({ h: { name: 'manifest.json', type: 'file' }, data: Buffer.from(JSON.stringify(manifest)) });
  await writeTarFile(path, entries);
}

/** An OCI image layout archive with gzip layers. `tamper` corrupts a layer blob after hashing. */
export async function writeOciArchive(path: string, images: TestImage[], opts: { tamper?: boolean } = {}): Promise<void> {
  const entries: TarEntry[] = [{ h: { name: 'oci-layout', type: 'file' }, data: Buffer.from('{"imageLayoutVersion":"1.0.0"}') }];
  const blobs = new Map<Digest, Buffer>();
  const index: { schemaVersion: 2; manifests: unknown[] } = { schemaVersion: 2, manifests: [] };
  for (const img of images) {
    const cfg = configFor(img);
    blobs.set(sha256(cfg), cfg);
    const layers = img.layers.map((l) => {
      const gz = gzipSync(l);
      const d = sha256(gz);
      blobs.set(d, opts.tamper ? Buffer.concat([gz.subarray(0, gz.length - 1), Buffer.from([gz[gz.length - 1]! ^ 1])]) : gz);
      return { mediaType: MediaType.OciLayerGzip, digest: d, size: gz.length };
    });
    const m = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: MediaType.OciConfig, digest: sha256(cfg), size: cfg.length }, layers }),
    );
    blobs.set(sha256(m), m);
    for (const t of img.tags ?? [undefined]) {
      index.manifests.push({
        mediaType: MediaType.OciManifest,
        digest: sha256(m),
        size: m.length,
        ...(t ? { annotations: { 'io.containerd.image.name': t } } : {}),
      });
    }
  }
  for (const [d, b] of blobs) entries.push({ h: { name: `blobs/sha256/${d.slice(7)}`, type: 'file' }, data: b });
  entries.push({ h: { name: 'index.json', type: 'file' }, data: Buffer.from(JSON.stringify(index)) });
  await writeTarFile(path, entries);
}
