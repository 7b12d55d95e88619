import { sha256, type Digest } from './digest.js';
import type { ImageRecord } from './records.js';
import { MediaType, type Descriptor, type Index, type Manifest, type Platform } from './schemas.js';

const DOCKER_LAYER_TYPES = new Set<string>([MediaType.DockerLayerGzip, MediaType.DockerForeignLayerGzip]);

/**
 * The distribution manifest for an image we did not receive one for (loaded from a docker-archive,
 * imported, built). Docker schema 2 when every layer is a gzip docker layer, else OCI; the JSON is
 * deterministic so the digest is stable.
 */
export function synthesizeManifest(rec: ImageRecord, configSize: number): { bytes: Buffer; digest: Digest; mediaType: string } {
  const docker = rec.layers.length > 0 && rec.layers.every((l) => DOCKER_LAYER_TYPES.has(l.mediaType));
  const mediaType = docker ? MediaType.DockerManifest : MediaType.OciManifest;
  const m: Manifest = {
    schemaVersion: 2,
    mediaType,
    config: { mediaType: docker ? MediaType.DockerConfig : MediaType.OciConfig, digest: rec.id, size: configSize },
    layers: rec.layers.map((l) => ({ mediaType: l.mediaType, digest: l.blob, size: l.blobSize })),
  };
  const bytes = Buffer.from(JSON.stringify(m, null, 2));
  return { bytes, digest: sha256(bytes), mediaType };
}

/** Picks the linux/amd64 entry of a manifest list / index (or the only entry without platforms). */
export function pickPlatform(index: Index, want: Platform = { os: 'linux', architecture: 'amd64' }): Descriptor | undefined {
  const withPlatform = index.manifests.filter((d) => d.platform);
  if (withPlatform.length === 0) return index.manifests.length === 1 ? index.manifests[0] : undefined;
  const matches = withPlatform.filter((d) => d.platform!.os === want.os && d.platform!.architecture === want.architecture);
  if (want.variant) {
    const v = matches.find((d) => d.platform!.variant === want.variant);
    if (v) return v;
  }
  return matches[0];
}

export function describePlatforms(index: Index): string {
  const ps = index.manifests.map((d) => (d.platform ? `${d.platform.os}/${d.platform.architecture}${d.platform.variant ? `/${d.platform.variant}` : ''}` : '?'));
  return ps.join(', ') || 'none';
}
