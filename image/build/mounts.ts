// Read-only overlay views of a stack of layer dirs: how the builder reads the image it is building
// (COPY destinations, /etc/passwd for USER, WORKDIR) and another stage's result (COPY --from), with
// whiteouts and opaque directories applied by the kernel rather than re-implemented here.

import { execFile } from 'node:child_process';
import { mkdir, rmdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { BuildError } from './errors.js';

const run = promisify(execFile);

/** overlayfs takes its options in one page; the runtime draws the line at 4000 bytes too. */
const MAX_OPTIONS = 4000;

export function overlayOptions(lowerTopFirst: readonly string[]): string {
  for (const p of lowerTopFirst) {
    if (/[,:]/u.test(p)) throw new BuildError(`layer path ${p} contains "," or ":", which overlayfs cannot take`);
  }
  const data = `ro,lowerdir=${lowerTopFirst.join(':')}`;
  if (data.length > MAX_OPTIONS) {
    throw new BuildError(`too many layers (${lowerTopFirst.length}) to mount the image as one overlay; combine RUN steps to use fewer layers`);
  }
  return data;
}

/**
 * Mounts `lowerTopFirst` (plus an empty dir at the bottom, since overlayfs wants two lowers without an
 * upper) read-only at `target`, and returns where the view is (no layers: the empty dir itself, no
 * mount) and how to unmount it; call that in a finally.
 */
export async function mountView(lowerTopFirst: readonly string[], empty: string, target: string): Promise<{ root: string; unmount: () => Promise<void> }> {
  await mkdir(empty, { recursive: true });
  if (lowerTopFirst.length === 0) return { root: empty, unmount: async () => undefined };
  await mkdir(target, { recursive: true });
  const opts = overlayOptions([...lowerTopFirst, empty]);
  try {
    await run('mount', ['-t', 'overlay', 'overlay', '-o', opts, target]);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new BuildError(`mounting the image's layers at ${target}: ${(e.stderr ?? e.message).trim()}`);
  }
  const unmount = async (): Promise<void> => {
    try {
      await run('umount', [target]);
    } catch {
      // Busy (someone still reading): detach, the kernel finishes when they are done.
      await run('umount', ['-l', target]).catch(() => undefined);
    }
    await rmdir(target).catch(() => undefined);
  };
  return { root: target, unmount };
}
