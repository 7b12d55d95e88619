import assert from 'node:assert/strict';
import { chmod, lchown, lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DomainError } from '../../lib/errors.js';
import { httpStatus } from '../api/router.js';
import { ANONYMOUS_LABEL, VolumeService } from './service.js';

const apiErr = (status: number, re: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof DomainError, String(e));
  assert.equal(httpStatus(e), status, e.message);
  assert.match(e.message, re);
  return true;
};

describe('agent/volumes', () => {
  let root: string;
  const now = (): Date => new Date('2024-03-04T05:06:07.890Z');
  const svc = (): VolumeService => new VolumeService({ dataRoot: root, now });
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'volumes-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('creates and inspects with Docker fields; create is idempotent', async () => {
    const s = svc();
    await s.load();
    const v = await s.create({ Name: 'data', Labels: { a: 'b' } });
    assert.deepEqual(v, {
      Name: 'data',
      Driver: 'local',
      Labels: { a: 'b' },
      Options: null,
      CreatedAt: '2024-03-04T05:06:07Z',
      Mountpoint: join(root, 'volumes', 'data', '_data'),
      Scope: 'local',
    });
    assert.ok((await stat(v.Mountpoint)).isDirectory());
    const again = await s.create({ Name: 'data', Labels: { other: '1' } });
    assert.deepEqual(again.Labels, { a: 'b' });
    assert.deepEqual(s.inspect('data'), v);
    const [x, y] = await Promise.all([s.create({ Name: 'same' }), s.create({ Name: 'same' })]);
    assert.deepEqual(x, y);
  });

  it('anonymous volumes get a 64-hex name and the anonymous label', async () => {
    const s = svc();
    await s.load();
    const v = await s.create({}, { anonymous: true });
    assert.match(v.Name, /^[0-9a-f]{64}$/);
    assert.deepEqual(v.Labels, { [ANONYMOUS_LABEL]: '' });
  });

  it('rejects bad names, drivers and options with clear errors', async () => {
    const s = svc();
    await s.load();
    await assert.rejects(s.create({ Name: 'a/b' }), apiErr(400, /"a\/b" includes invalid characters for a local volume name/));
    await assert.rejects(s.create({ Name: 'v', Driver: 'nfs' }), apiErr(404, /plugin "nfs" not found/));
    await assert.rejects(s.create({ Name: 'vv', DriverOpts: { type: 'tmpfs' } }), apiErr(400, /invalid option "type".*not supported/));
    await assert.rejects(s.create({ Name: 'vv', DriverOpts: { foo: '1' } }), apiErr(400, /invalid option key: "foo"/));
    assert.throws(() => s.inspect('nope'), apiErr(404, /^get nope: no such volume$/));
  });

  it('reloads records, recreates lost dirs, adopts orphan dirs', async () => {
    const s = svc();
    await s.load();
    await s.create({ Name: 'keep', Labels: { k: 'v' } });
    await s.create({ Name: 'lost' });
    await rm(join(root, 'volumes', 'lost'), { recursive: true });
    await mkdir(join(root, 'volumes', 'orphan', '_data'), { recursive: true });
    const s2 = svc();
    const r = await s2.load();
    assert.deepEqual(r.recreated, ['lost']);
    assert.deepEqual(r.adopted, ['orphan']);
    assert.deepEqual(s2.inspect('keep').Labels, { k: 'v' });
    assert.deepEqual(s2.list().Volumes.map((v) => v.Name), ['keep', 'lost', 'orphan']);
  });

  it('lists with name, label, dangling and driver filters', async () => {
    const s = svc();
    await s.load();
    await s.create({ Name: 'web-data', Labels: { app: 'web', tier: 'front' } });
    await s.create({ Name: 'db-data', Labels: { app: 'db' } });
    await s.create({ Name: 'cache' });
    s.acquire('db-data', 'c1');
    const names = (f: Record<string, string[]>): string[] => s.list(f).Volumes.map((v) => v.Name);
    assert.deepEqual(names({}), ['cache', 'db-data', 'web-data']);
    assert.deepEqual(names({ name: ['data'] }), ['db-data', 'web-data']);
    assert.deepEqual(names({ label: ['app'] }), ['db-data', 'web-data']);
    assert.deepEqual(names({ label: ['app=web', 'tier'] }), ['web-data']);
    assert.deepEqual(names({ dangling: ['true'] }), ['cache', 'web-data']);
    assert.deepEqual(names({ dangling: ['false'] }), ['db-data']);
    assert.deepEqual(names({ driver: ['local'] }).length, 3);
    assert.throws(() => s.list({ color: ['red'] }), apiErr(400, /invalid filter 'color'/));
    assert.throws(() => s.list({ dangling: ['maybe'] }), apiErr(400, /invalid filter 'dangling=maybe'/));
  });

  it('rm refuses in-use volumes even with force; force ignores missing', async () => {
    const s = svc();
    await s.load();
    const v = await s.create({ Name: 'vol' });
    s.acquire('vol', 'bbb');
    s.acquire('vol', 'aaa');
    await assert.rejects(s.remove('vol'), apiErr(409, /^remove vol: volume is in use - \[aaa, bbb\]$/));
    await assert.rejects(s.remove('vol', { force: true }), apiErr(409, /in use/));
    s.release('vol', 'aaa');
    s.release('vol', 'bbb');
    s.release('vol', 'never');
    await s.remove('vol');
    await assert.rejects(stat(v.Mountpoint), /ENOENT/);
    await assert.rejects(s.remove('vol'), apiErr(404, /no such volume/));
    await s.remove('vol', { force: true });
    assert.throws(() => s.acquire('vol', 'x'), apiErr(404, /no such volume/));
  });

  it('prune takes unused anonymous volumes by default, all with all=true', async () => {
    const s = svc();
    await s.load();
    const anon1 = await s.create({}, { anonymous: true });
    const anon2 = await s.create({ Labels: { keep: '1' } }, { anonymous: true });
    const used = await s.create({}, { anonymous: true });
    await s.create({ Name: 'named' });
    await writeFile(join(anon1.Mountpoint, 'f'), 'x'.repeat(100));
    s.acquire(used.Name, 'c');
    const r = await s.prune({ 'label!': ['keep'] });
    assert.deepEqual(r, { VolumesDeleted: [anon1.Name], SpaceReclaimed: 100 });
    const r2 = await s.prune({ all: ['true'] });
    assert.deepEqual(r2.VolumesDeleted.sort(), [anon2.Name, 'named'].sort());
    assert.deepEqual(s.list().Volumes.map((v) => v.Name), [used.Name]);
    await assert.rejects(s.prune({ dangling: ['true'] }), apiErr(400, /invalid filter 'dangling'/));
  });

  it('copy-up fills an empty volume preserving modes, owners, symlinks; not twice', async () => {
    const s = svc();
    await s.load();
    const src = join(root, 'image-rootfs', 'var', 'lib', 'app');
    await mkdir(join(src, 'sub'), { recursive: true });
    await writeFile(join(src, 'sub', 'conf'), 'hello');
    await chmod(join(src, 'sub', 'conf'), 0o640);
    await chmod(src, 0o1777);
    await symlink('../nowhere', join(src, 'link'));
    const isRoot = process.getuid?.() === 0;
    if (isRoot) {
      await lchown(join(src, 'sub', 'conf'), 1234, 5678);
      await lchown(join(src, 'link'), 42, 43);
    }
    const v = await s.create({ Name: 'app' });
    assert.equal(await s.copyUp('app', src), true);
    const conf = await stat(join(v.Mountpoint, 'sub', 'conf'));
    assert.equal(await readFile(join(v.Mountpoint, 'sub', 'conf'), 'utf8'), 'hello');
    assert.equal(conf.mode & 0o7777, 0o640);
    assert.equal((await stat(v.Mountpoint)).mode & 0o7777, 0o1777);
    assert.equal(await readlink(join(v.Mountpoint, 'link')), '../nowhere');
    if (isRoot) {
      assert.deepEqual([conf.uid, conf.gid], [1234, 5678]);
      const l = await lstat(join(v.Mountpoint, 'link'));
      assert.deepEqual([l.uid, l.gid], [42, 43]);
    }
    await writeFile(join(src, 'later'), 'x');
    assert.equal(await s.copyUp('app', src), false, 'a non-empty volume is not filled again');
    const v2 = await s.create({ Name: 'empty' });
    assert.equal(await s.copyUp('empty', join(root, 'no-such-dir')), false);
    assert.deepEqual(await s.usage('app'), { Size: 5 + '../nowhere'.length, RefCount: 0 });
    assert.ok(v2);
  });
});
