import type { Digest } from './digest.js';
import type { ImageStore, LayerSource } from './store.js';
import { MediaType, type ImageConfigBase } from './schemas.js';
import type { ImageLayer } from './records.js';

export interface ImportImageOptions {
  /** Layer tars (plain or gzip), bottom first. */
  layers: LayerSource[];
  /** The image config without rootfs (filled in from the layers). */
  config: ImageConfigBase;
  tags?: string[];
}

/**
 * Creates an image from layer tars and a config: the path for fixtures, `import` and (later)
 * `build`. All or nothing: on failure whatever this created is removed again.
 */
export async function importImage(store: ImageStore, opts: ImportImageOptions): Promise<Digest> {
  const lease = store.lease();
  try {
    const layers: ImageLayer[] = [];
    let parent: Digest | null = null;
    for (const [i, src] of opts.layers.entries()) {
      const l = await store.ingestLayer(lease, src, { parent, what: `layer ${i + 1}/${opts.layers.length}` });
      layers.push(l);
      parent = l.chainId;
    }
    const config = { ...opts.config, rootfs: { type: 'layers' as const, diff_ids: layers.map((l) => l.diffId) } };
    const [id] = await store.commitImages(lease, [
      { config: Buffer.from(JSON.stringify(config)), configMediaType: MediaType.OciConfig, layers, tags: opts.tags ?? [] },
    ]);
    return id!;
  } catch (err) {
    await lease.rollback();
    throw err;
  }
}
