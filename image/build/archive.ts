// ADD's local-archive rule: a tar (plain, gzip, bzip2, xz or zstd) is unpacked at the destination;
// any other file, including a compressed non-tar, is copied as it is. Unpacking goes through tsunpack,
// which refuses entries that would escape the directory.

import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { processLayerStream } from '../unpack.js';
import { BuildError } from './errors.js';

export type ArchiveCompression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

export function compressionOf(head: Uint8Array): ArchiveCompression {
  const b = Buffer.from(head);
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.length >= 3 && b.toString('latin1', 0, 3) === 'BZh') return 'bzip2';
  if (b.length >= 6 && b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (b.length >= 4 && b.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return 'zstd';
  return 'none';
}

/** A tar header block: its checksum adds up (old v7 archives have no "ustar" magic). */
export function isTarHeader(block: Uint8Array): boolean {
  if (block.length < 512) return false;
  const b = Buffer.from(block.subarray(0, 512));
  if (b.every((x) => x === 0)) return false;
  const stored = Number.parseInt(b.toString('latin1', 148, 156).replace(/[\0 ]+$/u, '').trim(), 8);
  if (!Number.isFinite(stored)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (b[i] as number);
  return sum === stored;
}

const TOOLS: Record<Exclude<ArchiveCompression, 'none' | 'gzip'>, string> = { bzip2: 'bzip2', xz: 'xz', zstd: 'zstd' };

/** The file's bytes as a plain tar stream (decompressed when needed). */
export function plainStream(path: string, compression: ArchiveCompression): AsyncIterable<Uint8Array> {
  if (compression === 'none') return createReadStream(path);
  if (compression === 'gzip') return createReadStream(path).pipe(createGunzip());
  const child = spawn(TOOLS[compression], ['-dc', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  const out = child.stdout;
  child.once('error', (e) => out.destroy(new BuildError(`decompressing ${path} with ${TOOLS[compression]}: ${e.message}`)));
  child.once('close', (code) => {
    if (code !== 0 && code !== null) out.destroy(new BuildError(`decompressing ${path}: ${err.trim() || `${TOOLS[compression]} exited ${code}`}`));
  });
  return out;
}

async function firstBytes(stream: AsyncIterable<Uint8Array>, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let len = 0;
  try {
    for await (const c of stream) {
      chunks.push(Buffer.from(c));
      len += c.length;
      if (len >= n) break;
    }
  } catch {
    // Not decompressible: not an archive.
  } finally {
    if (stream instanceof Readable) stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, n);
}

/** How to read `path` as a tar, or undefined when ADD should copy it as a plain file. */
export async function archiveCompression(path: string): Promise<ArchiveCompression | undefined> {
  const fh = await open(path, 'r');
  let head: Buffer;
  try {
    head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    head = head.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  const c = compressionOf(head);
  if (c === 'none') return isTarHeader(head) ? 'none' : undefined;
  return isTarHeader(await firstBytes(plainStream(path, c), 512)) ? c : undefined;
}

/** Unpacks the archive into `dir` (empty, existing) with tsunpack. */
export async function unpackArchive(path: string, compression: ArchiveCompression, dir: string): Promise<void> {
  try {
    await processLayerStream(plainStream(path, compression), { unpackDir: dir, what: `ADD ${path}` });
  } catch (err) {
    throw new BuildError(`unpacking ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
