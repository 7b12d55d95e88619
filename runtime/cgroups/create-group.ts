// Making a group's directories and undoing that when create() fails: shared by both backends, which
// differ only in what preparing a parent means (v1: cpuset inheritance; v2: subtree_control).
import path from 'node:path';
import { errnoCode, type CgroupDirOps } from './fsio.js';

/** The parent of a group path relative to the hierarchy root ('' for a top-level group). */
export const parentOf = (rel: string): string => {
  const d = path.posix.dirname(rel);
  return d === '.' ? '' : d;
};

/**
 * Makes the leaf `<base>/<rel>` after `prepareParents()` (which pushes what it makes onto `made`).
 * `prepared` remembers parents already set up; if one was removed behind our back since, mkdir says
 * ENOENT: forget those parents, prepare them again and retry once. Returns whether the leaf is new.
 */
export function makeLeafGroup(base: string, rel: string, prepared: Set<string>, mkdir: CgroupDirOps['makeDir'], prepareParents: () => void): boolean {
  const parentRel = parentOf(rel);
  prepareParents();
  const leaf = `${base}/${rel}`;
  try {
    return mkdir(leaf);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
    for (let p = parentRel; p !== ''; p = parentOf(p)) prepared.delete(`${base}/${p}`);
    prepareParents();
    return mkdir(leaf);
  }
}

/** Removes the directories a failed create() made, deepest first, and forgets them as prepared. */
export function undoMadeGroups(made: string[], prepared: Set<string>, rmdir: CgroupDirOps['removeDir']): void {
  // A parent another group now uses stays (rmdir says busy).
  for (const dir of made.reverse()) {
    prepared.delete(dir);
    try {
      rmdir(dir);
    } catch {
      // Best effort: the original error is the one worth reporting.
    }
  }
}
