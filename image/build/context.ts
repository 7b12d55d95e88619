// The build context on disk: where the Dockerfile is, which .dockerignore applies, the file tree COPY
// sees, and content checksums of what a COPY selects (for the cache key).

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import type { ContentRecord } from './cache-key.js';
import { selectedPaths, type SourceMatch } from './copy-plan.js';
import { IgnoreMatcher, readDockerignore } from './dockerignore.js';
import { BuildError, InstructionError } from './errors.js';
import { DiskTree } from './fs-tree.js';
import { readTextIfExists } from './optional-file.js';

export interface BuildContext {
  dir: string;
  /** The Dockerfile's text and the name errors use for it. */
  dockerfile: { text: string; name: string; path: string };
  ignore: IgnoreMatcher;
  tree: DiskTree;
}

/**
 * Opens a context. `dockerfile` is relative to the context unless absolute (default `Dockerfile`).
 * `<Dockerfile>.dockerignore` next to the Dockerfile wins over the context's `.dockerignore`, as in
 * BuildKit.
 */
export async function openContext(dir: string, dockerfile = 'Dockerfile'): Promise<BuildContext> {
  const st = await stat(dir).catch(() => undefined);
  if (!st) throw new BuildError(`build context ${dir} does not exist`);
  if (!st.isDirectory()) throw new BuildError(`build context ${dir} is not a directory`);
  const path = isAbsolute(dockerfile) ? dockerfile : join(dir, dockerfile);
  const text = await readTextIfExists(path);
  if (text === undefined) {
    throw new BuildError(`cannot read the Dockerfile: ${path} does not exist${dockerfile === 'Dockerfile' ? ' (use -f to name another file)' : ''}`);
  }
  const rel = relative(dir, path);
  const name = !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
  const ignoreText = (await readTextIfExists(`${path}.dockerignore`)) ?? (await readTextIfExists(join(dir, '.dockerignore'))) ?? '';
  let ignore: IgnoreMatcher;
  try {
    ignore = new IgnoreMatcher(readDockerignore(ignoreText));
  } catch (err) {
    if (err instanceof InstructionError) throw new BuildError(`.dockerignore: ${err.message}`);
    throw err;
  }
  return { dir, dockerfile: { text, name, path }, ignore, tree: new DiskTree(dir, ignore) };
}

/** File hashes survive between builds of one daemon while size, mtime, ctime and inode stay put. */
const hashMemo = new Map<string, string>();

export async function hashFile(path: string): Promise<string> {
  const st = await stat(path);
  const memoKey = `${path}\0${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  const hit = hashMemo.get(memoKey);
  if (hit) return hit;
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  const digest = `sha256:${h.digest('hex')}`;
  if (hashMemo.size > 100_000) hashMemo.clear();
  hashMemo.set(memoKey, digest);
  return digest;
}

/** What the cache key of a COPY from the context covers: names, types, modes and contents. */
export async function contextRecords(tree: DiskTree, matches: readonly SourceMatch[], exclude?: IgnoreMatcher): Promise<ContentRecord[]> {
  const out: ContentRecord[] = [];
  for (const s of selectedPaths(tree, matches, exclude)) {
    const e = tree.stat(s.path);
    if (!e || e.type === 'other') continue;
    // The match index keeps `COPY a b /d/` and `COPY b a /d/` apart: the later source wins a clash.
    const name = `${matches.indexOf(s.match)}:${s.match.name}${s.rel ? `/${s.rel}` : ''}`;
    const r: ContentRecord = { path: name, type: e.type, mode: e.mode, uid: 0, gid: 0 };
    if (e.type === 'file') r.digest = await hashFile(tree.abs(s.path));
    if (e.type === 'symlink' && e.linkTarget !== undefined) r.linkTarget = e.linkTarget;
    out.push(r);
  }
  return out;
}
