import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { loadArchive } from './archive-load.js';
import { saveArchive } from './archive-save.js';
import { ImageStore } from './store.js';
import { importBusyboxImage } from './testing/busybox-image.js';
import { ensureTsunpack } from './testing/native.js';
import { makeTestDir } from './testing/tmp.js';
import { tarBuffer, writeDockerArchive, writeOciArchive } from './testing/archives.js';
import { UnsafeLayerError } from './unpack.js';
import { DigestMismatchError } from './errors.js';

async function storeContents(store: ImageStore): Promise<{ images: number; layers: number; blobs: number }> {
  return { images: store.listRecords().length, layers: (await store.layers.list()).length, blobs: (await store.blobs.list()).length };
}

describe('image/archive load and save', function () {
  let tmp: string;
  let cleanup: () => Promise<void>;
  let src: ImageStore;
  let busyboxId: string;

  before(async () => {
    ensureTsunpack();
    ({ dir: tmp, cleanup } = await makeTestDir());
    src = await ImageStore.open(join(tmp, 'src'));
    busyboxId = await importBusyboxImage(src);
    await src.tag('busybox', 'example.com/team/bb:v1');
  });
  after(async () => cleanup());

  it('round-trips save → load into another store', async () => {
    const file = join(tmp, 'bb.tar');
    await saveArchive(src, ['busybox', 'example.com/team/bb:v1'], file);
    const dst = await ImageStore.open(join(tmp, 'dst1'));
    const r = await loadArchive(dst, file);
    assert.equal(r.images.length, 1);
    assert.equal(r.images[0]!.id, busyboxId);
    assert.deepEqual(r.messages.sort(), ['Loaded image: busybox:latest', 'Loaded image: example.com/team/bb:v1']);
    assert.deepEqual(dst.repoTags(busyboxId as never), ['busybox:latest', 'example.com/team/bb:v1']);
    const [lower] = dst.lowerDirs('busybox');
    assert.equal(await readlink(join(lower!, 'bin/ls')), 'busybox');
  });

  it('writes archives skopeo reads as docker-archive and OCI, and loads what skopeo writes', async () => {
    const file = join(tmp, 'bb2.tar');
    await saveArchive(src, ['busybox:latest'], file);
    const inspect = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', `docker-archive:${file}`], { encoding: 'utf8' })) as { layers: unknown[] };
    assert.equal(inspect.layers.length, 1);
    const ociDir = join(tmp, 'oci-dir');
    execFileSync('skopeo', ['copy', '-q', `oci-archive:${file}:latest`, `oci:${ociDir}:x`], { stdio: 'pipe' });

    // skopeo's docker-archive output (legacy layout: <digest>.tar layers, manifest.json).
    const dockerOut = join(tmp, 'from-skopeo-docker.tar');
    execFileSync('skopeo', ['copy', '-q', `docker-archive:${file}`, `docker-archive:${dockerOut}:other/name:7`], { stdio: 'pipe' });
    const d1 = await ImageStore.open(join(tmp, 'dst2'));
    const r1 = await loadArchive(d1, dockerOut);
    // skopeo may re-serialise the config (new ID); the layers must be the same.
    const srcDiffs = (await src.config('busybox')).rootfs.diff_ids;
    assert.deepEqual((await d1.config(r1.images[0]!.id)).rootfs.diff_ids, srcDiffs);
    assert.deepEqual(r1.images[0]!.tags, ['other/name:7']);

    // skopeo's OCI archive (gzip layers, ref.name annotation only holds the tag).
    const ociOut = join(tmp, 'from-skopeo-oci.tar');
    execFileSync('skopeo', ['copy', '-q', '--dest-compress', `docker-archive:${file}`, `oci-archive:${ociOut}:v2`], { stdio: 'pipe' });
    const r2 = await loadArchive(d1, ociOut, { name: 'localhost/ociname' });
    assert.deepEqual((await d1.config(r2.images[0]!.id)).rootfs.diff_ids, srcDiffs);
    assert.equal((await d1.layers.list()).length, 1, 'the layer is unpacked once');
    assert.deepEqual(r2.images[0]!.tags, ['localhost/ociname:v2']);
  });

  it('loads from a stream (the engine API path)', async () => {
    const { loadArchiveStream } = await import('./archive-load.js');
    const { saveArchiveTo } = await import('./archive-save.js');
    const { PassThrough } = await import('node:stream');
    const pipe = new PassThrough();
    const saving = saveArchiveTo(src, ['busybox'], pipe);
    const dst = await ImageStore.open(join(tmp, 'dst-stream'));
    const [r] = await Promise.all([loadArchiveStream(dst, pipe), saving]);
    assert.deepEqual(r.images, [{ id: busyboxId, tags: ['busybox:latest'] }]);
  });

  it('loads a gzip-compressed archive', async () => {
    const file = join(tmp, 'bb3.tar');
    await saveArchive(src, [busyboxId], file);
    const gz = `${file}.gz`;
    await pipeline(createReadStream(file), createGzip(), createWriteStream(gz));
    const dst = await ImageStore.open(join(tmp, 'dst3'));
    const r = await loadArchive(dst, gz);
    assert.deepEqual(r.images, [{ id: busyboxId, tags: [] }]);
    assert.deepEqual(r.messages, [`Loaded image ID: ${busyboxId}`]);
  });

  it('loads multi-layer docker-archives and OCI archives with whiteouts across layers', async () => {
    const l1 = await tarBuffer([
      { h: { name: 'a/', type: 'dir' } },
      { h: { name: 'a/one', type: 'file' }, data: Buffer.from('1') },
      { h: { name: 'a/two', type: 'file' }, data: Buffer.from('2') },
    ]);
    const l2 = await tarBuffer([{ h: { name: 'a/.wh.one', type: 'file' }, data: Buffer.alloc(0) }]);
    const dst = await ImageStore.open(join(tmp, 'dst4'));
    const f1 = join(tmp, 'multi-docker.tar');
    await writeDockerArchive(f1, [{ layers: [l1, l2], tags: ['multi:1'] }]);
    const r1 = await loadArchive(dst, f1);
    const f2 = join(tmp, 'multi-oci.tar');
    await writeOciArchive(f2, [{ layers: [l1, l2], tags: ['multi:2'] }]);
    const r2 = await loadArchive(dst, f2);
    assert.equal(r1.images[0]!.id, r2.images[0]!.id, 'same config → same image ID');
    const lowers = dst.lowerDirs('multi:2');
    assert.equal(lowers.length, 2);
    assert.deepEqual(await readdir(join(lowers[0]!, 'a')), ['one']);
    // The OCI load added gzip blobs for the same layers: the unpacked dirs were reused.
    assert.equal((await dst.layers.list()).length, 2);
    assert.ok(dst.get('multi:2').manifest);
  });

  it('refuses an archive whose layer escapes: nothing stored, nothing outside', async () => {
    const dst = await ImageStore.open(join(tmp, 'dst5'));
    await importBusyboxImage(dst);
    const before = await storeContents(dst);
    const outside = join(tmp, 'outside');
    await mkdir(outside);
    const good = await tarBuffer([{ h: { name: 'ok', type: 'file' }, data: Buffer.from('ok') }]);
    const evil = await tarBuffer([
      { h: { name: 'link', type: 'symlink', linkname: outside } },
      { h: { name: 'link/pwned', type: 'file' }, data: Buffer.from('x') },
    ]);
    const f = join(tmp, 'evil.tar');
    await writeDockerArchive(f, [{ layers: [good], tags: ['good:1'] }, { layers: [good, evil], tags: ['evil:1'] }]);
    await assert.rejects(loadArchive(dst, f), UnsafeLayerError);
    assert.deepEqual(await storeContents(dst), before);
    assert.ok(!dst.has('good:1'), 'the first image of the failed load is not visible either');
    assert.deepEqual(await readdir(outside), []);
    assert.deepEqual(await readdir(join(dst.root, 'tmp')), []);
  });

  it('refuses a blob whose digest does not match, and keeps nothing', async () => {
    const dst = await ImageStore.open(join(tmp, 'dst6'));
    const l = await tarBuffer([{ h: { name: 'f', type: 'file' }, data: Buffer.from('f') }]);
    const f = join(tmp, 'tampered.tar');
    await writeOciArchive(f, [{ layers: [l], tags: ['t:1'] }], { tamper: true });
    await assert.rejects(loadArchive(dst, f));
    assert.deepEqual(await storeContents(dst), { images: 0, layers: 0, blobs: 0 });

    const f2 = join(tmp, 'wrong-diffid.tar');
    const other = await tarBuffer([{ h: { name: 'g', type: 'file' }, data: Buffer.from('g') }]);
    const { sha256 } = await import('./digest.js');
    await writeDockerArchive(f2, [{ layers: [l], diffIds: [sha256(other)], tags: ['t:2'] }]);
    await assert.rejects(loadArchive(dst, f2), DigestMismatchError);
    assert.deepEqual(await storeContents(dst), { images: 0, layers: 0, blobs: 0 });
  });

  it('rejects files that are not image archives', async () => {
    const dst = await ImageStore.open(join(tmp, 'dst7'));
    const f = join(tmp, 'junk');
    await (await import('node:fs/promises')).writeFile(f, 'not a tar at all'.repeat(100));
    await assert.rejects(loadArchive(dst, f), (e: Error) => /^invalid image archive: not a tar archive/.test(e.message) && !e.message.includes(f));
    const f2 = join(tmp, 'plain.tar');
    await (await import('node:fs/promises')).writeFile(f2, await tarBuffer([{ h: { name: 'x', type: 'file' }, data: Buffer.from('x') }]));
    await assert.rejects(loadArchive(dst, f2), /invalid image archive: no manifest.json \(docker-archive\) or index.json/);
    assert.equal((await readFile(f2)).length > 0, true);
  });
});
