import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { dirname, join } from 'node:path';
import { Hasher, digestHex, isDigest, type Digest } from './digest.js';
import { DigestMismatchError } from './errors.js';
import { isErrno, tempDir } from './fsutil.js';

export interface BlobInfo {
  digest: Digest;
  size: number;
  /** False when the store already held this blob. */
  created: boolean;
}

export interface Expected {
  digest?: Digest;
  size?: number;
}

/**
 * A blob being written: content goes to a temp file while it is hashed; commit() verifies and
 * renames it into place, so a blob under its digest is always complete and correct. Not fsynced
 * here: the store flushes the filesystem once before an image record makes the blob reachable.
 */
export class BlobWriter {
  private readonly hasher = new Hasher();
  private done = false;
  private failed: Error | undefined;

  constructor(
    private readonly store: BlobStore,
    private readonly out: WriteStream,
    readonly tmpPath: string,
  ) {
    out.on('error', (err) => (this.failed ??= err));
  }

  get size(): number {
    return this.hasher.size;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.failed) throw this.failed;
    this.hasher.update(chunk);
    if (!this.out.write(chunk)) await waitDrain(this.out);
  }

  /** Verifies against `expected` and moves the blob into the store. */
  async commit(expected: Expected = {}, what = 'blob'): Promise<BlobInfo> {
    if (this.done) throw new Error('blob writer already finished');
    this.done = true;
    const digest = this.hasher.digest();
    const size = this.hasher.size;
    try {
      await new Promise<void>((resolve, reject) => {
        this.out.once('error', reject);
        this.out.end(() => resolve());
      });
      if (this.failed) throw this.failed;
      if (expected.size !== undefined && expected.size !== size) {
        throw new Error(`${what}: size mismatch: expected ${expected.size} bytes, got ${size}`);
      }
      if (expected.digest !== undefined && expected.digest !== digest) {
        throw new DigestMismatchError(what, expected.digest, digest);
      }
    } catch (err) {
      this.out.destroy();
      await rm(dirname(this.tmpPath), { recursive: true, force: true });
      throw err;
    }
    const created = await this.store.adopt(this.tmpPath, digest);
    return { digest, size, created };
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await new Promise<void>((resolve) => {
      if (this.out.closed) resolve();
      else {
        this.out.once('close', () => resolve());
        this.out.destroy();
      }
    });
    await rm(dirname(this.tmpPath), { recursive: true, force: true });
  }
}

function waitDrain(s: WriteStream): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onDrain = (): void => {
      s.off('error', onError);
      resolve();
    };
    const onError = (err: Error): void => {
      s.off('drain', onDrain);
      reject(err);
    };
    s.once('drain', onDrain);
    s.once('error', onError);
  });
}

/** Content-addressed blobs under `<dir>/sha256/<hex>`. */
export class BlobStore {
  private readonly shaDir: string;

  constructor(
    dir: string,
    private readonly tmpDir: string,
  ) {
    this.shaDir = join(dir, 'sha256');
  }

  path(d: Digest): string {
    return join(this.shaDir, digestHex(d));
  }

  async has(d: Digest): Promise<boolean> {
    try {
      await stat(this.path(d));
      return true;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return false;
      throw err;
    }
  }

  async size(d: Digest): Promise<number> {
    return (await stat(this.path(d))).size;
  }

  async createWriter(): Promise<BlobWriter> {
    const dir = await tempDir(this.tmpDir, 'blob-');
    const tmpPath = join(dir, 'data');
    const out = createWriteStream(tmpPath, { flags: 'wx', mode: 0o644, highWaterMark: 1 << 20 });
    await new Promise<void>((resolve, reject) => {
      out.once('open', () => resolve());
      out.once('error', reject);
    });
    return new BlobWriter(this, out, tmpPath);
  }

  /**
   * A fresh path in staging for a blob that another writer (tsunpack) creates. The caller verifies
   * the digest, then adopt()s it, or discardStaged()s it.
   */
  async stagePath(): Promise<string> {
    const dir = await tempDir(this.tmpDir, 'blob-');
    return join(dir, 'data');
  }

  async discardStaged(tmpPath: string): Promise<void> {
    await rm(dirname(tmpPath), { recursive: true, force: true });
  }

  /** Renames a verified temp file to its digest's name. Returns false if it was already there. */
  async adopt(tmpPath: string, digest: Digest): Promise<boolean> {
    const dest = this.path(digest);
    const dir = dirname(tmpPath);
    try {
      if (await this.has(digest)) return false;
      await mkdir(this.shaDir, { recursive: true });
      await rename(tmpPath, dest);
      return true;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async write(src: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, expected: Expected = {}, what = 'blob'): Promise<BlobInfo> {
    const w = await this.createWriter();
    try {
      for await (const chunk of src) await w.write(chunk);
    } catch (err) {
      await w.abort();
      throw err;
    }
    return w.commit(expected, what);
  }

  async writeBytes(bytes: Uint8Array, expected: Expected = {}, what = 'blob'): Promise<BlobInfo> {
    return this.write([bytes], expected, what);
  }

  /** Reads a whole (small) blob, re-verifying its digest: disk corruption is reported, not used. */
  async readBytes(d: Digest, what = 'blob'): Promise<Buffer> {
    const buf = await readFile(this.path(d));
    const h = new Hasher();
    h.update(buf);
    const got = h.digest();
    if (got !== d) throw new DigestMismatchError(`${what} ${d} in the store is corrupt`, d, got);
    return buf;
  }

  /** A stream of the blob that fails at its end if the content no longer matches the digest. */
  createReadStream(d: Digest, what = 'blob'): Readable {
    return createReadStream(this.path(d), { highWaterMark: 1 << 20 }).pipe(verifyingTransform(d, `${what} ${d} in the store`));
  }

  async delete(d: Digest): Promise<void> {
    await rm(this.path(d), { force: true });
  }

  async list(): Promise<Digest[]> {
    let names: string[];
    try {
      names = await readdir(this.shaDir);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return [];
      throw err;
    }
    return names.map((n) => `sha256:${n}`).filter((d): d is Digest => isDigest(d));
  }
}

/** Pass-through that hashes and fails at the end on a digest (or size) mismatch. */
export function verifyingTransform(expected: Digest, what: string, expectedSize?: number): Transform {
  const h = new Hasher();
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      if (expectedSize !== undefined && h.size !== expectedSize) {
        cb(new Error(`${what}: size mismatch: expected ${expectedSize} bytes, got ${h.size}`));
        return;
      }
      const got = h.digest();
      cb(got === expected ? null : new DigestMismatchError(what, expected, got));
    },
  });
}
