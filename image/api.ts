// The image endpoints' answers (GET /images/json, /images/{name}/json, /history) built from the store;
// their wire shapes are in api/images.ts.
import type { Digest } from './digest.js';
import type { ImageRecord } from './records.js';
import { familiarRepository, parseReference } from './reference.js';
import type { ContainerConfig, ImageConfig } from './schemas.js';
import type { ImageStore } from './store.js';
import type { HistoryItem, ImageInspect, ImageSummary } from '../api/images.js';

export type { HistoryItem, ImageInspect, ImageSummary };

export interface ListImagesOptions {
  /** Include intermediate images too (there are none without build; accepted for the API). */
  all?: boolean;
  /** Docker filters: reference=, dangling=true|false, label=k[=v], before=, since=. */
  filters?: Record<string, string[]>;
}

function unixSeconds(iso: string | undefined): number {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) ? Math.floor(t / 1000) : 0;
}

/** Matches "busybox", "busybox:1*", "*\/app" style reference filters against a familiar name. */
function referenceMatches(pattern: string, name: string): boolean {
  const ref = parseReference(name);
  const candidates = [name, familiarRepository(ref)];
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '.')}$`);
  return candidates.some((c) => re.test(c)) || (!pattern.includes(':') && re.test(familiarRepository(ref)));
}

async function summary(store: ImageStore, rec: ImageRecord, cfg: ImageConfig): Promise<ImageSummary> {
  const size = store.imageSize(rec);
  return {
    Id: rec.id,
    ParentId: '',
    RepoTags: store.repoTags(rec.id),
    RepoDigests: store.repoDigests(rec.id),
    Created: unixSeconds(cfg.created),
    Size: size,
    SharedSize: -1,
    VirtualSize: size,
    Labels: cfg.config?.Labels ?? {},
    Containers: store.containersUsing(rec.id).length,
  };
}

/** GET /images/json */
export async function listImages(store: ImageStore, opts: ListImagesOptions = {}): Promise<ImageSummary[]> {
  const f = opts.filters ?? {};
  const out: ImageSummary[] = [];
  const all = await Promise.all(store.listRecords().map(async (rec) => ({ rec, cfg: await store.config(rec.id) })));
  const createdOf = (name: string): number => {
    const r = all.find((x) => x.rec.id === store.get(name).id);
    return unixSeconds(r?.cfg.created);
  };
  for (const { rec, cfg } of all) {
    const s = await summary(store, rec, cfg);
    if (f.dangling?.length) {
      const want = f.dangling[0] === 'true' || f.dangling[0] === '1';
      if ((s.RepoTags.length === 0) !== want) continue;
    }
    if (f.reference?.length) {
      // As Docker's daemon: only the names that match stay in the summary (`images busybox` lists no
      // other tag of the same image), and an image with none is left out.
      const matches = (name: string): boolean => f.reference!.some((p) => referenceMatches(p, name));
      s.RepoTags = s.RepoTags.filter(matches);
      s.RepoDigests = s.RepoDigests.filter(matches);
      if (!s.RepoTags.length && !s.RepoDigests.length) continue;
    }
    if (f.label?.length) {
      const ok = f.label.every((l) => {
        const eq = l.indexOf('=');
        return eq < 0 ? l in s.Labels : s.Labels[l.slice(0, eq)] === l.slice(eq + 1);
      });
      if (!ok) continue;
    }
    if (f.before?.length && !(s.Created < createdOf(f.before[0]!))) continue;
    if (f.since?.length && !(s.Created > createdOf(f.since[0]!))) continue;
    out.push(s);
  }
  return out.sort((a, b) => b.Created - a.Created || a.Id.localeCompare(b.Id));
}

/** GET /images/{name}/json */
export async function inspectImage(store: ImageStore, name: string): Promise<ImageInspect> {
  const rec = store.get(name);
  const cfg = await store.config(rec.id);
  const size = store.imageSize(rec);
  const lowers = store.lowerDirs(rec.id);
  return {
    Id: rec.id,
    RepoTags: store.repoTags(rec.id),
    RepoDigests: store.repoDigests(rec.id),
    Parent: '',
    Comment: '',
    Created: cfg.created ?? new Date(0).toISOString(),
    DockerVersion: '',
    Author: cfg.author ?? '',
    Config: cfg.config ?? null,
    Architecture: cfg.architecture ?? 'amd64',
    ...(cfg.variant ? { Variant: cfg.variant } : {}),
    Os: cfg.os ?? 'linux',
    Size: size,
    VirtualSize: size,
    GraphDriver: { Name: 'overlay2', Data: { LowerDir: lowers.join(':') } },
    RootFS: { Type: 'layers', Layers: [...cfg.rootfs.diff_ids] },
    Metadata: { LastTagTime: rec.lastTagTime ?? '0001-01-01T00:00:00Z' },
  };
}

/** GET /images/{name}/history: newest first; entries without a layer have Size 0. */
export async function imageHistory(store: ImageStore, name: string): Promise<HistoryItem[]> {
  const rec = store.get(name);
  const cfg = await store.config(rec.id);
  const history = cfg.history?.length
    ? cfg.history
    : rec.layers.map(() => ({ created: cfg.created, created_by: '', comment: '', empty_layer: false }));
  let layerIdx = 0;
  const items: HistoryItem[] = history.map((h) => {
    const size = h.empty_layer ? 0 : (rec.layers[layerIdx++]?.size ?? 0);
    return { Id: '<missing>', Created: unixSeconds(h.created), CreatedBy: h.created_by ?? '', Tags: null, Size: size, Comment: h.comment ?? '' };
  });
  items.reverse();
  if (items[0]) {
    items[0].Id = rec.id;
    items[0].Tags = store.repoTags(rec.id);
  }
  return items;
}

/** The runtime-facing part of an image config, with Docker's defaults filled in. */
export interface RunConfig {
  Env: string[];
  Cmd: string[];
  Entrypoint: string[];
  WorkingDir: string;
  User: string;
  ExposedPorts: string[];
  Volumes: string[];
  Labels: Record<string, string>;
  StopSignal: string;
  Healthcheck: ContainerConfig['Healthcheck'] | null;
  Shell: string[];
}

export async function runConfig(store: ImageStore, name: string | Digest): Promise<RunConfig> {
  const c = (await store.config(name)).config ?? {};
  return {
    Env: c.Env ?? [],
    Cmd: c.Cmd ?? [],
    Entrypoint: c.Entrypoint ?? [],
    WorkingDir: c.WorkingDir || '/',
    User: c.User ?? '',
    ExposedPorts: Object.keys(c.ExposedPorts ?? {}),
    Volumes: Object.keys(c.Volumes ?? {}),
    Labels: c.Labels ?? {},
    StopSignal: c.StopSignal ?? 'SIGTERM',
    Healthcheck: c.Healthcheck ?? null,
    Shell: c.Shell ?? ['/bin/sh', '-c'],
  };
}
