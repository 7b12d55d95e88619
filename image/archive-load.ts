import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { sha256, type Digest } from './digest.js';
import { DigestMismatchError, InvalidImageError, errorMessage } from './errors.js';
import { describePlatforms, pickPlatform } from './manifest.js';
import type { ImageLayer } from './records.js';
import { familiarName, parseReference } from './reference.js';
import {
  DockerArchiveManifestSchema,
  ImageConfigSchema,
  INDEX_TYPES,
  IndexSchema,
  ManifestSchema,
  MediaType,
  parseJson,
  type Descriptor,
} from './schemas.js';
import type { ImageStore, Lease, NewImage } from './store.js';
import { indexTarFile, type TarIndexEntry } from '../lib/tar/index.js';
import { rmrf } from './fsutil.js';

export interface LoadedImage {
  id: Digest;
  /** Familiar names ("busybox:latest") the load pointed at this image. */
  tags: string[];
}

export interface LoadResult {
  images: LoadedImage[];
  /** What `docker load` prints: "Loaded image: x:y" / "Loaded image ID: sha256:…". */
  messages: string[];
}

export interface LoadOptions {
  /** Name for OCI layouts whose index carries only a tag, or no name at all. */
  name?: string;
}

/** A tar archive on disk whose members are read in place. */
class Archive {
  private readonly byName = new Map<string, TarIndexEntry>();
  constructor(
    readonly path: string,
    entries: TarIndexEntry[],
  ) {
    for (const e of entries) this.byName.set(normalise(e.name), e);
  }

  has(name: string): boolean {
    return this.lookup(name) !== undefined;
  }

  /** Follows in-archive symlinks (older `docker save` links duplicate layer.tar files). */
  private lookup(name: string, depth = 0): TarIndexEntry | undefined {
    const e = this.byName.get(normalise(name));
    if (!e || depth > 8) return undefined;
    if (e.type === 'symlink' || e.type === 'hardlink') {
      const target = e.type === 'symlink' ? posix.join(posix.dirname(normalise(name)), e.linkname) : e.linkname;
      return this.lookup(target, depth + 1);
    }
    return e.type === 'file' ? e : undefined;
  }

  member(name: string): TarIndexEntry {
    const e = this.lookup(name);
    if (!e) throw new InvalidImageError(`archive ${this.path}: missing member "${name}"`);
    return e;
  }

  async read(name: string, limit = 64 << 20): Promise<Buffer> {
    const e = this.member(name);
    if (e.size > limit) throw new InvalidImageError(`archive member ${name} is too large (${e.size} bytes)`);
    const fh = await open(this.path, 'r');
    try {
      const buf = Buffer.alloc(e.size);
      const { bytesRead } = await fh.read(buf, 0, e.size, e.offset);
      if (bytesRead !== e.size) throw new InvalidImageError(`archive member ${name} is truncated`);
      return buf;
    } finally {
      await fh.close();
    }
  }

  stream(name: string): AsyncIterable<Uint8Array> | Iterable<Uint8Array> {
    const e = this.member(name);
    if (e.size === 0) return [];
    return createReadStream(this.path, { start: e.offset, end: e.offset + e.size - 1, highWaterMark: 1 << 20 });
  }
}

function normalise(name: string): string {
  return posix.normalize(name.replace(/^\.?\/+/, '')).replace(/^\.\//, '').replace(/\/$/, '');
}

function blobPath(d: Digest): string {
  return `blobs/sha256/${d.slice(7)}`;
}

/**
 * `load -i FILE`: a docker-archive (`docker save`) or an OCI image layout archive, plain or gzip.
 * All or nothing: every image of the archive is verified and unpacked before any becomes visible,
 * and on failure whatever the load added is removed.
 */
export async function loadArchive(store: ImageStore, file: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const scratch = await store.tempDir('load-');
  const lease = store.lease();
  try {
    const plain = await decompressIfNeeded(file, scratch);
    let entries: TarIndexEntry[];
    try {
      entries = await indexTarFile(plain);
    } catch (err) {
      // No path in the message: over the Engine API `file` is the daemon's own temp copy of the upload.
      throw new InvalidImageError(`invalid image archive: ${errorMessage(err)}`);
    }
    const ar = new Archive(plain, entries);
    let images: NewImage[];
    if (ar.has('manifest.json')) images = await fromDockerArchive(store, lease, ar);
    else if (ar.has('index.json')) images = await fromOciLayout(store, lease, ar, opts);
    else throw new InvalidImageError('invalid image archive: no manifest.json (docker-archive) or index.json (OCI image layout) in it');
    const ids = await store.commitImages(lease, images);
    const out: LoadResult = { images: [], messages: [] };
    images.forEach((img, i) => {
      const id = ids[i]!;
      const tags = (img.tags ?? []).map((t) => familiarName(parseReference(t)));
      out.images.push({ id, tags });
      if (tags.length) for (const t of tags) out.messages.push(`Loaded image: ${t}`);
      else out.messages.push(`Loaded image ID: ${id}`);
    });
    return out;
  } catch (err) {
    await lease.rollback();
    throw err;
  } finally {
    await rmrf(scratch);
  }
}

/** `load` from a stream (the engine's POST /images/load body): staged in the store, then loaded. */
export async function loadArchiveStream(store: ImageStore, input: AsyncIterable<Uint8Array>, opts: LoadOptions = {}): Promise<LoadResult> {
  const dir = await store.tempDir('upload-');
  try {
    const file = join(dir, 'archive');
    await pipeline(input, createWriteStream(file));
    return await loadArchive(store, file, opts);
  } finally {
    await rmrf(dir);
  }
}

async function decompressIfNeeded(file: string, scratch: string): Promise<string> {
  const fh = await open(file, 'r');
  const head = Buffer.alloc(2);
  try {
    await fh.read(head, 0, 2, 0);
  } finally {
    await fh.close();
  }
  if (head[0] !== 0x1f || head[1] !== 0x8b) return file;
  const out = join(scratch, 'archive.tar');
  try {
    await pipeline(createReadStream(file), createGunzip(), createWriteStream(out));
  } catch (err) {
    throw new InvalidImageError(`invalid image archive: bad gzip data: ${errorMessage(err)}`);
  }
  return out;
}

async function fromDockerArchive(store: ImageStore, lease: Lease, ar: Archive): Promise<NewImage[]> {
  const items = parseJson(DockerArchiveManifestSchema, await ar.read('manifest.json'), 'docker-archive manifest.json');
  const out: NewImage[] = [];
  for (const item of items) {
    const configBytes = await ar.read(item.Config);
    const config = parseJson(ImageConfigSchema, configBytes, `image config ${item.Config}`);
    // Docker names the config by its digest; a mismatch means a tampered or corrupt archive.
    const named = /([a-f0-9]{64})(?:\.json)?$/.exec(item.Config)?.[1];
    if (named && sha256(configBytes) !== `sha256:${named}`) throw new DigestMismatchError(`image config ${item.Config}`, `sha256:${named}`, sha256(configBytes));
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== item.Layers.length) {
      throw new InvalidImageError(`docker-archive: ${item.Config} lists ${diffIds.length} diff_ids but manifest.json ${item.Layers.length} layers`);
    }
    const layers: ImageLayer[] = [];
    let parent: Digest | null = null;
    for (const [i, layerPath] of item.Layers.entries()) {
      const l = await store.ingestLayer(lease, () => ar.stream(layerPath), {
        parent,
        diffId: diffIds[i]!,
        what: `layer ${i + 1}/${item.Layers.length} (${layerPath})`,
      });
      layers.push(l);
      parent = l.chainId;
    }
    const tags = (item.RepoTags ?? []).map((t) => parseReference(t).tag ? t : `${t}:latest`);
    out.push({ config: configBytes, configMediaType: MediaType.DockerConfig, layers, tags });
  }
  return out;
}

