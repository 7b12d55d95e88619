// The busybox image every engine e2e file runs its containers from, loaded the way a user would:
// a docker-archive built from the test busybox, sent with `tsswarm load`.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ImageStore, saveArchive } from '../../image/index.js';
import { importBusyboxImage } from '../../image/testing/busybox-image.js';
import type { TestDaemon } from './daemon.js';

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
