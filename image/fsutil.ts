import { rm, mkdir, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/atomic.js';

/** Write, fsync, rename, fsync the dir, creating the directory if needed: readers see the old or the new file, never a torn one. */
export async function atomicWriteFile(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  await writeFileAtomic(path, data, mode, mode & 0o077 ? 0o755 : 0o700);
}

export async function tempDir(parent: string, prefix: string): Promise<string> {
  await mkdir(parent, { recursive: true });
  return mkdtemp(join(parent, prefix));
}

export async function rmrf(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true, maxRetries: 3 });
}

export function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}
