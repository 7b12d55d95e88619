import assert from 'node:assert/strict';
import { pickPlatform, synthesizeManifest } from './manifest.js';
import { MediaType, type Index } from './schemas.js';
import { sha256, type Digest } from './digest.js';

const d = (c: string): Digest => `sha256:${c.repeat(64)}` as Digest;

describe('image/manifest', () => {
  it('picks linux/amd64 from an index', () => {
    const idx: Index = {
      schemaVersion: 2,
      manifests: [
        { mediaType: MediaType.OciManifest, digest: d('1'), size: 1, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        { mediaType: MediaType.OciManifest, digest: d('2'), size: 1, platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: MediaType.OciManifest, digest: d('3'), size: 1, platform: { os: 'windows', architecture: 'amd64' } },
      ],
    };
    assert.equal(pickPlatform(idx)?.digest, d('2'));
    assert.equal(pickPlatform({ ...idx, manifests: [idx.manifests[0]!] }), undefined);
    assert.equal(pickPlatform({ schemaVersion: 2, manifests: [{ mediaType: MediaType.OciManifest, digest: d('4'), size: 1 }] })?.digest, d('4'));
  });

  it('synthesises a stable manifest: docker type only when all layers are docker gzip', () => {
    const rec = {
      id: d('a'),
      configMediaType: MediaType.OciConfig,
      addedAt: 'x',
      layers: [{ diffId: d('b'), chainId: d('b'), blob: d('c'), mediaType: MediaType.DockerLayerGzip, blobSize: 10, size: 20 }],
    };
    const m1 = synthesizeManifest(rec, 5);
    assert.equal(m1.mediaType, MediaType.DockerManifest);
    assert.equal(m1.digest, sha256(m1.bytes));
    assert.equal(synthesizeManifest(rec, 5).digest, m1.digest);
    const m2 = synthesizeManifest({ ...rec, layers: [{ ...rec.layers[0]!, mediaType: MediaType.OciLayer }] }, 5);
    assert.equal(m2.mediaType, MediaType.OciManifest);
    assert.equal(JSON.parse(m2.bytes.toString()).config.digest, d('a'));
  });
});
