// The build cache on disk: one JSON file mapping a step's cache key to the stage state after the step
// (layers, config, history). Layers live in the image store; an entry whose layers were garbage
// collected since is simply a miss.

import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { z } from 'zod';
import { ImageLayerSchema } from '../records.js';
import { ContainerConfigSchema, HistorySchema } from '../schemas.js';
import { atomicWriteFile, isErrno } from '../fsutil.js';
import { Mutex } from '../mutex.js';

export const CachedStateSchema = z.object({
  layers: z.array(ImageLayerSchema),
  config: ContainerConfigSchema,
  cmdSet: z.boolean(),
  author: z.string().optional(),
  history: z.array(HistorySchema),
  /** When the entry was last used, to evict the stalest first. */
  usedAt: z.string(),
});
export type CachedState = z.infer<typeof CachedStateSchema>;

const CacheFileSchema = z.object({ version: z.literal(1), entries: z.record(z.string(), CachedStateSchema) });

/** Entries beyond this are dropped, least recently used first. */
const MAX_ENTRIES = 5000;

export class CacheIndex {
  private entries = new Map<string, CachedState>();
  private loaded = false;
  private dirty = false;
  private readonly lock = new Mutex();

  constructor(readonly path: string) {}

  private async load(): Promise<void> {
    if (this.loaded) return;
    try {
      const raw: unknown = JSON.parse(await readFile(this.path, 'utf8'));
      const r = CacheFileSchema.safeParse(raw);
      // A cache file we cannot read is not worth failing a build over: start afresh.
      if (r.success) this.entries = new Map(Object.entries(r.data.entries));
    } catch (err) {
      if (!isErrno(err, 'ENOENT') && !(err instanceof SyntaxError)) throw err;
    }
    this.loaded = true;
  }

  async get(key: string): Promise<CachedState | undefined> {
    await this.load();
    return this.entries.get(key);
  }

  async put(key: string, state: Omit<CachedState, 'usedAt'>): Promise<void> {
    await this.load();
    this.entries.set(key, { ...state, usedAt: new Date().toISOString() });
    this.dirty = true;
  }

  async touch(key: string): Promise<void> {
    const e = this.entries.get(key);
    if (!e) return;
    e.usedAt = new Date().toISOString();
    this.dirty = true;
  }

  async delete(key: string): Promise<void> {
    await this.load();
    if (this.entries.delete(key)) this.dirty = true;
  }

  /** Writes the index if anything changed; several builds may share it, so the latest writer wins. */
  async flush(): Promise<void> {
    await this.lock.run(async () => {
      if (!this.dirty) return;
      if (this.entries.size > MAX_ENTRIES) {
        const sorted = [...this.entries].sort((a, b) => (a[1].usedAt < b[1].usedAt ? 1 : -1));
        this.entries = new Map(sorted.slice(0, MAX_ENTRIES));
      }
      await mkdir(dirname(this.path), { recursive: true });
      await atomicWriteFile(this.path, JSON.stringify({ version: 1, entries: Object.fromEntries(this.entries) }));
      this.dirty = false;
    });
  }
}
