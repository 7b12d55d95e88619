import assert from 'node:assert/strict';
import { lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageStore } from './store.js';
import { importBusyboxImage, busyboxApplets } from './testing/busybox-image.js';
import { ensureTsunpack } from './testing/native.js';
import { makeTestDir } from './testing/tmp.js';
import { NoSuchImageError, ImageConflictError } from './errors.js';
import { importImage } from './import.js';
import { TarWriter, type TarHeader } from '../lib/tar/index.js';
import { PassThrough } from 'node:stream';
import { BUSYBOX_PATH } from './testing/busybox-image.js';

export function tarOf(entries: Array<{ h: TarHeader; data?: Uint8Array }>): () => AsyncIterable<Uint8Array> {
  return () => {
    const out = new PassThrough();
    const w = new TarWriter(out);
    void (async () => {
      for (const e of entries) await w.add(e.h, e.data);
      await w.finish();
    })().catch((err: Error) => out.destroy(err));
    return out;
  };
}

describe('image/store', function () {
  let root: string;
  let cleanup: () => Promise<void>;
  let store: ImageStore;

  before(async () => {
    ensureTsunpack();
    ({ dir: root, cleanup } = await makeTestDir());
    store = await ImageStore.open(root);
  });
  after(async () => cleanup());

  it('imports the busybox fixture and exposes its config and lower dirs', async () => {
    const id = await importBusyboxImage(store);
    assert.match(id, /^sha256:[a-f0-9]{64}$/);
    assert.equal(store.get('busybox').id, id);
    assert.equal(store.get('docker.io/library/busybox:latest').id, id);
    assert.equal(store.get(id.slice(7, 19)).id, id);
    const cfg = await store.config('busybox');
    assert.deepEqual(cfg.config?.Cmd, ['sh']);
    assert.deepEqual(cfg.config?.Env, [`PATH=${BUSYBOX_PATH}`]);
    const lowers = store.lowerDirs(id);
    assert.equal(lowers.length, 1);
    const st = await stat(join(lowers[0]!, 'bin/busybox'));
    assert.equal(st.mode & 0o7777, 0o755);
    assert.equal(await readlink(join(lowers[0]!, 'bin/sh')), 'busybox');
    assert.equal((await lstat(join(lowers[0]!, 'tmp'))).mode & 0o7777, 0o1777);
    assert.match(await readFile(join(lowers[0]!, 'etc/passwd'), 'utf8'), /^root:x:0:0:/);
    const links = (await readdir(join(lowers[0]!, 'bin'))).length;
    assert.equal(links, busyboxApplets().length + 1);
  });

  it('is deterministic: importing again gives the same ID and no new layer', async () => {
    const before = await store.layers.list();
    const id1 = store.get('busybox').id;
    const id2 = await importBusyboxImage(store, { tags: ['busybox:again'] });
    assert.equal(id2, id1);
    assert.deepEqual(await store.layers.list(), before);
  });

  it('survives a reopen', async () => {
    const s2 = await ImageStore.open(root);
    assert.equal(s2.get('busybox:again').id, store.get('busybox').id);
    assert.deepEqual(s2.repoTags(s2.get('busybox').id), ['busybox:again', 'busybox:latest']);
  });

  it('says how to get an unknown image', () => {
    assert.throws(() => store.get('nope:1'), (err: unknown) => {
      assert.ok(err instanceof NoSuchImageError);
      assert.equal(err.message, 'No such image: nope:1');
      return true;
    });
  });

  it('stacks layers: lower dirs are top first and share the base', async () => {
    const base = store.get('busybox');
    const baseCfg = await store.config('busybox');
    const top = tarOf([{ h: { name: 'etc/motd', type: 'file', mtime: 1 }, data: Buffer.from('hi\n') }]);
    const { busyboxLayerTar } = await import('./testing/busybox-image.js');
    const id = await importImage(store, {
      layers: [() => busyboxLayerTar(), top],
      config: { ...baseCfg, rootfs: undefined } as never,
      tags: ['app:1'],
    });
    const lowers = store.lowerDirs(id);
    assert.equal(lowers.length, 2);
    assert.equal(lowers[1], store.lowerDirs(base.id)[0]);
    assert.equal(await readFile(join(lowers[0]!, 'etc/motd'), 'utf8'), 'hi\n');
    assert.equal(store.refCounts().layers.get(base.layers[0]!.chainId), 3 - 1);
  });

  it('keeps images used by containers; rm and prune free exactly the unused', async () => {
    const app = store.get('app:1');
    const base = store.get('busybox');
    await store.acquire('app:1', 'c1');
    await assert.rejects(store.remove('app:1'), ImageConflictError);
    const pr = await store.prune({ all: true });
    assert.ok(store.has('app:1'), 'app kept: a container uses it');
    assert.ok(!store.has('busybox'), 'busybox pruned');
    assert.ok(pr.ImagesDeleted.some((d) => d.Deleted === base.id));
    // The shared base layer stays: app still needs it.
    assert.ok(await store.layers.has(base.layers[0]!.chainId));
    assert.ok(await store.blobs.has(base.layers[0]!.blob));
    assert.ok(!(await store.blobs.has(base.id)), 'busybox config blob freed');
    await store.release('c1');
    const res = await store.remove('app:1');
    assert.deepEqual(res, [{ Untagged: 'app:1' }, { Deleted: app.id }]);
    assert.deepEqual(await store.layers.list(), []);
    assert.deepEqual(await store.blobs.list(), []);
  });

  it('untags one of several names, then deletes with the last', async () => {
    const id = await importBusyboxImage(store, { tags: ['a:1', 'b:2'] });
    await assert.rejects(store.remove(id), /referenced in multiple repositories/);
    assert.deepEqual(await store.remove('a:1'), [{ Untagged: 'a:1' }]);
    assert.ok(store.has(id));
    await store.tag('b:2', 'c');
    assert.deepEqual(store.repoTags(id), ['b:2', 'c:latest']);
    const r = await store.remove(id, { force: true });
    assert.deepEqual(r.map((x) => x.Untagged ?? x.Deleted), ['b:2', 'c:latest', id]);
    assert.deepEqual(await store.layers.list(), []);
  });

  it('prune without -a keeps tagged images and removes dangling ones', async () => {
    const id = await importBusyboxImage(store, { tags: ['x:1'] });
    await store.tag('x:1', 'x:2');
    await store.remove('x:1');
    let pr = await store.prune();
    assert.deepEqual(pr.ImagesDeleted, []);
    // Re-tagging x:2 onto another image leaves the first dangling.
    const other = await importImage(store, {
      layers: [tarOf([{ h: { name: 'f', type: 'file', mtime: 1 }, data: Buffer.from('f') }])],
      config: { architecture: 'amd64', os: 'linux' },
      tags: ['x:2'],
    });
    assert.notEqual(other, id);
    pr = await store.prune();
    assert.deepEqual(pr.ImagesDeleted, [{ Deleted: id }]);
    assert.ok(pr.SpaceReclaimed > 1_000_000);
    assert.ok(store.has('x:2'));
  });
});

