import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { Digest } from './digest.js';
import { synthesizeManifest } from './manifest.js';
import type { ImageRecord } from './records.js';
import { familiarName, formatReference, parseReference, repositoryName } from './reference.js';
import { MediaType } from './schemas.js';
import type { ImageStore } from './store.js';
import { TarWriter } from '../lib/tar/index.js';

export interface SaveSelection {
  rec: ImageRecord;
  /** Full "repo:tag" references to record for it (empty when saved by ID). */
  tags: string[];
}

/**
 * Resolves `save` arguments like Docker: a tag saves that tag, a bare repository every tag of it,
 * an ID the image without names.
 */
export function selectForSave(store: ImageStore, names: string[]): SaveSelection[] {
  const out = new Map<Digest, SaveSelection>();
  const add = (rec: ImageRecord, tag?: string): void => {
    const sel = out.get(rec.id) ?? { rec, tags: [] };
    if (tag && !sel.tags.includes(tag)) sel.tags.push(tag);
    out.set(rec.id, sel);
  };
  for (const name of names) {
    if (/^(?:sha256:)?[a-f0-9]{4,64}$/.test(name)) {
      const byId = store.resolve(name);
      if (byId && byId.id.startsWith(name.startsWith('sha256:') ? name : `sha256:${name}`)) {
        add(byId);
        continue;
      }
    }
    let ref;
    try {
      ref = parseReference(name, { defaultTag: false });
    } catch {
      ref = undefined;
    }
    if (ref && ref.tag === undefined && ref.digest === undefined) {
      const repo = repositoryName(ref);
      const matching = store
        .listRecords()
        .flatMap((rec) => store.repoTags(rec.id).map((t) => ({ rec, full: formatReference(parseReference(t)) })))
        .filter((x) => x.full.startsWith(`${repo}:`));
      if (matching.length > 0) {
        for (const m of matching) add(m.rec, m.full);
        continue;
      }
    }
    const rec = store.get(name);
    if (ref?.tag !== undefined) add(rec, formatReference({ domain: ref.domain, path: ref.path, tag: ref.tag }));
    else add(rec);
  }
  return [...out.values()];
}

/**
 * `save -o FILE IMAGE…`: one tar that is both a docker-archive (manifest.json) and an OCI image
 * layout (oci-layout, index.json, blobs/), as Docker 25+ writes. Blobs go in as stored. The file
 * appears under its name only once complete.
 */
export async function saveArchive(store: ImageStore, names: string[], file: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  const out = createWriteStream(tmp, { highWaterMark: 1 << 20 });
  try {
    await saveArchiveTo(store, names, out);
    await rename(tmp, file);
  } catch (err) {
    out.destroy();
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Writes the archive to a stream (the engine's GET /images/get) and ends it. */
export async function saveArchiveTo(store: ImageStore, names: string[], out: Writable): Promise<void> {
  const selection = selectForSave(store, names);
  const w = new TarWriter(out);
  const written = new Set<Digest>();
  const blob = async (d: Digest, bytes?: Uint8Array): Promise<void> => {
    if (written.has(d)) return;
    written.add(d);
    const name = `blobs/sha256/${d.slice(7)}`;
    if (bytes) await w.add({ name, type: 'file', mode: 0o644, size: bytes.length }, bytes);
    else await w.add({ name, type: 'file', mode: 0o644, size: await store.blobs.size(d) }, store.blobs.createReadStream(d));
  };
  await w.add({ name: 'blobs/', type: 'dir', mode: 0o755 });
  await w.add({ name: 'blobs/sha256/', type: 'dir', mode: 0o755 });
  const dockerManifest: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = [];
  const index: { schemaVersion: 2; mediaType: string; manifests: Array<Record<string, unknown>> } = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [],
  };
  for (const { rec, tags } of selection) {
    const config = await store.blobs.readBytes(rec.id, 'image config');
    await blob(rec.id, config);
    for (const l of rec.layers) await blob(l.blob);
    let manifest: { bytes: Uint8Array; digest: Digest; mediaType: string };
    if (rec.manifest && (await store.blobs.has(rec.manifest.digest))) {
      manifest = { bytes: await store.blobs.readBytes(rec.manifest.digest, 'manifest'), ...rec.manifest };
    } else {
      manifest = synthesizeManifest(rec, config.length);
    }
    await blob(manifest.digest, manifest.bytes);
    const desc = { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.length };
    if (tags.length === 0) index.manifests.push(desc);
    for (const t of tags) {
      const ref = parseReference(t);
      index.manifests.push({
        ...desc,
        annotations: { 'io.containerd.image.name': formatReference(ref), 'org.opencontainers.image.ref.name': ref.tag ?? 'latest' },
      });
    }
    dockerManifest.push({
      Config: `blobs/sha256/${rec.id.slice(7)}`,
      RepoTags: tags.length ? tags.map((t) => familiarName(parseReference(t))) : null,
      Layers: rec.layers.map((l) => `blobs/sha256/${l.blob.slice(7)}`),
    });
  }
  const json = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));
  await w.add({ name: 'index.json', type: 'file', mode: 0o644 }, json(index));
  await w.add({ name: 'manifest.json', type: 'file', mode: 0o644 }, json(dockerManifest));
  await w.add({ name: 'oci-layout', type: 'file', mode: 0o644 }, json({ imageLayoutVersion: '1.0.0' }));
  await w.finish();
}
