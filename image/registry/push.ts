import PQueue from 'p-queue';
import type { Digest } from '../digest.js';
import { synthesizeManifest } from '../manifest.js';
import { parseReference, repositoryName } from '../reference.js';
import type { ImageStore } from '../store.js';
import { RegistryError } from './client.js';
import { clientFor, type RegistryOptions } from './options.js';
import { shortId, type ProgressEvent } from './progress.js';

export interface PushOptions extends RegistryOptions {
  /** Upload blobs larger than this in PATCH chunks of this size (default: one monolithic PUT). */
  chunkSize?: number;
}

export interface PushResult {
  digest: Digest;
  size: number;
  /** "host/repo@sha256:…" */
  repoDigest: string;
}

/**
 * `push REF`: uploads the blobs the registry lacks (HEAD first), in parallel, then the manifest.
 * A manifest the image came with is pushed byte for byte, so its digest does not change.
 */
export async function pushImage(store: ImageStore, name: string, opts: PushOptions = {}): Promise<PushResult> {
  const ref = parseReference(name);
  if (ref.digest) throw new RegistryError(`cannot push a digest reference (${name}): push a tag`);
  const rec = store.get(name);
  const emit = (e: ProgressEvent): void => opts.onProgress?.(e);
  const client = await clientFor(ref.domain, opts);
  const repo = ref.path;
  const tag = ref.tag ?? 'latest';
  emit({ status: `The push refers to repository [${repositoryName(ref)}]` });

  const configSize = await store.blobs.size(rec.id);
  const manifest =
    rec.manifest && (await store.blobs.has(rec.manifest.digest))
      ? { ...rec.manifest, bytes: await store.blobs.readBytes(rec.manifest.digest, 'manifest') }
      : synthesizeManifest(rec, configSize);

  const blobs: Array<{ digest: Digest; size: number; isLayer: boolean }> = [
    ...rec.layers.map((l) => ({ digest: l.blob, size: l.blobSize, isLayer: true })),
    { digest: rec.id, size: configSize, isLayer: false },
  ];
  const queue = new PQueue({ concurrency: opts.concurrency ?? 3 });
  const maxRetries = opts.maxRetries ?? 3;
  let failed = false;
  const tasks = [...new Map(blobs.map((b) => [b.digest, b])).values()].map((b) => {
    const id = shortId(b.digest);
    if (b.isLayer) emit({ id, status: 'Preparing' });
    return queue.add(async () => {
      if (failed) return;
      if (await client.hasBlob(repo, b.digest)) {
        if (b.isLayer) emit({ id, status: 'Layer already exists' });
        return;
      }
      for (let attempt = 0; ; attempt++) {
        let current = 0;
        try {
          await client.uploadBlob(repo, b.digest, b.size, () => store.blobs.createReadStream(b.digest), {
            ...(opts.chunkSize ? { chunkSize: opts.chunkSize } : {}),
            onData: (n) => {
              current += n;
              if (b.isLayer) emit({ id, status: 'Pushing', current, total: b.size });
            },
          });
          break;
        } catch (err) {
          const retryable = err instanceof TypeError || (err instanceof RegistryError && err.retryable);
          if (!retryable || attempt >= maxRetries) throw err;
          emit({ id, status: `Retrying (${attempt + 1}) after: ${err.message}` });
        }
      }
      if (b.isLayer) emit({ id, status: 'Pushed' });
    }).catch((err: unknown) => {
      failed = true;
      throw err;
    });
  });
  const settled = await Promise.allSettled(tasks);
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;

  const digest = await client.putManifest(repo, tag, manifest.bytes, manifest.mediaType);
  const repoDigest = `${repositoryName(ref)}@${digest}`;
  await store.recordPushed(rec.id, { digest, mediaType: manifest.mediaType, bytes: manifest.bytes }, repoDigest);
  // The "TAG: digest: … size: …" summary is the caller's to print (the Engine API route does, with the
  // tag it was asked for): printed here as well, it came out twice.
  return { digest, size: manifest.bytes.length, repoDigest };
}
