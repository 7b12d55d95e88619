// Finding the Compose files when none are named: the first directory, from the working directory
// upwards, that holds one of the standard names; plus its override file.
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const DEFAULT_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'] as const;
export const OVERRIDE_FILE_NAMES = ['compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yaml', 'docker-compose.override.yml'] as const;

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export interface Discovered {
  files: string[];
  /** Other standard names found next to the chosen one (docker compose warns about them). */
  ignored: string[];
}

/** Walks up from `start`; undefined when no directory up to the root has a Compose file. */
export function discoverComposeFiles(start: string): Discovered | undefined {
  let dir = start;
  for (;;) {
    const found = DEFAULT_FILE_NAMES.filter((n) => isFile(join(dir, n)));
    if (found.length > 0) {
      const main = found[0]!;
      // The override that matches the main file's name comes first, then any other.
      const matching = main.replace(/\.(ya?ml)$/, '.override.$1');
      const overrides = [matching, ...OVERRIDE_FILE_NAMES.filter((n) => n !== matching)].filter((n) => isFile(join(dir, n)));
      const files = [join(dir, main)];
      if (overrides.length > 0) files.push(join(dir, overrides[0]!));
      return { files, ignored: found.slice(1).map((n) => join(dir, n)) };
    }
    const parent = dirname(dir);
    if (parent === dir || !existsSync(parent)) return undefined;
    dir = parent;
  }
}