describe('image/store crash safety', function () {
  let cleanup: () => Promise<void>;
  let root: string;
  before(async () => {
    ensureTsunpack();
    ({ dir: root, cleanup } = await makeTestDir());
  });
  after(async () => cleanup());

  it('clears what an interrupted operation left behind when reopened', async () => {
    const { mkdir, writeFile } = await import('node:fs/promises');
    const s1 = await ImageStore.open(root);
    const id = await importBusyboxImage(s1);
    const image = join(root, 'image');
    // A half-written blob, a staged layer, an unreferenced blob and layer, a temp record.
    await mkdir(join(image, 'tmp', 'blob-x'), { recursive: true });
    await writeFile(join(image, 'tmp', 'blob-x', 'data'), 'partial');
    await mkdir(join(image, 'tmp', 'layer-y', 'diff'), { recursive: true });
    await writeFile(join(image, 'blobs', 'sha256', 'b'.repeat(64)), 'orphan');
    await mkdir(join(image, 'layers', 'c'.repeat(64), 'diff'), { recursive: true });
    await writeFile(join(image, 'images', '.tmp-123-abc'), '{"half":');
    const s2 = await ImageStore.open(root);
    assert.equal(s2.get('busybox').id, id);
    assert.deepEqual(await readdir(join(image, 'tmp')), []);
    assert.ok(!(await s2.blobs.has(`sha256:${'b'.repeat(64)}`)));
    assert.deepEqual(await s2.layers.list(), s2.get('busybox').layers.map((l) => l.chainId));
    assert.deepEqual(await readdir(join(image, 'images')), [`${id.slice(7)}.json`]);
  });

  it('never shows a layer dir before it is complete, and rolls back a failed import', async () => {
    const s = await ImageStore.open(root);
    const before = { layers: await s.layers.list(), blobs: await s.blobs.list() };
    const bad = tarOf([
      { h: { name: 'ok', type: 'file' }, data: Buffer.from('x') },
      { h: { name: '../escape', type: 'file' }, data: Buffer.from('x') },
    ]);
    await assert.rejects(importImage(s, { layers: [bad], config: { os: 'linux', architecture: 'amd64' }, tags: ['bad:1'] }));
    assert.ok(!s.has('bad:1'));
    assert.deepEqual(await s.layers.list(), before.layers);
    assert.deepEqual(await s.blobs.list(), before.blobs);
    assert.deepEqual(await readdir(join(root, 'image', 'tmp')), []);
  });

  it('verifies blobs on read: a corrupted config is reported, not used', async () => {
    const { writeFile } = await import('node:fs/promises');
    const s = await ImageStore.open(root);
    const rec = s.get('busybox');
    await writeFile(s.blobs.path(rec.id), '{"rootfs":{"type":"layers","diff_ids":[]}}');
    const s2 = await ImageStore.open(root);
    await assert.rejects(s2.config('busybox'), /corrupt/);
  });
});
