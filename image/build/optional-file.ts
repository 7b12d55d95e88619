// Reading files a build may or may not have (Dockerfile, .dockerignore, <Dockerfile>.dockerignore).
// A module of its own, without the builder's imports, so that the CLI's `build` can use it and stay light.
import { readFile } from 'node:fs/promises';

/** The file's text, or undefined if there is no such file (ENOENT, or ENOTDIR for a file on the way). */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}
