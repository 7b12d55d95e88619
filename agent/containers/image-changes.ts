// The `--change` lines of commit and import: Dockerfile instructions that only touch the image
// config, applied with the builder's own rules so `--change 'CMD ["x"]'` means what it means there.
import { parseDockerfile, parseInstructions } from '../../image/build/index.js';
import { applyInstruction } from '../../image/build/config.js';
import type { ContainerConfig } from '../../image/index.js';

/** Docker's list (dockerfile.ParseChanges with the commit allow-list). */
const ALLOWED = new Set(['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'HEALTHCHECK', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR']);

export class ChangeError extends Error {
  override name = 'ChangeError';
}

/** Applies each change to `config`; a disallowed or malformed one throws naming it, nothing applied. */
export function applyChanges(config: ContainerConfig, changes: readonly string[]): ContainerConfig {
  let state = { config: { ...config }, cmdSet: false };
  for (const [i, line] of changes.entries()) {
    if (line.trim() === '') continue;
    const word = line.trim().split(/\s+/u)[0]!.toUpperCase();
    if (!ALLOWED.has(word)) throw new ChangeError(`changes[${i}]: ${word} is not a valid change command (use one of ${[...ALLOWED].join(', ')})`);
    let instrs;
    try {
      instrs = parseInstructions(parseDockerfile(line, `changes[${i}]`));
    } catch (e) {
      throw new ChangeError(`changes[${i}]: ${(e as Error).message}`);
    }
    for (const instr of instrs) state = { ...applyInstruction(state, instr), cmdSet: true };
  }
  return state.config;
}

/** The `changes` query values: repeated, and each may hold several lines (Docker's CLI joins none). */
export function changesOf(q: URLSearchParams): string[] {
  return q.getAll('changes').flatMap((v) => v.split('\n'));
}
