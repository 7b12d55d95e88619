import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { DigestSchema, digestHex, isDigest, type Digest } from './digest.js';
import { isErrno, tempDir } from './fsutil.js';
import { parseJson } from './schemas.js';

export const LayerMetaSchema = z.object({
  chainId: DigestSchema,
  diffId: DigestSchema,
  parent: DigestSchema.nullable(),
  /** Bytes of the uncompressed layer tar. */
  size: z.number().int().nonnegative(),
});
export type LayerMeta = z.infer<typeof LayerMetaSchema>;

/**
 * Unpacked layers, one directory per chain ID: `<dir>/<hex>/diff` is an overlay lower dir and
 * `<dir>/<hex>/meta.json` describes it. A layer dir only appears (by rename) once complete.
 */
export class LayerStore {
  constructor(
    readonly dir: string,
    private readonly tmpDir: string,
  ) {}

  dirOf(chainId: Digest): string {
    return join(this.dir, digestHex(chainId));
  }

  diffDir(chainId: Digest): string {
    return join(this.dirOf(chainId), 'diff');
  }

  async has(chainId: Digest): Promise<boolean> {
    try {
      await stat(join(this.dirOf(chainId), 'meta.json'));
      return true;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return false;
      throw err;
    }
  }

  async meta(chainId: Digest): Promise<LayerMeta> {
    const path = join(this.dirOf(chainId), 'meta.json');
    return parseJson(LayerMetaSchema, await readFile(path), path);
  }

  /** A fresh staging dir; unpack into `<staging>/diff`, then commit(). */
  async createStaging(): Promise<string> {
    const dir = await tempDir(this.tmpDir, 'layer-');
    await mkdir(join(dir, 'diff'), { mode: 0o755 });
    return dir;
  }

  /** Moves a staged layer into place. Returns false (and drops the staging) if it already exists. */
  async commit(staging: string, meta: LayerMeta): Promise<boolean> {
    try {
      // No fsync: the store flushes the filesystem once before an image record references this.
      await writeFile(join(staging, 'meta.json'), JSON.stringify(meta));
      await mkdir(this.dir, { recursive: true });
      if (await this.has(meta.chainId)) return false;
      // A leftover without meta.json is an interrupted delete: clear it so the rename can land.
      await rm(this.dirOf(meta.chainId), { recursive: true, force: true });
      await rename(staging, this.dirOf(meta.chainId));
      return true;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  async discard(staging: string): Promise<void> {
    await rm(staging, { recursive: true, force: true });
  }

  /** Renames out of sight first, so no half-deleted layer is ever visible under its chain ID. */
  async delete(chainId: Digest): Promise<void> {
    const trash = await tempDir(this.tmpDir, 'trash-');
    try {
      await rename(this.dirOf(chainId), join(trash, 'layer'));
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
    await rm(trash, { recursive: true, force: true });
  }

  async list(): Promise<Digest[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return [];
      throw err;
    }
    return names.map((n) => `sha256:${n}`).filter((d): d is Digest => isDigest(d));
  }
}
