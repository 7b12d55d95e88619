// The busybox image every engine e2e file runs its containers from, loaded the way a user would:
// a docker-archive built from the test busybox, sent with `tsswarm load`.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ImageStore, saveArchive } from '../../image/index.js';
import { importBusyboxImage } from '../../image/testing/busybox-image.js';
import { startDaemon, type TestDaemon } from './daemon.js';

/** Writes a busybox:latest docker-archive to `<dir>/busybox.tar` (its scratch store is removed). */
export async function busyboxArchive(dir: string): Promise<string> {
  const storeDir = join(dir, 'store');
  const s = await ImageStore.open(storeDir);
  await importBusyboxImage(s);
  const file = join(dir, 'busybox.tar');
  await saveArchive(s, ['busybox:latest'], file);
  rmSync(storeDir, { recursive: true, force: true });
  return file;
}

/** Builds the archive in `work` and loads it into `d`; fails the set-up if `load` does. */
export async function loadBusyboxImage(d: TestDaemon, work: string): Promise<{ stdout: string; stderr: string; code: number }> {
  const r = await d.cli(['load', '-i', await busyboxArchive(work)]);
  assert.equal(r.code, 0, r.stderr);
  return r;
}

export interface BusyboxDaemon {
  readonly d: TestDaemon;
  /** A scratch dir of the test file's own, removed afterwards. */
  readonly work: string;
  cli: TestDaemon['cli'];
}

/**
 * Registers mocha hooks for the enclosing `describe`: a daemon of its own with busybox:latest loaded
 * before the tests, stopped (and the scratch dir removed) after them.
 */
export function useBusyboxDaemon(workPrefix: string): BusyboxDaemon {
  let d: TestDaemon | undefined;
  let work = '';
  before(async function () {
    work = mkdtempSync(workPrefix);
    d = await startDaemon();
    await loadBusyboxImage(d, work);
  });
  after(async function () {
    if (d) {
      // Containers a test left are removed first, so the daemon's stop has nothing to wait for.
      const ids = (await d.cli(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
      if (ids.length) await d.cli(['rm', '-f', ...ids]);
    }
    await d?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });
  const daemon = (): TestDaemon => {
    if (!d) throw new Error('the daemon is not started yet (use it inside hooks or tests)');
    return d;
  };
  return {
    get d() {
      return daemon();
    },
    get work() {
      return work;
    },
    cli: (args, opts) => daemon().cli(args, opts),
  };
}
