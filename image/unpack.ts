import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Writable } from 'node:stream';
import { z } from 'zod';
import { DigestSchema, type Digest } from './digest.js';
import { DigestMismatchError, InvalidImageError } from './errors.js';

/** A layer the unpacker refused because an entry would land outside its directory. */
export class UnsafeLayerError extends InvalidImageError {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeLayerError';
  }
}

export function tsunpackPath(): string {
  const fromEnv = process.env.TSSWARM_TSUNPACK;
  if (fromEnv) return fromEnv;
  // Same answer from image/unpack.ts (tsx) and from the bundle in dist/.
  return fileURLToPath(new URL('../dist/tsunpack', import.meta.url));
}

/** Flushes the filesystem holding `dir` (syncfs(2), which Node lacks). */
export async function syncFilesystem(dir: string): Promise<void> {
  const bin = tsunpackPath();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(bin, ['--syncfs', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`syncfs ${dir}: ${err.trim() || `exit ${code}`}`))));
  });
}

export type Compression = 'gzip' | 'zstd' | 'none';

export function detectCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

export interface LayerStreamResult {
  /** Digest and size of the bytes as given (possibly compressed): the blob digest. */
  blobDigest: Digest;
  blobSize: number;
  /** Digest and size of the uncompressed tar: the diffID. */
  diffId: Digest;
  tarSize: number;
  compression: Compression;
}

export interface LayerStreamOptions {
  /**
   * Also keep the bytes as given in this file, which must not exist (a path in the blob store's
   * staging): tsunpack writes it. The caller verifies the returned digest before adopting it.
   */
  blobFile?: string;
  /** Extract into this (empty, existing) directory; without it the stream is only hashed. */
  unpackDir?: string;
  /** The blob digest announced: a corrupt blob is reported as a digest mismatch, not as bad gzip. */
  expectedBlobDigest?: Digest;
  what?: string;
  /**
   * Files to copy rather than an image layer (a build context, an archive to extract): ".wh.*" names
   * stay ordinary files and no trusted.overlay.* xattr is set (tsunpack --plain).
   */
  plain?: boolean;
}

/** tsunpack's arguments to extract a plain tar (not a layer: no whiteouts) into `dir`. */
export function plainUnpackArgs(dir: string): string[] {
  return ['--plain', dir];
}

const ResultSchema = z.object({
  compression: z.enum(['gzip', 'none']),
  blobDigest: DigestSchema,
  blobSize: z.number().int().nonnegative(),
  diffId: DigestSchema,
  tarSize: z.number().int().nonnegative(),
});
const FailureSchema = z.object({ error: z.literal(true), blobDigest: DigestSchema, blobSize: z.number() });

/**
 * One pass over a layer, all of it in tsunpack: hash the blob, store it (blobFile), gunzip, hash
 * the tar (diffID) and extract it. Node only moves the bytes into the helper's stdin, so several
 * layers of a pull really run in parallel (one process each) instead of sharing Node's one thread.
 * Used by load, pull and build alike, so a pulled layer is unpacked while it downloads.
 */
export async function processLayerStream(
  input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: LayerStreamOptions = {},
): Promise<LayerStreamResult> {
  const what = opts.what ?? 'layer';
  const bin = tsunpackPath();
  if (!existsSync(bin)) throw new Error(`layer unpacker ${bin} is missing: run \`npm run build\` (needs cc)`);
  const it: AsyncIterator<Uint8Array> | Iterator<Uint8Array> =
    Symbol.asyncIterator in input ? input[Symbol.asyncIterator]() : input[Symbol.iterator]();

  // The first chunk is checked here too, for a clear error before anything is spawned.
  let first = await it.next();
  while (!first.done && first.value.length === 0) first = await it.next();
  if (!first.done && detectCompression(first.value) === 'zstd') {
    await it.return?.();
    throw new InvalidImageError(`${what}: zstd-compressed layers are not supported`);
  }

  const args = [...(opts.blobFile ? ['--blob', opts.blobFile] : []), ...(opts.plain && opts.unpackDir ? ['--plain'] : []), opts.unpackDir ?? '--hash-only'];
  const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8').on('data', (t: string) => {
    if (stderr.length < 8192) stderr += t;
  });
  child.stdout.setEncoding('utf8').on('data', (t: string) => {
    if (stdout.length < 8192) stdout += t;
  });
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  // The helper may stop reading early (a refused entry): EPIPE then, and its exit status tells why.
  let stdinGone = false;
  child.stdin.on('error', () => (stdinGone = true));
  child.stdin.on('close', () => (stdinGone = true));

  let sourceErr: unknown;
  try {
    let r = first;
    while (!r.done && !stdinGone) {
      if (!child.stdin.write(r.value)) await drainOrClose(child.stdin);
      r = await it.next();
    }
  } catch (err) {
    sourceErr = err;
  }
  if (sourceErr !== undefined) {
    // The download broke (retries exhausted): whatever the helper made of a partial stream is moot.
    child.kill('SIGKILL');
    await exited.catch(() => 128);
    throw sourceErr;
  }
  if (stdinGone) await it.return?.();
  child.stdin.end();
  const code = await exited;
  const msg = stderr.trim().replace(/^tsunpack: /, '');
  const last = stdout.trim().split('\n').pop() ?? '';
  if (code === 2) throw new UnsafeLayerError(`${what} refused: ${msg}`);
  if (code !== 0) {
    const f = FailureSchema.safeParse(safeJson(last));
    if (f.success && opts.expectedBlobDigest && f.data.blobDigest !== opts.expectedBlobDigest) {
      throw new DigestMismatchError(what, opts.expectedBlobDigest, f.data.blobDigest);
    }
    if (msg.startsWith('bad gzip data') || msg.startsWith('zstd')) throw new InvalidImageError(`${what}: ${msg}`);
    throw new InvalidImageError(`${what}: unpack failed: ${msg || `exit ${code}`}`);
  }
  const ok = ResultSchema.safeParse(safeJson(last));
  if (!ok.success) throw new Error(`${what}: unexpected output from ${bin}: ${last.slice(0, 200)}`);
  return ok.data;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return undefined;
  }
}

/** Resolves on 'drain', or when the pipe is gone (the exit status then says what happened). */
function drainOrClose(w: Writable): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      w.off('drain', done);
      w.off('close', done);
      w.off('error', done);
      resolve();
    };
    w.on('drain', done);
    w.on('close', done);
    w.on('error', done);
  });
}
