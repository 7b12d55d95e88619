import assert from 'node:assert/strict';
import { join } from 'node:path';
import { imageHistory, inspectImage, listImages, runConfig } from './api.js';
import { ImageStore } from './store.js';
import { importBusyboxImage, BUSYBOX_PATH } from './testing/busybox-image.js';
import { importImage } from './import.js';
import { ensureTsunpack } from './testing/native.js';
import { makeTestDir } from './testing/tmp.js';
import { tarBuffer } from './testing/archives.js';

describe('image/api (Docker-shaped JSON)', function () {
  let cleanup: () => Promise<void>;
  let store: ImageStore;
  let bb: string;
  let app: string;

  before(async () => {
    ensureTsunpack();
    let dir: string;
    ({ dir, cleanup } = await makeTestDir());
    store = await ImageStore.open(join(dir, 'root'));
    bb = await importBusyboxImage(store);
    const top = await tarBuffer([{ h: { name: 'app', type: 'file', mode: 0o755 }, data: Buffer.from('#!/bin/sh\necho hi\n') }]);
    const { busyboxLayerTar, busyboxConfig } = await import('./testing/busybox-image.js');
    const base = busyboxConfig();
    app = await importImage(store, {
      layers: [() => busyboxLayerTar(), () => [top]],
      config: {
        ...base,
        created: '2024-06-01T00:00:00Z',
        config: { ...base.config, Entrypoint: ['/app'], Cmd: null, Labels: { team: 'a' }, ExposedPorts: { '80/tcp': {} }, User: '1000' },
        history: [...(base.history ?? []), { created: '2024-06-01T00:00:00Z', created_by: 'COPY app /app' }],
      },
      tags: ['app:1', 'localhost:5000/app:1'],
    });
    await store.acquire('app:1', 'ctr-1');
  });
  after(async () => cleanup());

  it('lists images like GET /images/json', async () => {
    const list = await listImages(store);
    assert.equal(list.length, 2);
    const [a, b] = list;
    assert.equal(a!.Id, app, 'newest first');
    assert.deepEqual(a!.RepoTags, ['app:1', 'localhost:5000/app:1']);
    assert.deepEqual(a!.Labels, { team: 'a' });
    assert.equal(a!.Containers, 1);
    assert.equal(a!.Created, Date.parse('2024-06-01T00:00:00Z') / 1000);
    assert.ok(a!.Size > b!.Size);
    assert.equal(b!.Id, bb);
    assert.deepEqual(b!.RepoTags, ['busybox:latest']);
    assert.deepEqual((await listImages(store, { filters: { reference: ['busybox'] } })).map((x) => x.Id), [bb]);
    // Only the matching names stay (Docker's `images REPO[:TAG]`), wildcards allowed.
    const byRef = async (ref: string): Promise<[string, string[]][]> => (await listImages(store, { filters: { reference: [ref] } })).map((x) => [x.Id, x.RepoTags]);
    assert.deepEqual(await byRef('app'), [[app, ['app:1']]]);
    assert.deepEqual(await byRef('localhost:5000/app:1'), [[app, ['localhost:5000/app:1']]]);
    assert.deepEqual(await byRef('*/app'), [[app, ['localhost:5000/app:1']]]);
    assert.deepEqual(await byRef('app:2'), []);
    assert.deepEqual(await byRef('busy*'), [[bb, ['busybox:latest']]]);
    assert.deepEqual((await listImages(store, { filters: { label: ['team=a'] } })).map((x) => x.Id), [app]);
    assert.deepEqual((await listImages(store, { filters: { dangling: ['true'] } })).map((x) => x.Id), []);
  });

  it('inspects like GET /images/{name}/json', async () => {
    const i = await inspectImage(store, 'app:1');
    assert.equal(i.Id, app);
    assert.equal(i.Os, 'linux');
    assert.equal(i.Architecture, 'amd64');
    assert.deepEqual(i.Config?.Entrypoint, ['/app']);
    assert.equal(i.RootFS.Layers.length, 2);
    assert.equal(i.GraphDriver.Data.LowerDir!.split(':').length, 2);
    await assert.rejects(inspectImage(store, 'nope'), /No such image: nope$/);
  });

  it('gives history newest first', async () => {
    const h = await imageHistory(store, 'app:1');
    assert.deepEqual(h.map((x) => x.CreatedBy), ['COPY app /app', 'CMD ["sh"]', h[2]!.CreatedBy]);
    assert.equal(h[0]!.Id, app);
    assert.ok(h[0]!.Size > 0);
    assert.equal(h[1]!.Size, 0);
    assert.equal(h[1]!.Id, '<missing>');
    assert.ok(h[2]!.Size > 1_000_000);
  });

  it('gives the run config with defaults', async () => {
    const r = await runConfig(store, 'app:1');
    assert.deepEqual(r.Entrypoint, ['/app']);
    assert.deepEqual(r.Cmd, []);
    assert.equal(r.User, '1000');
    assert.deepEqual(r.ExposedPorts, ['80/tcp']);
    assert.deepEqual(r.Env, [`PATH=${BUSYBOX_PATH}`]);
    assert.equal(r.WorkingDir, '/');
    assert.equal(r.StopSignal, 'SIGTERM');
  });
});
