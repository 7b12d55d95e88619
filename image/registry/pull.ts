import PQueue from 'p-queue';
import { chainIds, type Digest } from '../digest.js';
import { InvalidImageError } from '../errors.js';
import { describePlatforms, pickPlatform } from '../manifest.js';
import type { ImageLayer } from '../records.js';
import { familiarName, familiarRepository, formatReference, parseReference, repositoryName } from '../reference.js';
import { ImageConfigSchema, INDEX_TYPES, IndexSchema, ManifestSchema, parseJson, type Platform } from '../schemas.js';
import type { ImageStore } from '../store.js';
import { clientFor, type RegistryOptions } from './options.js';
import { shortId, type ProgressEvent } from './progress.js';

export interface PullOptions extends RegistryOptions {
  platform?: Platform;
}

export interface PullResult {
  id: Digest;
  /** Digest of what the reference pointed at (manifest or index): the RepoDigest. */
  digest: Digest;
  /** Full reference pulled, e.g. "docker.io/library/busybox:latest". */
  reference: string;
  upToDate: boolean;
}

/**
 * `pull REF`: resolves the manifest (picking linux/amd64 from lists and indexes), then downloads
 * all layers in parallel, each unpacked while it downloads and verified against the manifest and
 * config digests. The image becomes visible only when everything is in place.
 */
export async function pullImage(store: ImageStore, name: string, opts: PullOptions = {}): Promise<PullResult> {
  const ref = parseReference(name);
  const emit = (e: ProgressEvent): void => opts.onProgress?.(e);
  const client = await clientFor(ref.domain, opts);
  const repo = ref.path;
  // What the name pulled pointed at before: "Image is up to date" means the name did not move (Docker's
  // rule), not that the same image was there under another name.
  const before = store.resolve(formatReference(ref))?.id;

  const top = await client.getManifest(repo, ref.digest ?? ref.tag ?? 'latest');
  // After the manifest resolved, as Docker's daemon does: a pull that cannot start printed nothing.
  emit({ status: `${ref.tag ?? ref.digest}: Pulling from ${familiarRepository(ref)}` });
  let m = top;
  if (INDEX_TYPES.includes(top.mediaType)) {
    const index = parseJson(IndexSchema, top.bytes, `index ${top.digest}`);
    const picked = pickPlatform(index, opts.platform);
    if (!picked) throw new InvalidImageError(`${familiarName(ref)}: no matching manifest for linux/amd64 in the manifest list (has ${describePlatforms(index)})`);
    m = await client.getManifest(repo, picked.digest);
    if (INDEX_TYPES.includes(m.mediaType)) throw new InvalidImageError(`${familiarName(ref)}: nested manifest lists are not supported`);
  }
  const manifest = parseJson(ManifestSchema, m.bytes, `manifest ${m.digest}`);
  const configBytes = await client.getBlobBytes(repo, manifest.config.digest);
  const config = parseJson(ImageConfigSchema, configBytes, `image config ${manifest.config.digest}`);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new InvalidImageError(`manifest ${m.digest} has ${manifest.layers.length} layers, its config ${diffIds.length} diff_ids`);
  }
  const chains = chainIds(diffIds);

  const lease = store.lease();
  try {
    // Each layer is hashed, gunzipped and unpacked by its own tsunpack process, so layers in flight
    // use all cores; 6 is also containers/image's (skopeo, podman) default of parallel downloads.
    const queue = new PQueue({ concurrency: opts.concurrency ?? 6 });
    const layers: ImageLayer[] = new Array<ImageLayer>(manifest.layers.length);
    let failed = false;
    const tasks = manifest.layers.map((ld, i) => {
      const id = shortId(ld.digest);
      emit({ id, status: 'Waiting' });
      return queue.add(async () => {
        // After one layer failed the pull is lost: do not start the others.
        if (failed) return;
        let current = 0;
        let opened = false;
        const layer = await store.ingestLayer(
          lease,
          () => {
            opened = true;
            emit({ id, status: 'Downloading', current: 0, total: ld.size });
            return client.blobChunks(repo, ld.digest, ld.size, {
              onData: (n) => {
                current += n;
                emit({ id, status: 'Downloading', current, total: ld.size });
              },
              onRetry: (attempt, err) => emit({ id, status: `Retrying (${attempt}) after: ${err instanceof Error ? err.message : String(err)}` }),
            });
          },
          {
            parent: i === 0 ? null : chains[i - 1]!,
            diffId: diffIds[i]!,
            blob: { digest: ld.digest, size: ld.size },
            mediaType: ld.mediaType,
            what: `layer ${ld.digest}`,
          },
        );
        layers[i] = layer;
        emit({ id, status: opened ? 'Pull complete' : 'Already exists' });
      }).catch((err: unknown) => {
        failed = true;
        throw err;
      });
    });
    const settled = await Promise.allSettled(tasks);
    const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;

    const repoDigest = `${repositoryName(ref)}@${top.digest}`;
    const [id] = await store.commitImages(lease, [
      {
        config: configBytes,
        configMediaType: manifest.config.mediaType,
        layers,
        manifest: { digest: m.digest, mediaType: m.mediaType, bytes: m.bytes },
        tags: ref.tag && !ref.digest ? [formatReference(ref)] : [],
        repoDigests: [repoDigest],
      },
    ]);
    const upToDate = before === id;
    // The "Digest:" / "Status:" summary is the caller's to print from the result (the Engine API route
    // does): printed here as well, it came out twice.
    return { id: id!, digest: top.digest, reference: formatReference(ref), upToDate };
  } catch (err) {
    await lease.rollback();
    throw err;
  }
}

