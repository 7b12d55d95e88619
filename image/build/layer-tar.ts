// Layer tars the builder makes: from a COPY/ADD plan (files streamed from the context or another
// stage, archives unpacked), and from a RUN's overlay upper dir, where deletions become `.wh.` entries.
// Deletions are found by comparing the directory listings before and after the step (both read through
// overlay mounts), which covers whiteout devices and opaque directories alike without reading xattrs.

import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { TarWriter, type TarHeader } from '../../lib/tar/index.js';
import type { CopyOp } from './copy-plan.js';

export interface TarItem {
  h: TarHeader;
  /** File content, opened when the entry is written. */
  open?: () => AsyncIterable<Uint8Array>;
}

/** Streams items into a tar; errors surface through the stream, where the layer ingester sees them. */
export function tarStream(items: AsyncIterable<TarItem> | Iterable<TarItem>): AsyncIterable<Uint8Array> {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  const w = new TarWriter(out);
  void (async () => {
    try {
      for await (const it of items) await w.add(it.h, it.open?.());
      await w.finish();
    } catch (err) {
      out.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  })();
  return out;
}

function tarName(abs: string, dir: boolean): string {
  const rel = abs.replace(/^\/+/u, '');
  return dir ? `${rel}/` : rel;
}

function major(rdev: number): number {
  return Math.floor(rdev / 256) & 0xfff;
}

function minor(rdev: number): number {
  return (rdev & 0xff) | (Math.floor(rdev / 4096) & 0xfff00);
}

export interface CopySources {
  /** Absolute host path of a source-tree path. */
  abs(path: string): string;
  /** Seconds since the epoch to stamp on an entry copied from `path`. */
  mtime(path: string): number;
  /** Entries of an archive (ADD), relative to the archive root. */
  archive?(path: string): AsyncIterable<TarItem>;
}

/** The tar entries of a COPY/ADD plan. Directories we create get `now` as their time. */
export async function* copyItems(ops: readonly CopyOp[], src: CopySources, now: number, chown?: { uid: number; gid: number }): AsyncIterable<TarItem> {
  for (const op of ops) {
    const mtime = op.source !== undefined && !op.extract ? src.mtime(op.source) : now;
    if (op.type === 'dir') {
      if (op.dest !== '/') yield { h: { name: tarName(op.dest, true), type: 'dir', mode: op.mode, uid: op.uid, gid: op.gid, mtime } };
      if (op.extract && op.source !== undefined && src.archive) {
        const prefix = op.dest === '/' ? '' : op.dest.replace(/^\/+/u, '') + '/';
        for await (const it of src.archive(op.source)) {
          const h: TarHeader = { ...it.h, name: prefix + it.h.name.replace(/^\/+/u, '') };
          if (h.type === 'hardlink' && h.linkname !== undefined) h.linkname = prefix + h.linkname.replace(/^\/+/u, '');
          if (chown) {
            h.uid = chown.uid;
            h.gid = chown.gid;
          }
          yield it.open ? { h, open: it.open } : { h };
        }
      }
      continue;
    }
    if (op.type === 'symlink') {
      yield { h: { name: tarName(op.dest, false), type: 'symlink', linkname: op.linkTarget ?? '', mode: 0o777, uid: op.uid, gid: op.gid, mtime } };
      continue;
    }
    const path = src.abs(op.source as string);
    yield {
      h: { name: tarName(op.dest, false), type: 'file', mode: op.mode, uid: op.uid, gid: op.gid, size: op.size, mtime },
      open: () => createReadStream(path),
    };
  }
}

async function listOrEmpty(dir: string): Promise<Set<string>> {
  try {
    return new Set(await readdir(dir));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return new Set();
    throw err;
  }
}

/**
 * Tar entries for a RUN: everything in `upper`, plus a `.wh.NAME` for each NAME visible in `before` but
 * gone in `after` (the step's result). Hard links within the layer stay hard links.
 */
export async function* diffItems(upper: string, before: string, after: string): AsyncIterable<TarItem> {
  const links = new Map<string, string>();
  async function* walk(rel: string): AsyncIterable<TarItem> {
    const beforeNames = await listOrEmpty(join(before, rel));
    const afterNames = await listOrEmpty(join(after, rel));
    const names = [...(await readdir(join(upper, rel)))];
    for (const gone of [...beforeNames].filter((n) => !afterNames.has(n))) names.push(`.wh.${gone}`);
    for (const name of names.sort()) {
      const p = rel === '' ? name : `${rel}/${name}`;
      if (name.startsWith('.wh.') && !afterNames.has(name)) {
        const gone = name.slice(4);
        if (beforeNames.has(gone) && !afterNames.has(gone)) {
          yield { h: { name: p, type: 'file', mode: 0o644, size: 0, mtime: 0 } };
          continue;
        }
      }
      const abs = join(upper, p);
      const st = await lstat(abs).catch(() => undefined);
      if (!st) continue;
      // Overlay's own whiteout (0/0 char device): the comparison above already wrote it.
      if (st.isCharacterDevice() && st.rdev === 0) continue;
      const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
      if (st.isDirectory()) {
        yield { h: { name: `${p}/`, type: 'dir', ...base } };
        yield* walk(p);
      } else if (st.isSymbolicLink()) {
        yield { h: { name: p, type: 'symlink', linkname: await readlink(abs), ...base } };
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? links.get(key) : undefined;
        if (first !== undefined) {
          yield { h: { name: p, type: 'hardlink', linkname: first, ...base } };
          continue;
        }
        if (st.nlink > 1) links.set(key, p);
        yield { h: { name: p, type: 'file', size: st.size, ...base }, open: () => createReadStream(abs) };
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        yield { h: { name: p, type: st.isCharacterDevice() ? 'char' : 'block', devmajor: major(st.rdev), devminor: minor(st.rdev), ...base } };
      } else if (st.isFIFO()) {
        yield { h: { name: p, type: 'fifo', ...base } };
      }
      // Sockets cannot be carried in a layer, like Docker.
    }
  }
  yield* walk('');
}

/** Whether the step left anything to record (so an empty RUN adds no layer). */
export async function upperIsEmpty(upper: string): Promise<boolean> {
  return (await readdir(upper)).length === 0;
}
