// A container's filesystem as the diff/export/commit verbs see it: its overlay upper dir against the
// image's layers. Deletions are overlay whiteouts (0/0 character devices) in the upper dir.
import { lstat, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Docker's change kinds: 0 modified, 1 added, 2 deleted. */
export type ChangeKind = 0 | 1 | 2;
export interface Change {
  Path: string;
  Kind: ChangeKind;
}

/**
 * Changes in `upper` relative to the image (`lowerDirs`, top first): a whiteout is a deletion, an entry
 * some layer has is a modification (a directory too, when something below it changed), the rest added.
 * Under an added directory every entry is added.
 */
export async function upperChanges(upper: string, lowerDirs: readonly string[]): Promise<Change[]> {
  const out: Change[] = [];
  const inLower = (rel: string): boolean => lowerDirs.some((l) => existsSync(join(l, rel)));
  async function walk(rel: string, parentAdded: boolean): Promise<void> {
    const names = (await readdir(join(upper, rel))).sort();
    for (const name of names) {
      const p = `${rel}/${name}`;
      const st = await lstat(join(upper, p));
      if (st.isCharacterDevice() && st.rdev === 0) {
        out.push({ Path: p, Kind: 2 });
        continue;
      }
      const added = parentAdded || !inLower(p);
      out.push({ Path: p, Kind: added ? 1 : 0 });
      if (st.isDirectory()) await walk(p, added);
    }
  }
  // A container made before its directories (or cleaned after a crash) has no changes yet.
  if (!existsSync(upper)) return [];
  await walk('', false);
  return out.sort((a, b) => a.Path.localeCompare(b.Path));
}

export const CHANGE_LETTER: Record<ChangeKind, string> = { 0: 'C', 1: 'A', 2: 'D' };
