// commit, export and import: a container's filesystem to a new image or a tar, and a tar to an image.
// Both views are read-only overlay mounts made here (the container's own root lives in its mount
// namespace): the image alone, and the image with the container's upper dir on top.
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { mountView } from '../../image/build/mounts.js';
import { diffItems, tarStream } from '../../image/build/layer-tar.js';
import { importImage, type ContainerConfig, type Digest, type ImageConfig, type ImageStore } from '../../image/index.js';
import { MediaType } from '../../image/schemas.js';
import type { ContainerRecord } from './record.js';

export interface CommitOptions {
  /** "repo:tag" to point at the new image; none = dangling. */
  tag?: string;
  comment?: string;
  author?: string;
  /** Config the request body gave (Docker merges it over the container's). */
  config?: ContainerConfig;
  changes: (config: ContainerConfig) => ContainerConfig;
}

/** Where read-only views are mounted; removed with them. */
async function withViews<T>(tmpRoot: string, lowers: string[], upper: string | undefined, fn: (image: string, merged: string) => Promise<T>): Promise<T> {
  const tmp = await mkdtemp(join(tmpRoot, 'snap-'));
  const empty = join(tmp, 'empty');
  const image = await mountView(lowers, empty, join(tmp, 'image'));
  try {
    const merged = await mountView(upper ? [upper, ...lowers] : lowers, empty, join(tmp, 'merged'));
    try {
      return await fn(image.root, merged.root);
    } finally {
      await merged.unmount();
    }
  } finally {
    await image.unmount();
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The image config a commit writes: the image's, the container's settings on top, then the changes. */
export function commitConfig(base: ImageConfig, c: ContainerRecord, o: CommitOptions): ImageConfig {
  const cc = c.Config;
  let config: ContainerConfig = {
    ...(base.config ?? {}),
    User: cc.User,
    Env: cc.Env,
    Cmd: cc.Cmd,
    Entrypoint: cc.Entrypoint ?? undefined,
    WorkingDir: cc.WorkingDir,
    Labels: cc.Labels,
    ExposedPorts: cc.ExposedPorts,
    Volumes: cc.Volumes,
    ...(cc.StopSignal ? { StopSignal: cc.StopSignal } : {}),
    ...(o.config ?? {}),
  };
  config = o.changes(config);
  const created = new Date().toISOString();
  return {
    ...base,
    created,
    ...(o.author ? { author: o.author } : {}),
    config,
    history: [...(base.history ?? []), { created, created_by: [c.Path, ...c.Args].join(' '), ...(o.author ? { author: o.author } : {}), ...(o.comment ? { comment: o.comment } : {}) }],
  };
}

/** Makes an image of the container: its upper dir (deletions as whiteouts) as one more layer. */
export async function commitContainer(store: ImageStore, c: ContainerRecord, upper: string, tmpRoot: string, o: CommitOptions): Promise<Digest> {
  const base = store.get(c.Image);
  const baseConfig = await store.config(c.Image);
  const config = commitConfig(baseConfig, c, o);
  const lease = store.lease();
  try {
    for (const l of base.layers) {
      lease.layers.add(l.chainId);
      lease.blobs.add(l.blob);
    }
    const layer = await withViews(tmpRoot, store.lowerDirs(c.Image), upper, (image, merged) =>
      store.ingestLayer(lease, () => tarStream(diffItems(upper, image, merged)), { parent: base.layers.at(-1)?.chainId ?? null, what: `container ${c.Id} changes`, mediaType: MediaType.OciLayer }),
    );
    const layers = [...base.layers, layer];
    const full = { ...config, rootfs: { type: 'layers' as const, diff_ids: layers.map((l) => l.diffId) } };
    const [id] = await store.commitImages(lease, [{ config: Buffer.from(JSON.stringify(full)), configMediaType: MediaType.OciConfig, layers, tags: o.tag ? [o.tag] : [] }]);
    return id!;
  } catch (err) {
    await lease.rollback();
    throw err;
  } finally {
    store.releaseLease(lease);
  }
}

/**
 * The container's merged root as a tar, streamed to `sink` (export). The views stay mounted until
 * the stream is done.
 */
export async function exportRoot(store: ImageStore, c: ContainerRecord, upper: string, tmpRoot: string, sink: (tar: AsyncIterable<Uint8Array>) => Promise<void>): Promise<void> {
  await withViews(tmpRoot, store.lowerDirs(c.Image), upper, async (_image, merged) => {
    // Walking the merged view against itself lists every entry and no whiteouts.
    await sink(tarStream(diffItems(merged, merged, merged)));
  });
}

/** docker import: one layer from a tar stream (plain or compressed), config from the changes. */
export async function importTar(store: ImageStore, tar: AsyncIterable<Uint8Array>, o: { tag?: string; message?: string; config: ContainerConfig }): Promise<Digest> {
  const created = new Date().toISOString();
  return importImage(store, {
    layers: [() => tar],
    config: { architecture: process.arch === 'x64' ? 'amd64' : process.arch, os: 'linux', created, config: o.config, history: [{ created, created_by: '', comment: o.message || 'Imported from -' }] },
    ...(o.tag ? { tags: [o.tag] } : {}),
  });
}