async function fromOciLayout(store: ImageStore, lease: Lease, ar: Archive, opts: LoadOptions): Promise<NewImage[]> {
  const index = parseJson(IndexSchema, await ar.read('index.json'), 'OCI index.json');
  const readBlob = async (d: Descriptor, what: string): Promise<Buffer> => {
    const bytes = await ar.read(blobPath(d.digest));
    const got = sha256(bytes);
    if (got !== d.digest) throw new DigestMismatchError(what, d.digest, got);
    if (bytes.length !== d.size) throw new InvalidImageError(`${what}: size mismatch: descriptor says ${d.size}, blob has ${bytes.length}`);
    return bytes;
  };
  const byManifest = new Map<Digest, NewImage>();
  for (const top of index.manifests) {
    let desc = top;
    for (let depth = 0; INDEX_TYPES.includes(desc.mediaType); depth++) {
      if (depth > 4) throw new InvalidImageError('OCI layout: indexes nested too deeply');
      const sub = parseJson(IndexSchema, await readBlob(desc, `index ${desc.digest}`), `index ${desc.digest}`);
      const picked = pickPlatform(sub);
      if (!picked) throw new InvalidImageError(`OCI layout: no linux/amd64 image in index ${desc.digest} (has ${describePlatforms(sub)})`);
      desc = picked;
    }
    const name = nameFromAnnotations(top.annotations, opts.name);
    const seen = byManifest.get(desc.digest);
    if (seen) {
      if (name) seen.tags!.push(name);
      continue;
    }
    const manifestBytes = await readBlob(desc, `manifest ${desc.digest}`);
    const manifest = parseJson(ManifestSchema, manifestBytes, `manifest ${desc.digest}`);
    const configBytes = await readBlob(manifest.config, `image config ${manifest.config.digest}`);
    const config = parseJson(ImageConfigSchema, configBytes, `image config ${manifest.config.digest}`);
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== manifest.layers.length) {
      throw new InvalidImageError(`manifest ${desc.digest} has ${manifest.layers.length} layers, its config ${diffIds.length} diff_ids`);
    }
    const layers: ImageLayer[] = [];
    let parent: Digest | null = null;
    for (const [i, ld] of manifest.layers.entries()) {
      const l = await store.ingestLayer(lease, () => ar.stream(blobPath(ld.digest)), {
        parent,
        diffId: diffIds[i]!,
        blob: { digest: ld.digest, size: ld.size },
        mediaType: ld.mediaType,
        what: `layer ${i + 1}/${manifest.layers.length} (${ld.digest})`,
      });
      layers.push(l);
      parent = l.chainId;
    }
    byManifest.set(desc.digest, {
      config: configBytes,
      configMediaType: manifest.config.mediaType,
      layers,
      manifest: { digest: desc.digest, mediaType: manifest.mediaType ?? desc.mediaType, bytes: manifestBytes },
      tags: name ? [name] : [],
    });
  }
  return [...byManifest.values()];
}

/** containerd/Docker put the full name in io.containerd.image.name; OCI's ref.name is often a tag. */
function nameFromAnnotations(a: Record<string, string> | undefined, fallback: string | undefined): string | undefined {
  const full = a?.['io.containerd.image.name'];
  if (full) return full;
  const ref = a?.['org.opencontainers.image.ref.name'];
  if (ref && /[/:]/.test(ref)) {
    try {
      parseReference(ref);
      return ref;
    } catch {
      /* a bare tag: needs a repository name */
    }
  }
  if (ref && fallback) return `${parseReference(fallback, { defaultTag: false }).domain}/${parseReference(fallback, { defaultTag: false }).path}:${ref}`;
  return fallback;
}

