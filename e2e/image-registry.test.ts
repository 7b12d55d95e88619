import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ImageStore } from '../image/store.js';
import { importImage } from '../image/import.js';
import { importBusyboxImage } from '../image/testing/busybox-image.js';
import { ensureTsunpack } from '../image/testing/native.js';
import { makeTestDir } from '../image/testing/tmp.js';
import { tarBuffer } from '../image/testing/archives.js';
import { basicAuthHook, bearerAuthHook, startProxy, startRegistry, type TestRegistry } from '../image/testing/registry.js';
import { pullImage } from '../image/registry/pull.js';
import { pushImage } from '../image/registry/push.js';
import { login, logout } from '../image/registry/login.js';
import { CredentialStore } from '../image/registry/credentials.js';
import { RegistryClient, UnauthorizedError } from '../image/registry/client.js';
import { ProgressRenderer, type ProgressEvent } from '../image/registry/progress.js';
import { DigestMismatchError } from '../image/errors.js';
import { sha256 } from '../image/digest.js';
import { MediaType } from '../image/schemas.js';

describe('e2e: image pull/push against docker-registry', function () {
  let tmp: string;
  let cleanup: () => Promise<void>;
  let reg: TestRegistry;
  let src: ImageStore;
  let bbId: string;
  let multiId: string;
  let n = 0;
  const freshStore = (): Promise<ImageStore> => ImageStore.open(join(tmp, `store-${n++}`));
  const noCreds = (): CredentialStore => new CredentialStore(join(tmp, `creds-${n++}.json`));

  before(async () => {
    ensureTsunpack();
    ({ dir: tmp, cleanup } = await makeTestDir());
    reg = await startRegistry();
    src = await ImageStore.open(join(tmp, 'src'));
    bbId = await importBusyboxImage(src);
    // A 4-layer image with gzip layers, a whiteout and random content.
    const { randomBytes } = await import('node:crypto');
    const layers = await Promise.all(
      [0, 1, 2].map((i) => tarBuffer([{ h: { name: `data/${i}.bin`, type: 'file' }, data: randomBytes(300_000 + i) }])),
    );
    layers.push(await tarBuffer([{ h: { name: 'data/.wh.0.bin', type: 'file' }, data: Buffer.alloc(0) }]));
    multiId = await importImage(src, {
      layers: layers.map((l) => () => [gzipSync(l)]),
      config: { architecture: 'amd64', os: 'linux', config: { Cmd: ['true'] } },
      tags: ['multi:1'],
    });
  });
  after(async () => {
    await reg?.stop();
    await cleanup?.();
  });

  it('pushes the busybox fixture and pulls it back into another store', async () => {
    const name = `${reg.host}/test/busybox:1`;
    await src.tag('busybox', name);
    const events: ProgressEvent[] = [];
    const pushed = await pushImage(src, name, { credentials: noCreds(), onProgress: (e) => events.push(e) });
    assert.ok(events.some((e) => e.status === 'Pushed'));
    assert.ok(!events.some((e) => /digest: /.test(e.status)), 'the "TAG: digest:" summary is the caller\'s to print');
    assert.deepEqual(src.repoDigests(bbId as never), [`${reg.host}/test/busybox@${pushed.digest}`]);
    const raw = execFileSync('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${name}`]);
    assert.equal(sha256(raw), pushed.digest);

    const dst = await freshStore();
    const lines: string[] = [];
    const r = new ProgressRenderer({ write: (s: string) => lines.push(s) }, false);
    const pulled = await pullImage(dst, name, { credentials: noCreds(), onProgress: r.listener });
    assert.equal(pulled.id, bbId);
    assert.equal(pulled.digest, pushed.digest);
    assert.ok(!pulled.upToDate);
    assert.deepEqual(dst.repoTags(bbId as never), [name]);
    assert.deepEqual(dst.repoDigests(bbId as never), [`${reg.host}/test/busybox@${pushed.digest}`]);
    const out = lines.join('');
    assert.match(out, /Pull complete/);
    // The Digest:/Status: summary is the caller's (the Engine API route's) to print, once.
    assert.doesNotMatch(out, /Digest:|Status:/);
    assert.doesNotMatch(out, /\x1b\[/, 'no ANSI codes when not a TTY');
    const [lower] = dst.lowerDirs(name);
    assert.equal((await readFile(join(lower!, 'etc/passwd'), 'utf8')).split('\n')[0], 'root:x:0:0:root:/root:/bin/sh');
    // Again: nothing to download.
    const again = await pullImage(dst, name, { credentials: noCreds() });
    assert.ok(again.upToDate);
    // By digest.
    const byDigest = await pullImage(await freshStore(), `${reg.host}/test/busybox@${pushed.digest}`, { credentials: noCreds() });
    assert.equal(byDigest.id, bbId);
  });

  it('moves a multi-layer image both ways in parallel, with chunked uploads', async () => {
    const name = `${reg.host}/test/multi:1`;
    await src.tag('multi:1', name);
    await pushImage(src, name, { credentials: noCreds(), chunkSize: 100_000, concurrency: 4 });
    const dst = await freshStore();
    const r = await pullImage(dst, name, { credentials: noCreds(), concurrency: 4 });
    assert.equal(r.id, multiId);
    const lowers = dst.lowerDirs(name);
    assert.equal(lowers.length, 4);
    const wh = await (await import('node:fs/promises')).lstat(join(lowers[0]!, 'data/0.bin'));
    assert.ok(wh.isCharacterDevice(), 'whiteout in the top layer');
  });

  it('pulls what skopeo pushes as Docker schema 2, and picks linux/amd64 from a manifest list', async () => {
    const archive = join(tmp, 'bb.tar');
    const { saveArchive } = await import('../image/archive-save.js');
    await saveArchive(src, ['busybox:latest'], archive);
    const v2 = `${reg.host}/skopeo/bb:v2s2`;
    execFileSync('skopeo', ['copy', '-q', '--dest-tls-verify=false', '--format', 'v2s2', `docker-archive:${archive}`, `docker://${v2}`], { stdio: 'pipe' });
    const dst = await freshStore();
    const r = await pullImage(dst, v2, { credentials: noCreds() });
    assert.equal(dst.get(r.id).manifest?.mediaType, MediaType.DockerManifest);
    assert.deepEqual((await dst.config(r.id)).rootfs.diff_ids, (await src.config('busybox')).rootfs.diff_ids);

    // An index with an arm64 image (multi:1 stands in) and the amd64 busybox.
    const client = new RegistryClient(reg.host);
    const amd = await client.getManifest('skopeo/bb', 'v2s2');
    await src.tag('multi:1', `${reg.host}/skopeo/bb:arm`);
    const arm = await pushImage(src, `${reg.host}/skopeo/bb:arm`, { credentials: noCreds() });
    const armBytes = await client.getManifest('skopeo/bb', arm.digest);
    const list = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.DockerManifestList,
        manifests: [
          { mediaType: armBytes.mediaType, digest: arm.digest, size: armBytes.bytes.length, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
          { mediaType: amd.mediaType, digest: amd.digest, size: amd.bytes.length, platform: { os: 'linux', architecture: 'amd64' } },
        ],
      }),
    );
    const listDigest = await client.putManifest('skopeo/bb', 'multiarch', list, MediaType.DockerManifestList);
    const dst2 = await freshStore();
    const p = await pullImage(dst2, `${reg.host}/skopeo/bb:multiarch`, { credentials: noCreds() });
    assert.equal(p.id, r.id, 'the amd64 image was chosen');
    assert.equal(p.digest, listDigest, 'RepoDigest is the list digest');
    assert.deepEqual(dst2.repoDigests(p.id), [`${reg.host}/skopeo/bb@${listDigest}`]);
  });

  it('resumes a broken layer download with a Range request', async () => {
    const proxy = await startProxy(reg.host, { cutBlobAfter: 100_000, cutTimes: 2 });
    try {
      const dst = await freshStore();
      const events: ProgressEvent[] = [];
      const r = await pullImage(dst, `${proxy.host}/test/multi:1`, { credentials: noCreds(), onProgress: (e) => events.push(e), concurrency: 1 });
      assert.equal(r.id, multiId);
      assert.ok(proxy.log.some((l) => / bytes=[1-9]\d*-$/.test(l)), `a ranged request was made:\n${proxy.log.join('\n')}`);
      assert.ok(events.some((e) => e.status.startsWith('Retrying')));
    } finally {
      await proxy.stop();
    }
  });

  it('refuses a blob whose digest does not match and keeps nothing', async () => {
    const proxy = await startProxy(reg.host, {
      hook: async (req, res) => {
        if (req.method !== 'GET' || !/\/blobs\//.test(req.url ?? '')) return false;
        // Serve the right length with one byte flipped.
        const upstream = await fetch(`http://${reg.host}${req.url}`);
        const body = Buffer.from(await upstream.arrayBuffer());
        if (body.length > 1000) body[body.length >> 1] ^= 0xff;
        res.writeHead(200, { 'content-length': String(body.length), 'content-type': 'application/octet-stream' });
        res.end(body);
        return true;
      },
    });
    try {
      const dst = await freshStore();
      await assert.rejects(pullImage(dst, `${proxy.host}/test/multi:1`, { credentials: noCreds() }), DigestMismatchError);
      assert.deepEqual(dst.listRecords(), []);
      assert.deepEqual(await dst.blobs.list(), []);
      assert.deepEqual(await dst.layers.list(), []);
    } finally {
      await proxy.stop();
    }
  });

  it('uses basic auth after login, and says to log in without it', async () => {
    const proxy = await startProxy(reg.host, { hook: basicAuthHook('alice', 's3cret') });
    const creds = noCreds();
    try {
      const name = `${proxy.host}/test/busybox:1`;
      await assert.rejects(pullImage(await freshStore(), name, { credentials: creds }), (err: unknown) => {
        assert.ok(err instanceof UnauthorizedError);
        assert.match(err.message, new RegExp(`try: tsswarm login ${proxy.host}`));
        return true;
      });
      await assert.rejects(login(proxy.host, { username: 'alice', password: 'wrong' }, { credentials: creds }), UnauthorizedError);
      assert.equal(await login(proxy.host, { username: 'alice', password: 's3cret' }, { credentials: creds }), 'Login Succeeded');
      const st = await (await import('node:fs/promises')).stat(creds.file);
      assert.equal(st.mode & 0o777, 0o600);
      const r = await pullImage(await freshStore(), name, { credentials: creds });
      assert.equal(r.id, bbId);
      assert.match(await logout(proxy.host, { credentials: creds }), /Removing login credentials/);
      await assert.rejects(pullImage(await freshStore(), name, { credentials: creds }), UnauthorizedError);
    } finally {
      await proxy.stop();
    }
  });

  it('uses bearer tokens (realm/service/scope) for pull and push', async () => {
    let host = '';
    const hook = bearerAuthHook('bob', 'pw', () => host);
    const proxy = await startProxy(reg.host, { hook });
    host = proxy.host;
    const creds = noCreds();
    try {
      await login(proxy.host, { username: 'bob', password: 'pw' }, { credentials: creds });
      const name = `${proxy.host}/bearer/bb:1`;
      await src.tag('busybox', name);
      await pushImage(src, name, { credentials: creds });
      const r = await pullImage(await freshStore(), name, { credentials: creds });
      assert.equal(r.id, bbId);
      assert.ok(hook.tokensIssued() >= 2);
      await assert.rejects(pullImage(await freshStore(), name, { credentials: noCreds() }), UnauthorizedError);
    } finally {
      await proxy.stop();
    }
  });

  it('names a missing tag clearly', async () => {
    await assert.rejects(pullImage(await freshStore(), `${reg.host}/test/nope:1`, { credentials: noCreds() }), /manifest unknown: .*nope:1 does not exist/);
  });

  it('refuses plain http to a non-loopback registry that is not --insecure-registry', async () => {
    const c = new RegistryClient('nonexistent.invalid:5000');
    await assert.rejects(c.getManifest('a', 'b'), /only used for loopback hosts and --insecure-registry/);
  });
});
