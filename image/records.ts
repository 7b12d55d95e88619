import { z } from 'zod';
import { DigestSchema, type Digest } from './digest.js';

/** What the store knows about one layer of an image. */
export const ImageLayerSchema = z.object({
  diffId: DigestSchema,
  chainId: DigestSchema,
  /** The blob kept for save/push: as pulled or loaded (compressed or not). */
  blob: DigestSchema,
  mediaType: z.string(),
  /** Blob size in bytes. */
  blobSize: z.number().int().nonnegative(),
  /** Uncompressed tar size in bytes. */
  size: z.number().int().nonnegative(),
});
export type ImageLayer = z.infer<typeof ImageLayerSchema>;

/** `images/<hex>.json`: an image is visible once this record exists, and only then. */
export const ImageRecordSchema = z.object({
  id: DigestSchema,
  configMediaType: z.string(),
  layers: z.array(ImageLayerSchema),
  /** The distribution manifest the image came with (pull, OCI load), if any. */
  manifest: z.object({ digest: DigestSchema, mediaType: z.string() }).optional(),
  /** When it entered this store (ISO 8601). */
  addedAt: z.string(),
  lastTagTime: z.string().optional(),
});
export type ImageRecord = z.infer<typeof ImageRecordSchema>;

/** repositories.json: full reference → image ID. Tags are "repo:tag", digests "repo@sha256:…". */
export const RepositoriesSchema = z.object({
  tags: z.record(z.string(), DigestSchema),
  digests: z.record(z.string(), DigestSchema),
});
export type Repositories = z.infer<typeof RepositoriesSchema>;

/** containers.json: container ID → image ID it runs from. */
export const ContainerUsesSchema = z.record(z.string(), DigestSchema);

export function emptyRepositories(): Repositories {
  return { tags: {}, digests: {} };
}

export type { Digest };
