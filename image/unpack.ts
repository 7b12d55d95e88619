import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Hasher, type Digest } from './digest.js';
import type { BlobWriter } from './blobs.js';
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
  /** Compressed bytes are also written here (the blob store's staged file). */
  blobWriter?: BlobWriter;
  /** Extract into this (empty, existing) directory; without it the tar is only hashed. */
  unpackDir?: string;
  /** The blob digest announced: a corrupt blob is reported as a digest mismatch, not as bad gzip. */
  expectedBlobDigest?: Digest;
  what?: string;
}

/**
 * One pass over a layer: hash the blob, tee it into the blob store, decompress, hash the tar
 * (diffID) and feed it to tsunpack. Used by load and pull alike, so a pulled layer is unpacked
 * while it downloads.
 */
export async function processLayerStream(
  input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: LayerStreamOptions = {},
): Promise<LayerStreamResult> {
  const what = opts.what ?? 'layer';
  const blobHash = new Hasher();
  const tarHash = new Hasher();
  const it: AsyncIterator<Uint8Array> | Iterator<Uint8Array> =
    Symbol.asyncIterator in input ? input[Symbol.asyncIterator]() : input[Symbol.iterator]();

  // The first chunk decides the compression.
  let first = await it.next();
  while (!first.done && first.value.length === 0) first = await it.next();
  const head = first.done ? new Uint8Array(0) : first.value;
  const compression = detectCompression(head);
  if (compression === 'zstd') throw new InvalidImageError(`${what}: zstd-compressed layers are not supported`);

  const writer = opts.blobWriter;
  async function* source(): AsyncGenerator<Uint8Array> {
    if (!first.done) {
      blobHash.update(head);
      if (writer) await writer.write(head);
      yield head;
    }
    for (;;) {
      const r: IteratorResult<Uint8Array> = await it.next();
      if (r.done) return;
      blobHash.update(r.value);
      if (writer) await writer.write(r.value);
      yield r.value;
    }
  }
  const tarTap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      tarHash.update(chunk);
      cb(null, chunk);
    },
  });
  const stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream | NodeJS.ReadWriteStream> = [
    Readable.from(source(), { objectMode: false, highWaterMark: 1 << 20 }),
  ];
  if (compression === 'gzip') stages.push(createGunzip({ chunkSize: 1 << 18 }));
  stages.push(tarTap);

  try {
    await runStages(stages, opts.unpackDir, what);
  } catch (err) {
    // The stream broke early (e.g. a gzip CRC error): finish hashing to tell corruption apart.
    if (opts.expectedBlobDigest && !(err instanceof UnsafeLayerError)) {
      let done = false;
      try {
        for (;;) {
          const r: IteratorResult<Uint8Array> = await it.next();
          if (r.done) break;
          blobHash.update(r.value);
        }
        done = true;
      } catch {
        /* the source itself failed: report the original error */
      }
      if (done) {
        const got = blobHash.digest();
        if (got !== opts.expectedBlobDigest) throw new DigestMismatchError(what, opts.expectedBlobDigest, got);
      }
    }
    throw err;
  }
  return {
    blobDigest: blobHash.digest(),
    blobSize: blobHash.size,
    diffId: tarHash.digest(),
    tarSize: tarHash.size,
    compression,
  };
}

async function runStages(
  stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream | NodeJS.ReadWriteStream>,
  unpackDir: string | undefined,
  what: string,
): Promise<void> {
  if (!unpackDir) {
    stages.push(
      new Writable({
        write(_c, _e, cb) {
          cb();
        },
      }),
    );
    await pipelineOf(stages, what);
  } else {
    await runUnpacker(unpackDir, stages, what);
  }
}

async function pipelineOf(stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream | NodeJS.ReadWriteStream>, what: string): Promise<void> {
  try {
    await (pipeline as (...s: unknown[]) => Promise<void>)(...stages);
  } catch (err) {
    if (err instanceof Error && /incorrect header check|unexpected end of file|invalid/.test(err.message) && 'errno' in err) {
      throw new InvalidImageError(`${what}: bad gzip data: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

async function runUnpacker(
  dir: string,
  stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream | NodeJS.ReadWriteStream>,
  what: string,
): Promise<void> {
  const bin = tsunpackPath();
  if (!existsSync(bin)) throw new Error(`layer unpacker ${bin} is missing: run \`npm run build\` (needs cc)`);
  const child = spawn(bin, [dir], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    if (stderr.length < 8192) stderr += s;
  });
  child.stdout.resume();
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  let pipeErr: unknown;
  try {
    await pipelineOf([...stages, child.stdin], what);
  } catch (err) {
    pipeErr = err;
    // The unpacker may be the one that stopped reading (refused entry): its verdict wins below.
    if (!isEpipe(err)) child.kill('SIGKILL');
  }
  const code = await exited;
  const msg = stderr.trim().replace(/^tsunpack: /, '');
  if (code === 2) throw new UnsafeLayerError(`${what} refused: ${msg}`);
  if (code !== 0 && pipeErr === undefined) throw new InvalidImageError(`${what}: unpack failed: ${msg || `exit ${code}`}`);
  if (pipeErr !== undefined) {
    if (isEpipe(pipeErr) && code !== 0) throw new InvalidImageError(`${what}: unpack failed: ${msg || `exit ${code}`}`);
    throw pipeErr;
  }
}

function isEpipe(err: unknown): boolean {
  return err instanceof Error && ((err as NodeJS.ErrnoException).code === 'EPIPE' || (err as NodeJS.ErrnoException).code === 'ERR_STREAM_DESTROYED');
}
