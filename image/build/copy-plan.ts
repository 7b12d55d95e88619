// Decides what a COPY/ADD puts into its layer, Docker's way, without touching a disk: sources resolved in
// the context (or another stage's root) with wildcards, a directory source copies its contents, a
// destination ending in `/` (or an existing directory) receives files by name, ownership is 0:0 unless
// --chown, parent directories that already exist keep their metadata in the layer (overlay would
// otherwise replace e.g. /tmp's 1777 with our 0755), and destinations are resolved through symlinks in
// the image (`/var/run` → `/run`).

import { posix } from 'node:path';
import { InstructionError } from './errors.js';
import { compileGlob, hasGlobMeta } from './glob.js';
import type { IgnoreMatcher } from './dockerignore.js';

export type EntryType = 'file' | 'dir' | 'symlink' | 'other';

export interface TreeEntry {
  type: EntryType;
  /** Permission bits including setuid/setgid/sticky (no file type bits). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkTarget?: string;
}

/** A read view of a file tree; paths are relative, `/`-separated, '' is the root. lstat semantics. */
export interface SourceTree {
  stat(path: string): TreeEntry | undefined;
  /** Every path below directory `dir` ('' for the whole tree), not following symlinks, in any order. */
  descendants(dir: string): readonly string[];
}

/** lstat-like lookup in the image being built, by absolute path; undefined when absent. */
export type TargetLookup = (absPath: string) => TreeEntry | undefined;

export interface CopyOp {
  /** Absolute, normalised path in the image. */
  dest: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  uid: number;
  gid: number;
  /** Relative path in the source tree the content comes from (files). */
  source?: string;
  size: number;
  linkTarget?: string;
  /** ADD: the source is a local archive, to be unpacked into `dest` (a directory). */
  extract?: boolean;
}

export interface CopyPlanInput {
  instruction: 'COPY' | 'ADD';
  sources: readonly string[];
  dest: string;
  /** WORKDIR of the stage at this point ('' or '/' when unset). */
  workdir: string;
  tree: SourceTree;
  /** What is already in the image; used to resolve symlinks and keep parent-dir metadata. */
  target: TargetLookup;
  chown?: { uid: number; gid: number };
  chmod?: number;
  /** COPY/ADD --exclude patterns. */
  exclude?: IgnoreMatcher;
  /** ADD only: whether a source file is an archive to unpack. */
  isArchive?: (sourcePath: string) => boolean;
  /** How sources are named in errors: "the build context" or "stage builder". */
  sourceName: string;
  /** resolveSources() result when the caller already has it. */
  matches?: SourceMatch[];
}

const MAX_LINKS = 40;

/** `a/../../b` → error; `/x/./y/` → `x/y`. Sources are relative to the context root whatever they say. */
export function cleanSource(src: string, sourceName: string): string {
  const norm = posix.normalize(src.replace(/^\/+/u, '') || '.');
  if (norm === '..' || norm.startsWith('../')) {
    throw new InstructionError(`forbidden path outside ${sourceName}: ${src}`);
  }
  return norm === '.' ? '' : norm.replace(/\/+$/u, '');
}

/** Follows symlinks inside a tree whose root is '' (absolute link targets mean the tree root). */
function resolveIn(rel: string, stat: (p: string) => TreeEntry | undefined): { path: string; entry: TreeEntry | undefined } {
  let hops = 0;
  let parts = rel === '' ? [] : rel.split('/');
  let resolved: string[] = [];
  while (parts.length > 0) {
    const name = parts.shift() as string;
    if (name === '' || name === '.') continue;
    if (name === '..') {
      resolved.pop();
      continue;
    }
    const candidate = [...resolved, name].join('/');
    const e = stat(candidate);
    if (e?.type === 'symlink' && e.linkTarget !== undefined) {
      if (++hops > MAX_LINKS) throw new InstructionError(`too many levels of symbolic links resolving ${rel}`);
      const t = e.linkTarget;
      if (t.startsWith('/')) resolved = [];
      parts = [...t.split('/'), ...parts];
      continue;
    }
    resolved.push(name);
  }
  const path = resolved.join('/');
  return { path, entry: path === '' ? stat('') : stat(path) };
}

/** Resolves symlinks in the directories above `abs` (and in `abs` itself when followLast). */
function resolveTargetPath(abs: string, target: TargetLookup, followLast: boolean): string {
  const rel = abs.replace(/^\/+/u, '');
  const lookup = (p: string): TreeEntry | undefined => target('/' + p);
  if (rel === '') return '/';
  const dir = posix.dirname(rel);
  const base = posix.basename(rel);
  const parent = dir === '.' ? '' : resolveIn(dir, lookup).path;
  const joined = parent === '' ? base : `${parent}/${base}`;
  if (!followLast) return '/' + joined;
  return '/' + resolveIn(joined, lookup).path;
}

function childrenOf(tree: SourceTree, dir: string): string[] {
  return [...tree.descendants(dir)].sort();
}

/** The directory a wildcard pattern can only match below: `src/*.js` → `src`. */
function globBase(pattern: string): string {
  const segs = pattern.split('/');
  const fixed: string[] = [];
  for (const s of segs.slice(0, -1)) {
    if (hasGlobMeta(s)) break;
    fixed.push(s);
  }
  return fixed.join('/');
}

/** One source after wildcard expansion and symlink resolution. */
export interface SourceMatch {
  /** Where it is in the tree, symlinks resolved. */
  path: string;
  /** The name it was matched by (what a copy into a directory is called). */
  name: string;
  entry: TreeEntry;
}

export interface SourceSelection {
  sources: readonly string[];
  tree: SourceTree;
  exclude?: IgnoreMatcher;
  sourceName: string;
}

/** Expands wildcards and checks every source exists: all that COPY needs to know about its sources. */
export function resolveSources(input: SourceSelection): SourceMatch[] {
  const { tree } = input;
  const excluded = (p: string): boolean => input.exclude?.ignores(p) ?? false;
  const matches: SourceMatch[] = [];
  for (const src of input.sources) {
    const rel = cleanSource(src, input.sourceName);
    if (hasGlobMeta(rel)) {
      const re = compileGlob(rel);
      const found = tree
        .descendants(globBase(rel))
        .filter((p) => re.test(p) && !excluded(p))
        .sort();
      if (found.length === 0) throw new InstructionError(`no files in ${input.sourceName} match ${JSON.stringify(src)}`);
      for (const p of found) {
        const r = resolveIn(p, (x) => tree.stat(x));
        if (!r.entry) throw new InstructionError(`${JSON.stringify(p)} is a symlink to a missing file in ${input.sourceName}`);
        matches.push({ path: r.path, name: p, entry: r.entry });
      }
      continue;
    }
    const r = resolveIn(rel, (x) => tree.stat(x));
    if (!r.entry || excluded(rel)) {
      throw new InstructionError(`${JSON.stringify(src)} not found in ${input.sourceName}${input.sourceName === 'the build context' ? ' (or excluded by .dockerignore)' : ''}`);
    }
    matches.push({ path: r.path, name: rel, entry: r.entry });
  }
  return matches;
}

/** Every tree path a selection copies (directories recursively), for checksumming. */
export function selectedPaths(tree: SourceTree, matches: readonly SourceMatch[], exclude?: IgnoreMatcher): Array<{ match: SourceMatch; rel: string; path: string }> {
  const out: Array<{ match: SourceMatch; rel: string; path: string }> = [];
  for (const m of matches) {
    out.push({ match: m, rel: '', path: m.path });
    if (m.entry.type !== 'dir') continue;
    for (const child of childrenOf(tree, m.path)) {
      if (exclude?.ignores(child)) continue;
      out.push({ match: m, rel: m.path === '' ? child : child.slice(m.path.length + 1), path: child });
    }
  }
  return out;
}

export function planCopy(input: CopyPlanInput): CopyOp[] {
  const { tree, target, instruction } = input;
  const own = input.chown ?? { uid: 0, gid: 0 };
  const destGiven = input.dest;
  const workdir = input.workdir || '/';
  const destAbsRaw = posix.normalize(destGiven.startsWith('/') ? destGiven : posix.join(workdir, destGiven));
  const endsDir = destGiven.endsWith('/') || destGiven === '.' || destGiven.endsWith('/.') || destGiven === '..' || destGiven.endsWith('/..');
  const destExisting = target(resolveTargetPath(destAbsRaw, target, true));
  const destIsDir = endsDir || destExisting?.type === 'dir';
  const destAbs = resolveTargetPath(destAbsRaw, target, destIsDir);
  const excluded = (p: string): boolean => input.exclude?.ignores(p) ?? false;
  const matches = input.matches ?? resolveSources(input);
  if (matches.length > 1 && !destIsDir) {
    throw new InstructionError(
      `when copying more than one source file the destination must be a directory and end with a /: write ${JSON.stringify(destGiven + '/')}`,
    );
  }

  const ops = new Map<string, CopyOp>();
  const put = (op: CopyOp): void => {
    // A later source overwrites an earlier one at the same path; directories merge.
    const prev = ops.get(op.dest);
    if (prev?.type === 'dir' && op.type === 'dir') return;
    ops.set(op.dest, op);
  };
  const modeOf = (e: TreeEntry): number => (input.chmod !== undefined && e.type !== 'symlink' ? input.chmod : e.mode);
  const opFor = (dest: string, path: string, e: TreeEntry): CopyOp | undefined => {
    if (e.type === 'other') return undefined;
    const op: CopyOp = { dest, type: e.type, mode: modeOf(e), uid: own.uid, gid: own.gid, size: e.type === 'file' ? e.size : 0 };
    if (e.type === 'file') op.source = path;
    if (e.type === 'symlink') op.linkTarget = e.linkTarget ?? '';
    return op;
  };

  for (const m of matches) {
    if (m.entry.type === 'dir') {
      const existing = target(destAbs);
      if (destAbs !== '/' && (!existing || existing.type !== 'dir')) {
        put({ dest: destAbs, type: 'dir', mode: modeOf(m.entry), uid: own.uid, gid: own.gid, size: 0 });
      }
      for (const child of childrenOf(tree, m.path)) {
        if (excluded(child)) continue;
        const e = tree.stat(child);
        if (!e) continue;
        const relChild = m.path === '' ? child : child.slice(m.path.length + 1);
        const op = opFor(posix.join(destAbs, relChild), child, e);
        if (op) put(op);
      }
      continue;
    }
    const dest = destIsDir ? posix.join(destAbs, posix.basename(m.name)) : destAbs;
    if (dest === '/') throw new InstructionError(`cannot copy file ${JSON.stringify(m.name)} over the root directory`);
    if (instruction === 'ADD' && m.entry.type === 'file' && input.isArchive?.(m.path)) {
      // An archive unpacks into the destination directory, never onto a file path.
      put({ dest: destAbs, type: 'dir', mode: 0o755, uid: own.uid, gid: own.gid, size: m.entry.size, source: m.path, extract: true });
      continue;
    }
    const op = opFor(dest, m.path, m.entry);
    if (op) put(op);
  }

  // Parents: keep what exists (metadata included), create the rest like `mkdir -p` with the owner.
  for (const dest of [...ops.keys()]) {
    let dir = posix.dirname(dest);
    while (dir !== '/' && !ops.has(dir)) {
      const e = target(dir);
      if (e?.type === 'dir') ops.set(dir, { dest: dir, type: 'dir', mode: e.mode, uid: e.uid, gid: e.gid, size: 0 });
      else ops.set(dir, { dest: dir, type: 'dir', mode: 0o755, uid: own.uid, gid: own.gid, size: 0 });
      dir = posix.dirname(dir);
    }
  }
  // An extract op is a directory too; if it also exists, keep its metadata.
  for (const op of ops.values()) {
    if (op.extract) {
      const e = target(op.dest);
      if (e?.type === 'dir') {
        op.mode = e.mode;
        op.uid = e.uid;
        op.gid = e.gid;
      }
    }
  }
  return [...ops.values()].sort((a, b) => (a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0));
}
