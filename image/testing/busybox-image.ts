import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import type { Digest } from '../digest.js';
import { importImage } from '../import.js';
import type { ImageStore } from '../store.js';
import type { ImageConfigBase } from '../schemas.js';
import { TarWriter, type TarHeader } from '../../lib/tar/index.js';

/**
 * The test image every later test builds on: Debian's busybox-static as FROM scratch + COPY would
 * make it (/bin/busybox, one symlink per applet, /etc/passwd and /etc/group). Built from bytes, no
 * registry, and deterministic: the same host gives the same image ID every time.
 */

export const BUSYBOX_BINARY = '/usr/bin/busybox';
export const BUSYBOX_TAG = 'busybox:latest';
/** Fixed timestamp so the layer and config hash the same on every run. */
const EPOCH = Date.UTC(2024, 0, 1) / 1000;
const CREATED = new Date(EPOCH * 1000).toISOString();

export const BUSYBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function busyboxApplets(binary = BUSYBOX_BINARY): string[] {
  const out = execFileSync(binary, ['--list'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s && s !== 'busybox' && !s.includes('/'))
    .sort();
}

/** Entries of the busybox layer, in tar order. */
export function busyboxLayerEntries(binary = BUSYBOX_BINARY): Array<{ h: TarHeader; data?: Uint8Array }> {
  const d = (name: string, mode = 0o755): { h: TarHeader } => ({ h: { name, type: 'dir', mode, mtime: EPOCH } });
  const f = (name: string, data: Uint8Array, mode = 0o644): { h: TarHeader; data: Uint8Array } => ({
    h: { name, type: 'file', mode, size: data.length, mtime: EPOCH },
    data,
  });
  const entries: Array<{ h: TarHeader; data?: Uint8Array }> = [
    d('bin/'),
    f('bin/busybox', readFileSync(binary), 0o755),
    ...busyboxApplets(binary).map((a) => ({ h: { name: `bin/${a}`, type: 'symlink' as const, linkname: 'busybox', mode: 0o777, mtime: EPOCH } })),
    d('dev/'),
    d('etc/'),
    f('etc/passwd', Buffer.from('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n')),
    f('etc/group', Buffer.from('root:x:0:\nnobody:x:65534:\n')),
    d('home/'),
    d('proc/'),
    d('root/', 0o700),
    d('sys/'),
    d('tmp/', 0o1777),
    d('usr/'),
    d('usr/bin/'),
    d('var/'),
  ];
  return entries;
}

/** The layer as an (uncompressed) tar stream. */
export function busyboxLayerTar(binary = BUSYBOX_BINARY): AsyncIterable<Uint8Array> {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  const w = new TarWriter(out);
  void (async () => {
    try {
      for (const e of busyboxLayerEntries(binary)) await w.add(e.h, e.data);
      await w.finish();
    } catch (err) {
      out.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  })();
  return out;
}

export function busyboxConfig(): ImageConfigBase {
  return {
    architecture: 'amd64',
    os: 'linux',
    created: CREATED,
    config: { Env: [`PATH=${BUSYBOX_PATH}`], Cmd: ['sh'], WorkingDir: '/' },
    history: [
      { created: CREATED, created_by: `COPY ${BUSYBOX_BINARY} and applet links / # buildkit`, comment: 'tsswarm test fixture' },
      { created: CREATED, created_by: 'CMD ["sh"]', empty_layer: true },
    ],
  };
}

/**
 * Imports the busybox image into `store` (tagged `busybox:latest` unless `tags` says otherwise)
 * and returns its image ID. Cheap when it is already there: the layer is unpacked once.
 */
export async function importBusyboxImage(store: ImageStore, opts: { tags?: string[]; binary?: string } = {}): Promise<Digest> {
  const binary = opts.binary ?? BUSYBOX_BINARY;
  return importImage(store, {
    layers: [() => busyboxLayerTar(binary)],
    config: busyboxConfig(),
    tags: opts.tags ?? [BUSYBOX_TAG],
  });
}
