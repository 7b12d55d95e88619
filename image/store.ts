import { chmod, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ZodType } from 'zod';
import { BlobStore } from './blobs.js';
import { chainIdOf, digestHex, isDigest, sha256, type Digest } from './digest.js';
import { DigestMismatchError, ImageConflictError, InvalidImageError, NoSuchImageError } from './errors.js';
import { atomicWriteFile, isErrno, tempDir } from './fsutil.js';
import { LayerStore } from './layers.js';
import { Mutex } from './mutex.js';
import {
  ContainerUsesSchema,
  ImageRecordSchema,
  RepositoriesSchema,
  emptyRepositories,
  type ImageLayer,
  type ImageRecord,
  type Repositories,
} from './records.js';
import { familiarName, formatReference, parseReference, repositoryName, type Reference } from './reference.js';
import { ImageConfigSchema, MediaType, parseJson, type ImageConfig } from './schemas.js';
import { processLayerStream, syncFilesystem } from './unpack.js';

/**
 * Blobs and layers an operation in flight has written or relies on but no image references yet.
 * GC leaves them alone; rollback() removes what the operation created if it fails.
 */
export class Lease {
  readonly blobs = new Set<Digest>();
  readonly layers = new Set<Digest>();
  readonly createdBlobs = new Set<Digest>();
  readonly createdLayers = new Set<Digest>();
  constructor(private readonly store: ImageStore) {}

  async rollback(): Promise<void> {
    await this.store.rollbackLease(this);
  }

  release(): void {
    this.store.releaseLease(this);
  }
}

export type LayerChunks = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
export type LayerSource = () => LayerChunks | Promise<LayerChunks>;

export interface IngestLayerOptions {
  parent: Digest | null;
  /** The blob's announced digest and size (from a manifest); verified. */
  blob?: { digest: Digest; size?: number };
  /** The diffID the image config announces; verified. */
  diffId?: Digest;
  /** Media type to record; derived from the content when absent. */
  mediaType?: string;
  what?: string;
}

export interface NewImage {
  config: Uint8Array;
  configMediaType?: string;
  layers: ImageLayer[];
  manifest?: { digest: Digest; mediaType: string; bytes: Uint8Array };
  /** Names to point at this image ("busybox:latest", full refs, or refs with a digest). */
  tags?: string[];
  repoDigests?: string[];
}

export interface RemoveResult {
  Untagged?: string;
  Deleted?: string;
}

export interface PruneResult {
  ImagesDeleted: RemoveResult[];
  SpaceReclaimed: number;
}

/**
 * The image store under `<dataRoot>/image`: blobs, unpacked layers, image records, tags, and which
 * containers use which image. One instance per daemon.
 */
export class ImageStore {
  readonly blobs: BlobStore;
  readonly layers: LayerStore;
  private readonly imagesDir: string;
  private readonly tmpDir: string;
  private readonly lock = new Mutex();
  private images = new Map<Digest, ImageRecord>();
  private repos: Repositories = emptyRepositories();
  private containers: Record<string, Digest> = {};
  private readonly leases = new Set<Lease>();
  private readonly inflightLayers = new Map<Digest, Promise<ImageLayer>>();
  private readonly configCache = new Map<Digest, ImageConfig>();

  private constructor(readonly root: string) {
    this.tmpDir = join(root, 'tmp');
    this.blobs = new BlobStore(join(root, 'blobs'), this.tmpDir);
    this.layers = new LayerStore(join(root, 'layers'), this.tmpDir);
    this.imagesDir = join(root, 'images');
  }

  /** Opens (creating if needed) the store in `<dataRoot>/image`. Leftovers of a crash are cleared. */
  static async open(dataRoot: string): Promise<ImageStore> {
    const s = new ImageStore(join(dataRoot, 'image'));
    await s.init();
    return s;
  }

