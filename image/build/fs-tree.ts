// File trees on disk as the copy planner sees them: the build context (minus .dockerignore) and
// mounted root filesystems (another stage's result, the image being built).

import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { EntryType, SourceTree, TargetLookup, TreeEntry } from './copy-plan.js';
import type { IgnoreMatcher } from './dockerignore.js';

function typeOf(st: Stats): EntryType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

export interface DiskEntry extends TreeEntry {
  mtime: number;
  ino: number;
  dev: number;
  nlink: number;
  rdev: number;
}

export function toEntry(st: Stats, abs: string): DiskEntry {
  const type = typeOf(st);
  const e: DiskEntry = {
    type,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    size: type === 'file' ? st.size : 0,
    mtime: Math.floor(st.mtimeMs / 1000),
    ino: st.ino,
    dev: st.dev,
    nlink: st.nlink,
    rdev: st.rdev,
  };
  if (type === 'symlink') e.linkTarget = readlinkSync(abs);
  return e;
}

function lstatOrUndefined(abs: string): Stats | undefined {
  try {
    return lstatSync(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** A directory on disk; with `ignore`, paths it ignores do not exist (the build context). */
export class DiskTree implements SourceTree {
  private readonly cache = new Map<string, DiskEntry | undefined>();

  constructor(
    readonly root: string,
    private readonly ignore?: IgnoreMatcher,
  ) {}

  abs(path: string): string {
    return path === '' ? this.root : join(this.root, path);
  }

  stat(path: string): DiskEntry | undefined {
    if (this.cache.has(path)) return this.cache.get(path);
    let e: DiskEntry | undefined;
    if (path === '' || !this.ignore?.ignores(path)) {
      const abs = this.abs(path);
      const st = lstatOrUndefined(abs);
      e = st ? toEntry(st, abs) : undefined;
    }
    this.cache.set(path, e);
    return e;
  }

  descendants(dir: string): string[] {
    const out: string[] = [];
    const walk = (rel: string): void => {
      let names: string[];
      try {
        names = readdirSync(this.abs(rel));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return;
        throw err;
      }
      for (const name of names.sort()) {
        const p = rel === '' ? name : `${rel}/${name}`;
        const ignored = this.ignore?.ignores(p) ?? false;
        const st = lstatOrUndefined(this.abs(p));
        if (!st) continue;
        if (!ignored) {
          this.cache.set(p, toEntry(st, this.abs(p)));
          out.push(p);
        }
        // An ignored directory is still walked when a `!` pattern may bring something back from it.
        if (st.isDirectory() && (!ignored || this.ignore?.mayReinclude(p))) walk(p);
      }
    };
    walk(dir);
    return out;
  }
}

/** lstat in a mounted root filesystem, by absolute path inside it. */
export function diskLookup(root: string): TargetLookup {
  return (absPath) => {
    const abs = join(root, absPath);
    const st = lstatOrUndefined(abs);
    return st ? toEntry(st, abs) : undefined;
  };
}
