// Crash-safe file writes: a reader sees the old content or the new, never a torn file.
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { mkdirSync, openSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

function tmpName(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes `data` to `path` via a temp file, fsync and rename, then fsyncs the directory (the rename is
 * durable only then). With `dirMode`, missing parent directories are created first with that mode.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644, dirMode?: number): Promise<void> {
  if (dirMode !== undefined) await mkdir(dirname(path), { recursive: true, mode: dirMode });
  const tmp = tmpName(path);
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dirname(path));
}

/** Synchronous twin for shutdown paths where the event loop may not run again. */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, mode = 0o644, dirMode?: number): void {
  if (dirMode !== undefined) mkdirSync(dirname(path), { recursive: true, mode: dirMode });
  const tmp = tmpName(path);
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw err;
  }
  const dfd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}