  private async init(): Promise<void> {
    // Image content and layers are the daemon's alone (Docker: 0700).
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    await chmod(this.root, 0o700);
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true });
    await mkdir(this.imagesDir, { recursive: true });
    for (const name of await readdir(this.imagesDir)) {
      if (!name.endsWith('.json')) {
        await rm(join(this.imagesDir, name), { force: true });
        continue;
      }
      const path = join(this.imagesDir, name);
      const rec = parseJson(ImageRecordSchema, await readFile(path), path);
      this.images.set(rec.id, rec);
    }
    this.repos = await this.readJsonFile('repositories.json', RepositoriesSchema, emptyRepositories());
    this.containers = await this.readJsonFile('containers.json', ContainerUsesSchema, {});
    // Names whose image record is gone (crash between writes) are dropped.
    for (const map of [this.repos.tags, this.repos.digests]) {
      for (const [k, v] of Object.entries(map)) if (!this.images.has(v)) delete map[k];
    }
    // Blobs and layers no record references are leftovers of an interrupted operation and were
    // possibly never flushed: never reuse them.
    await this.gcLocked();
  }

  private async readJsonFile<T>(name: string, schema: ZodType<T>, dflt: T): Promise<T> {
    const path = join(this.root, name);
    try {
      return parseJson(schema, await readFile(path), path);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return dflt;
      throw err;
    }
  }

  /* ---------- leases and ingestion ---------- */

  lease(): Lease {
    const l = new Lease(this);
    this.leases.add(l);
    return l;
  }

  releaseLease(l: Lease): void {
    this.leases.delete(l);
  }

  async rollbackLease(l: Lease): Promise<void> {
    this.leases.delete(l);
    await this.lock.run(async () => {
      const { blobs, layers } = this.referenced();
      for (const d of l.createdLayers) if (!layers.has(d)) await this.layers.delete(d);
      for (const d of l.createdBlobs) if (!blobs.has(d)) await this.blobs.delete(d);
    });
  }

  /** Stores a blob (verified against `expected`) under a lease. */
  async putBlob(lease: Lease, bytes: Uint8Array, expected?: Digest, what = 'blob'): Promise<Digest> {
    const info = await this.blobs.writeBytes(bytes, expected ? { digest: expected } : {}, what);
    lease.blobs.add(info.digest);
    if (info.created) lease.createdBlobs.add(info.digest);
    return info.digest;
  }

  /**
   * Brings one layer into the store: its blob (kept as given) and its unpacked dir. When the layer
   * and blob are already present the source is never opened.
   */
  async ingestLayer(lease: Lease, source: LayerSource, opts: IngestLayerOptions): Promise<ImageLayer> {
    if (opts.diffId) {
      const chainId = chainIdOf(opts.parent, opts.diffId);
      const key = `sha256:${digestHex(sha256(`${chainId} ${opts.blob?.digest ?? ''}`))}` as Digest;
      const running = this.inflightLayers.get(key);
      if (running) {
        const r = await running;
        lease.layers.add(r.chainId);
        lease.blobs.add(r.blob);
        return r;
      }
      const p = this.ingestLayerOnce(lease, source, opts);
      this.inflightLayers.set(key, p);
      try {
        return await p;
      } finally {
        this.inflightLayers.delete(key);
      }
    }
    return this.ingestLayerOnce(lease, source, opts);
  }

  private async ingestLayerOnce(lease: Lease, source: LayerSource, opts: IngestLayerOptions): Promise<ImageLayer> {
    const what = opts.what ?? 'layer';
    const knownChain = opts.diffId ? chainIdOf(opts.parent, opts.diffId) : undefined;
    if (knownChain) lease.layers.add(knownChain);
    if (opts.blob) lease.blobs.add(opts.blob.digest);
    const haveLayer = knownChain !== undefined && (await this.layers.has(knownChain));
    const haveBlob = opts.blob !== undefined && (await this.blobs.has(opts.blob.digest));
    if (haveLayer && haveBlob && knownChain && opts.blob && opts.diffId) {
      const meta = await this.layers.meta(knownChain);
      return {
        diffId: opts.diffId,
        chainId: knownChain,
        blob: opts.blob.digest,
        mediaType: opts.mediaType ?? MediaType.OciLayerGzip,
        blobSize: await this.blobs.size(opts.blob.digest),
        size: meta.size,
      };
    }

    const blobFile = haveBlob ? undefined : await this.blobs.stagePath();
    const staging = haveLayer ? undefined : await this.layers.createStaging();
    try {
      const input = await source();
      const r = await processLayerStream(input, {
        blobFile,
        unpackDir: staging ? join(staging, 'diff') : undefined,
        expectedBlobDigest: opts.blob?.digest,
        what,
      });
      if (opts.blob && r.blobDigest !== opts.blob.digest) throw new DigestMismatchError(what, opts.blob.digest, r.blobDigest);
      if (opts.blob?.size !== undefined && r.blobSize !== opts.blob.size) {
        throw new InvalidImageError(`${what}: size mismatch: expected ${opts.blob.size} bytes, got ${r.blobSize}`);
      }
      if (opts.diffId && r.diffId !== opts.diffId) {
        throw new DigestMismatchError(`${what}: uncompressed content (diffID)`, opts.diffId, r.diffId);
      }
      const chainId = chainIdOf(opts.parent, r.diffId);
      lease.layers.add(chainId);
      lease.blobs.add(r.blobDigest);
      if (blobFile) {
        // tsunpack hashed exactly what it wrote; the digest was checked above when one was announced.
        if (await this.blobs.adopt(blobFile, r.blobDigest)) lease.createdBlobs.add(r.blobDigest);
      }
      if (staging) {
        const created = await this.layers.commit(staging, { chainId, diffId: r.diffId, parent: opts.parent, size: r.tarSize });
        if (created) lease.createdLayers.add(chainId);
      }
      const mediaType =
        opts.mediaType ?? (r.compression === 'gzip' ? MediaType.OciLayerGzip : MediaType.OciLayer);
      return { diffId: r.diffId, chainId, blob: r.blobDigest, mediaType, blobSize: r.blobSize, size: r.tarSize };
    } catch (err) {
      if (blobFile) await this.blobs.discardStaged(blobFile);
      if (staging) await this.layers.discard(staging);
      throw err;
    }
  }

  /**
   * Makes images visible: config blob, manifest blob, image records, then names. Everything they
   * reference must already be in the store (under `lease`).
   */
  async commitImages(lease: Lease, imgs: NewImage[]): Promise<Digest[]> {
    const prepared: Array<{ rec: ImageRecord; tags: Reference[]; digests: Reference[] }> = [];
    for (const img of imgs) {
      const config = parseJson(ImageConfigSchema, img.config, 'image config');
      const id = await this.putBlob(lease, img.config, undefined, 'image config');
      const want = config.rootfs.diff_ids;
      const got = img.layers.map((l) => l.diffId);
      if (want.length !== got.length || want.some((d, i) => d !== got[i])) {
        throw new InvalidImageError(`image ${id}: config lists ${want.length} layers (rootfs.diff_ids) that do not match the ${got.length} layers given`);
      }
      let parent: Digest | null = null;
      for (const l of img.layers) {
        if (l.chainId !== chainIdOf(parent, l.diffId)) throw new InvalidImageError(`image ${id}: layer chain mismatch at ${l.diffId}`);
        if (!(await this.layers.has(l.chainId))) throw new InvalidImageError(`image ${id}: layer ${l.chainId} is not in the store`);
        if (!(await this.blobs.has(l.blob))) throw new InvalidImageError(`image ${id}: blob ${l.blob} is not in the store`);
        parent = l.chainId;
      }
      let manifest: ImageRecord['manifest'];
      if (img.manifest) {
        await this.putBlob(lease, img.manifest.bytes, img.manifest.digest, 'manifest');
        manifest = { digest: img.manifest.digest, mediaType: img.manifest.mediaType };
      }
      const now = new Date().toISOString();
      const rec: ImageRecord = {
        id,
        configMediaType: img.configMediaType ?? MediaType.OciConfig,
        layers: img.layers,
        addedAt: now,
        ...(manifest ? { manifest } : {}),
        ...(img.tags?.length ? { lastTagTime: now } : {}),
      };
      const tags = (img.tags ?? []).map((t) => parseReference(t)).map((r) => ({ domain: r.domain, path: r.path, tag: r.tag ?? 'latest' }));
      const digests = (img.repoDigests ?? []).map((t) => parseReference(t, { defaultTag: false }));
      prepared.push({ rec, tags, digests });
    }
    // The commit point: everything the records reference must be on disk before they are.
    await syncFilesystem(this.root);
    return this.lock.run(async () => {
      for (const { rec } of prepared) {
        const existing = this.images.get(rec.id);
        // Re-adding an image keeps its original record (and add time) unless we learnt a manifest.
        const next = existing ? { ...existing, ...(rec.manifest && !existing.manifest ? { manifest: rec.manifest } : {}), ...(rec.lastTagTime ? { lastTagTime: rec.lastTagTime } : {}) } : rec;
        await atomicWriteFile(join(this.imagesDir, `${digestHex(rec.id)}.json`), JSON.stringify(next));
        this.images.set(rec.id, next);
      }
      for (const { rec, tags, digests } of prepared) {
        for (const t of tags) this.repos.tags[formatReference(t)] = rec.id;
        for (const d of digests) if (d.digest) this.repos.digests[`${repositoryName(d)}@${d.digest}`] = rec.id;
      }
      await this.saveRepos();
      lease.release();
      return prepared.map((p) => p.rec.id);
    });
  }

  /**
   * After a push: remembers the manifest (so its digest stays stable) and the repo digest
   * ("host/repo@sha256:…") under which the registry now has the image.
   */
  async recordPushed(id: Digest, manifest: { digest: Digest; mediaType: string; bytes: Uint8Array }, repoDigest: string): Promise<void> {
    const ref = parseReference(repoDigest, { defaultTag: false });
    if (!ref.digest) throw new InvalidImageError(`not a digest reference: ${repoDigest}`);
    const lease = this.lease();
    try {
      await this.putBlob(lease, manifest.bytes, manifest.digest, 'manifest');
      await this.lock.run(async () => {
        const rec = this.images.get(id);
        if (!rec) throw new NoSuchImageError(id);
        if (!rec.manifest) {
          const next = { ...rec, manifest: { digest: manifest.digest, mediaType: manifest.mediaType } };
          await atomicWriteFile(join(this.imagesDir, `${digestHex(id)}.json`), JSON.stringify(next));
          this.images.set(id, next);
        }
        this.repos.digests[`${repositoryName(ref)}@${ref.digest}`] = id;
        await this.saveRepos();
      });
    } finally {
      lease.release();
    }
  }

  private async saveRepos(): Promise<void> {
    await atomicWriteFile(join(this.root, 'repositories.json'), JSON.stringify(this.repos, null, 1));
  }

  private async saveContainers(): Promise<void> {
    await atomicWriteFile(join(this.root, 'containers.json'), JSON.stringify(this.containers));
  }

  /* ---------- lookup ---------- */

  /** Finds an image by ID, unique ID prefix, name[:tag] or name@digest. */
  resolve(name: string): ImageRecord | undefined {
    const s = name.trim();
    const asId = s.startsWith('sha256:') ? s.slice(7) : s;
    if (isDigest(`sha256:${asId}`)) {
      const r = this.images.get(`sha256:${asId}` as Digest);
      if (r) return r;
    }
    if (/^[a-f0-9]{4,63}$/.test(asId)) {
      const matches = [...this.images.keys()].filter((id) => id.startsWith(`sha256:${asId}`));
      if (matches.length === 1) return this.images.get(matches[0]!);
      if (matches.length > 1) throw new ImageConflictError(`image ID prefix "${asId}" is ambiguous: ${matches.length} images match`);
    }
    let ref: Reference;
    try {
      ref = parseReference(s);
    } catch {
      return undefined;
    }
    if (ref.digest) {
      const id = this.repos.digests[`${repositoryName(ref)}@${ref.digest}`];
      if (id) return this.images.get(id);
      // A manifest digest we know under another name still identifies the image.
      for (const rec of this.images.values()) if (rec.manifest?.digest === ref.digest) return rec;
      return undefined;
    }
    const id = this.repos.tags[formatReference(ref)];
    return id ? this.images.get(id) : undefined;
  }

  get(name: string): ImageRecord {
    const r = this.resolve(name);
    if (!r) throw new NoSuchImageError(name);
    return r;
  }

  has(name: string): boolean {
    return this.resolve(name) !== undefined;
  }

  listRecords(): ImageRecord[] {
    return [...this.images.values()];
  }

  /** Familiar "repo:tag" names of an image, sorted. */
  repoTags(id: Digest): string[] {
    return Object.entries(this.repos.tags)
      .filter(([, v]) => v === id)
      .map(([k]) => familiarName(parseReference(k)))
      .sort();
  }

  repoDigests(id: Digest): string[] {
    return Object.entries(this.repos.digests)
      .filter(([, v]) => v === id)
      .map(([k]) => familiarName(parseReference(k)))
      .sort();
  }

  /** The parsed image config: Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts, … */
  async config(name: string): Promise<ImageConfig> {
    const rec = this.get(name);
    const cached = this.configCache.get(rec.id);
    if (cached) return cached;
    const cfg = parseJson(ImageConfigSchema, await this.blobs.readBytes(rec.id, 'image config'), `image config ${rec.id}`);
    this.configCache.set(rec.id, cfg);
    return cfg;
  }

  async configBytes(name: string): Promise<Buffer> {
    const rec = this.get(name);
    return this.blobs.readBytes(rec.id, 'image config');
  }

  /** Overlay lower dirs for a container's root: top layer first, as `lowerdir=` wants them. */
  lowerDirs(name: string): string[] {
    const rec = this.get(name);
    return rec.layers.map((l) => this.layers.diffDir(l.chainId)).reverse();
  }

  /* ---------- containers ---------- */

  /** Records that a container uses an image, so rm and prune keep it. */
  async acquire(name: string, containerId: string): Promise<Digest> {
    const rec = this.get(name);
    return this.lock.run(async () => {
      if (!this.images.has(rec.id)) throw new NoSuchImageError(name);
      this.containers[containerId] = rec.id;
      await this.saveContainers();
      return rec.id;
    });
  }

  async release(containerId: string): Promise<void> {
    await this.lock.run(async () => {
      if (!(containerId in this.containers)) return;
      delete this.containers[containerId];
      await this.saveContainers();
    });
  }

  containersUsing(id: Digest): string[] {
    return Object.entries(this.containers)
      .filter(([, v]) => v === id)
      .map(([k]) => k);
  }

  /* ---------- names ---------- */

  /** `tag SOURCE TARGET`: TARGET (default tag latest) now names SOURCE's image. */
  async tag(source: string, target: string): Promise<void> {
    const rec = this.get(source);
    const ref = parseReference(target);
    if (ref.digest) throw new InvalidImageError(`cannot tag with a digest reference: ${target}`);
    await this.lock.run(async () => {
      this.repos.tags[formatReference(ref)] = rec.id;
      await this.saveRepos();
      const next = { ...rec, lastTagTime: new Date().toISOString() };
      await atomicWriteFile(join(this.imagesDir, `${digestHex(rec.id)}.json`), JSON.stringify(next));
      this.images.set(rec.id, next);
    });
  }

  /**
   * `rmi NAME`: untags a tag; deletes the image when no name and no container is left. By ID, an
   * image with several names or used by a container needs `force`.
   */
  async remove(name: string, opts: { force?: boolean } = {}): Promise<RemoveResult[]> {
    const rec = this.get(name);
    return this.lock.run(async () => {
      const out: RemoveResult[] = [];
      const id = rec.id;
      const users = this.containersUsing(id);
      const tagKeys = Object.keys(this.repos.tags).filter((k) => this.repos.tags[k] === id);
      const digestKeys = Object.keys(this.repos.digests).filter((k) => this.repos.digests[k] === id);
      let byName: string | undefined;
      try {
        const ref = parseReference(name);
        const key = ref.digest ? `${repositoryName(ref)}@${ref.digest}` : formatReference(ref);
        if (tagKeys.includes(key) || digestKeys.includes(key)) byName = key;
      } catch {
        byName = undefined;
      }

      if (byName) {
        // A digest name is dropped with its repository's last tag, like Docker does.
        const repoOf = (k: string): string => (k.includes('@') ? k.slice(0, k.indexOf('@')) : k.slice(0, k.lastIndexOf(':')));
        const repo = repoOf(byName);
        const drop = new Set([byName]);
        if (!byName.includes('@') && !tagKeys.some((k) => k !== byName && repoOf(k) === repo)) {
          for (const d of digestKeys) if (repoOf(d) === repo) drop.add(d);
        }
        const remaining = [...tagKeys, ...digestKeys].filter((k) => !drop.has(k));
        if (remaining.length > 0) {
          for (const k of drop) {
            delete this.repos.tags[k];
            delete this.repos.digests[k];
            out.push({ Untagged: familiarName(parseReference(k)) });
          }
          await this.saveRepos();
          return out;
        }
      }
      if (!byName && tagKeys.length > 1 && !opts.force) {
        throw new ImageConflictError(
          `conflict: unable to delete ${digestHex(id).slice(0, 12)} (must be forced) - image is referenced in multiple repositories`,
        );
      }
      if (users.length > 0 && !opts.force) {
        throw new ImageConflictError(
          `conflict: unable to remove ${name} (must force) - image ${digestHex(id).slice(0, 12)} is used by container ${users[0]!.slice(0, 12)}`,
        );
      }
      for (const k of [...tagKeys, ...digestKeys]) {
        delete this.repos.tags[k];
        delete this.repos.digests[k];
        out.push({ Untagged: familiarName(parseReference(k)) });
      }
      await this.saveRepos();
      if (users.length === 0) {
        await this.deleteImageRecord(id);
        out.push({ Deleted: id });
        await this.gcLocked();
      }
      return out;
    });
  }

  private async deleteImageRecord(id: Digest): Promise<void> {
    await rm(join(this.imagesDir, `${digestHex(id)}.json`), { force: true });
    this.images.delete(id);
    this.configCache.delete(id);
  }

  /**
   * Removes images no container uses: dangling ones (no tag), or all with `all`; then frees
   * layers and blobs nothing references.
   */
  async prune(opts: { all?: boolean } = {}): Promise<PruneResult> {
    return this.lock.run(async () => {
      const deleted: RemoveResult[] = [];
      const used = new Set(Object.values(this.containers));
      const tagged = new Set(Object.values(this.repos.tags));
      for (const id of [...this.images.keys()]) {
        if (used.has(id)) continue;
        if (!opts.all && tagged.has(id)) continue;
        for (const map of [this.repos.tags, this.repos.digests]) {
          for (const [k, v] of Object.entries(map)) {
            if (v !== id) continue;
            delete map[k];
            deleted.push({ Untagged: familiarName(parseReference(k)) });
          }
        }
        await this.saveRepos();
        await this.deleteImageRecord(id);
        deleted.push({ Deleted: id });
      }
      const reclaimed = await this.gcLocked();
      return { ImagesDeleted: deleted, SpaceReclaimed: reclaimed };
    });
  }

  /** Frees layers and blobs that no image and no operation in flight references. */
  async gc(): Promise<number> {
    return this.lock.run(() => this.gcLocked());
  }

  private referenced(): { blobs: Set<Digest>; layers: Set<Digest> } {
    const blobs = new Set<Digest>();
    const layers = new Set<Digest>();
    for (const rec of this.images.values()) {
      blobs.add(rec.id);
      if (rec.manifest) blobs.add(rec.manifest.digest);
      for (const l of rec.layers) {
        blobs.add(l.blob);
        layers.add(l.chainId);
      }
    }
    for (const lease of this.leases) {
      for (const b of lease.blobs) blobs.add(b);
      for (const l of lease.layers) layers.add(l);
    }
    return { blobs, layers };
  }

  private async gcLocked(): Promise<number> {
    const { blobs, layers } = this.referenced();
    let reclaimed = 0;
    for (const chainId of await this.layers.list()) {
      if (layers.has(chainId)) continue;
      try {
        reclaimed += (await this.layers.meta(chainId)).size;
      } catch {
        /* a dir without meta.json is a leftover: still removed */
      }
      await this.layers.delete(chainId);
    }
    for (const d of await this.blobs.list()) {
      if (blobs.has(d)) continue;
      try {
        reclaimed += await this.blobs.size(d);
      } catch {
        /* raced with another delete */
      }
      await this.blobs.delete(d);
    }
    return reclaimed;
  }

  /** Sum of uncompressed layer sizes, what Docker reports as an image's Size. */
  imageSize(rec: ImageRecord): number {
    return rec.layers.reduce((n, l) => n + l.size, 0);
  }

  /** Reference counts for tests and `system df`: images per layer, containers per image. */
  refCounts(): { layers: Map<Digest, number>; images: Map<Digest, number> } {
    const layers = new Map<Digest, number>();
    for (const rec of this.images.values()) for (const l of rec.layers) layers.set(l.chainId, (layers.get(l.chainId) ?? 0) + 1);
    const images = new Map<Digest, number>();
    for (const id of Object.values(this.containers)) images.set(id, (images.get(id) ?? 0) + 1);
    return { layers, images };
  }

  /** A staging dir inside the store (same filesystem, so renames are atomic). Removed at open. */
  async tempDir(prefix: string): Promise<string> {
    return tempDir(this.tmpDir, prefix);
  }
}
