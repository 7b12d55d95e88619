import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { lstat, mkdir, readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { plainUnpackArgs, processLayerStream, tsunpackPath, UnsafeLayerError } from './unpack.js';
import { sha256 } from './digest.js';
import { DigestMismatchError } from './errors.js';
import { ensureTsunpack } from './testing/native.js';
import { makeTestDir } from './testing/tmp.js';
import { tarBuffer, type TarEntry } from './testing/archives.js';

function getXattr(path: string, name: string): string | undefined {
  const r = spawnSync('python3', ['-c', 'import os,sys; sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).decode())', path, name], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : undefined;
}
const havePython = spawnSync('python3', ['-c', 'import os; os.getxattr'], { stdio: 'ignore' }).status === 0;

describe('image/unpack (tsunpack)', function () {
  let tmp: string;
  let cleanup: () => Promise<void>;
  let n = 0;
  const fresh = async (): Promise<string> => {
    const d = join(tmp, `u${n++}`);
    await mkdir(join(d, 'layer'), { recursive: true });
    return d;
  };

  before(async () => {
    ensureTsunpack();
    ({ dir: tmp, cleanup } = await makeTestDir());
  });
  after(async () => cleanup());

  it('keeps modes, owners, mtimes, xattrs, hard links, symlinks, devices and fifos', async () => {
    const d = await fresh();
    const tar = await tarBuffer([
      { h: { name: 'd/', type: 'dir', mode: 0o750, uid: 1000, gid: 1001, mtime: 1_000_000 } },
      { h: { name: 'd/f', type: 'file', mode: 0o4755, uid: 1000, gid: 1001, mtime: 2_000_000, xattrs: { 'user.k': 'v', 'security.capability': Buffer.from([1, 0, 0, 2, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) } }, data: Buffer.from('data') },
      { h: { name: 'd/hl', type: 'hardlink', linkname: 'd/f' } },
      { h: { name: 'd/sl', type: 'symlink', linkname: '/etc/passwd', uid: 5, gid: 6, mtime: 3_000_000 } },
      { h: { name: 'd/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3 } },
      { h: { name: 'd/blk', type: 'block', mode: 0o660, devmajor: 7, devminor: 0 } },
      { h: { name: 'd/fifo', type: 'fifo', mode: 0o600 } },
      { h: { name: 'x/'.repeat(60) + 'long-name-file', type: 'file', mode: 0o600 }, data: Buffer.from('long') },
    ]);
    const r = await processLayerStream([tar], { unpackDir: join(d, 'layer') });
    assert.equal(r.diffId, sha256(tar));
    assert.equal(r.blobDigest, r.diffId);
    assert.equal(r.tarSize, tar.length);
    const L = join(d, 'layer');
    const dst = await stat(join(L, 'd'));
    assert.equal(dst.mode & 0o7777, 0o750);
    assert.equal(dst.uid, 1000);
    assert.equal(dst.mtimeMs, 1_000_000_000, 'dir mtime applied after its contents');
    const f = await stat(join(L, 'd/f'));
    assert.equal(f.mode & 0o7777, 0o4755, 'setuid kept after chown');
    assert.equal(f.gid, 1001);
    assert.equal(f.mtimeMs, 2_000_000_000);
    assert.equal(f.nlink, 2);
    assert.equal((await stat(join(L, 'd/hl'))).ino, f.ino);
    assert.equal(await readlink(join(L, 'd/sl')), '/etc/passwd');
    const sl = await lstat(join(L, 'd/sl'));
    assert.equal(sl.uid, 5);
    assert.equal(sl.mtimeMs, 3_000_000_000);
    const nul = await lstat(join(L, 'd/null'));
    assert.ok(nul.isCharacterDevice());
    assert.equal(nul.rdev, (1 << 8) | 3);
    assert.ok((await lstat(join(L, 'd/blk'))).isBlockDevice());
    assert.ok((await lstat(join(L, 'd/fifo'))).isFIFO());
    assert.equal(await readFile(join(L, 'x/'.repeat(60) + 'long-name-file'), 'utf8'), 'long');
    if (havePython) assert.equal(getXattr(join(L, 'd/f'), 'user.k'), 'v');
  });

  it('turns .wh. files into overlay whiteouts and .wh..wh..opq into opaque dirs', async () => {
    const d = await fresh();
    const tar = await tarBuffer([
      { h: { name: 'etc/', type: 'dir' } },
      { h: { name: 'etc/.wh.motd', type: 'file' }, data: Buffer.alloc(0) },
      { h: { name: 'opq/', type: 'dir' } },
      { h: { name: 'opq/.wh..wh..opq', type: 'file' }, data: Buffer.alloc(0) },
      { h: { name: 'opq/kept', type: 'file' }, data: Buffer.from('k') },
    ]);
    await processLayerStream([gzipSync(tar)], { unpackDir: join(d, 'layer') });
    const L = join(d, 'layer');
    const wh = await lstat(join(L, 'etc/motd'));
    assert.ok(wh.isCharacterDevice());
    assert.equal(wh.rdev, 0);
    assert.deepEqual((await readdir(join(L, 'etc'))).sort(), ['motd']);
    assert.deepEqual((await readdir(join(L, 'opq'))).sort(), ['kept']);
    if (havePython) assert.equal(getXattr(join(L, 'opq'), 'trusted.overlay.opaque'), 'y');
  });

  it('--plain keeps .wh. names as files and sets no trusted.overlay xattr', async () => {
    const d = await fresh();
    const tar = await tarBuffer([
      { h: { name: 'etc/', type: 'dir' } },
      { h: { name: 'etc/motd', type: 'file' }, data: Buffer.from('keep') },
      { h: { name: 'etc/.wh.motd', type: 'file' }, data: Buffer.from('w') },
      { h: { name: 'opq/', type: 'dir', xattrs: { 'trusted.overlay.opaque': 'y' } } },
      { h: { name: 'opq/.wh..wh..opq', type: 'file' }, data: Buffer.alloc(0) },
      { h: { name: '.wh.x', type: 'file' }, data: Buffer.from('x') },
    ]);
    await processLayerStream([tar], { unpackDir: join(d, 'layer'), plain: true });
    const L = join(d, 'layer');
    assert.deepEqual((await readdir(join(L, 'etc'))).sort(), ['.wh.motd', 'motd']);
    assert.equal(await readFile(join(L, 'etc/motd'), 'utf8'), 'keep');
    assert.equal(await readFile(join(L, 'etc/.wh.motd'), 'utf8'), 'w');
    assert.equal(await readFile(join(L, '.wh.x'), 'utf8'), 'x');
    assert.ok((await lstat(join(L, 'opq/.wh..wh..opq'))).isFile());
    if (havePython) assert.equal(getXattr(join(L, 'opq'), 'trusted.overlay.opaque'), undefined);
    // The helper's own arguments for callers that spawn it themselves.
    const r = spawnSync(tsunpackPath(), plainUnpackArgs(join(d, 'again')), { input: tar });
    assert.equal(r.status, 1, 'the directory must exist');
  });

  it('reads GNU longname/longlink tars (what GNU tar writes)', async () => {
    const d = await fresh();
    const src = join(d, 'src');
    const long = 'p'.repeat(120);
    await mkdir(join(src, long), { recursive: true });
    await writeFile(join(src, long, 'f'), 'x');
    execFileSync('ln', ['-s', join(long, 'f'), join(src, 'l'.repeat(130))]);
    const tar = execFileSync('tar', ['--format=gnu', '-C', src, '-cf', '-', '.']);
    await processLayerStream([tar], { unpackDir: join(d, 'layer') });
    assert.equal(await readFile(join(d, 'layer', long, 'f'), 'utf8'), 'x');
    assert.equal(await readlink(join(d, 'layer', 'l'.repeat(130))), join(long, 'f'));
  });

  it('computes the blob digest of the compressed stream and the diffID of the tar', async () => {
    const d = await fresh();
    const tar = await tarBuffer([{ h: { name: 'a', type: 'file' }, data: Buffer.from('a') }]);
    const gz = gzipSync(tar);
    const r = await processLayerStream([gz.subarray(0, 7), gz.subarray(7)], { unpackDir: join(d, 'layer') });
    assert.equal(r.blobDigest, sha256(gz));
    assert.equal(r.diffId, sha256(tar));
    assert.equal(r.compression, 'gzip');
  });

  const hostile: Array<[string, TarEntry[]]> = [
    ['an absolute path', [{ h: { name: '/OUT/abs', type: 'file' }, data: Buffer.from('x') }]],
    ['a .. component', [{ h: { name: 'a/../../OUT/dotdot', type: 'file' }, data: Buffer.from('x') }]],
    ['.. via PAX path', [{ h: { name: 'ok', type: 'file', pax: { path: '../OUT/pax' } }, data: Buffer.from('x') }]],
    [
      'a file through a symlink leading out (absolute)',
      [
        { h: { name: 'evil', type: 'symlink', linkname: 'OUTSIDE' } },
        { h: { name: 'evil/pwned', type: 'file' }, data: Buffer.from('x') },
      ],
    ],
    [
      'a file through a symlink leading out (relative)',
      [
        { h: { name: 'evil', type: 'symlink', linkname: '../../..' } },
        { h: { name: 'evil/pwned', type: 'file' }, data: Buffer.from('x') },
      ],
    ],
    ['a hard link to ..', [{ h: { name: 'h', type: 'hardlink', linkname: '../OUT/victim' } }]],
    ['a hard link to an absolute path', [{ h: { name: 'h', type: 'hardlink', linkname: '/etc/passwd' } }]],
    [
      'a hard link through a symlink leading out',
      [
        { h: { name: 'evil', type: 'symlink', linkname: 'OUTSIDE' } },
        { h: { name: 'h', type: 'hardlink', linkname: 'evil/victim' } },
      ],
    ],
    [
      'a directory through a symlink leading out',
      [
        { h: { name: 'evil', type: 'symlink', linkname: 'OUTSIDE' } },
        { h: { name: 'evil/sub/', type: 'dir' } },
      ],
    ],
  ];
  for (const [what, entries] of hostile) {
    it(`refuses ${what} and writes nothing outside`, async () => {
      const d = await fresh();
      const outside = join(d, 'OUT');
      await mkdir(outside);
      await writeFile(join(outside, 'victim'), 'v');
      const fixed = entries.map((e) => ({
        h: { ...e.h, linkname: e.h.linkname?.replace('OUTSIDE', outside), name: e.h.name.replace('/OUT/', `${outside}/`) },
        data: e.data,
      }));
      const tar = await tarBuffer(fixed);
      await assert.rejects(processLayerStream([tar], { unpackDir: join(d, 'layer') }), (err: unknown) => {
        assert.ok(err instanceof UnsafeLayerError, `expected UnsafeLayerError, got ${String(err)}`);
        return true;
      });
      assert.deepEqual(await readdir(outside), ['victim']);
      assert.equal((await stat(join(outside, 'victim'))).nlink, 1);
    });
  }

  it('stores the blob as given, hashes without unpacking, and matches the portable sha256', async () => {
    const d = await fresh();
    const tar = await tarBuffer([
      { h: { name: 'big', type: 'file' }, data: randomBytes(3 << 20) },
      { h: { name: 'small', type: 'file' }, data: Buffer.from('s') },
    ]);
    const gz = gzipSync(tar, { level: 1 });
    const chunks = [gz.subarray(0, 1), gz.subarray(1, 70_001), gz.subarray(70_001)];
    const r = await processLayerStream(chunks, { unpackDir: join(d, 'layer'), blobFile: join(d, 'blob') });
    assert.deepEqual(await readFile(join(d, 'blob')), gz);
    assert.equal(r.blobSize, gz.length);
    assert.equal(r.tarSize, tar.length);
    assert.equal(r.blobDigest, sha256(gz));
    assert.equal(r.diffId, sha256(tar));
    const hashed = await processLayerStream([gz]);
    assert.deepEqual(hashed, r);
    // The SHA-NI code is what normally runs: the portable one must agree with it (and with Node).
    process.env.TSUNPACK_NO_SHANI = '1';
    try {
      assert.deepEqual(await processLayerStream([tar.subarray(0, 1000), tar.subarray(1000)]), { ...r, blobDigest: r.diffId, blobSize: tar.length, compression: 'none' });
    } finally {
      delete process.env.TSUNPACK_NO_SHANI;
    }
  });

  it('reads concatenated gzip members and ignores trailing zero padding, not other trailing bytes', async () => {
    const tarA = await tarBuffer([{ h: { name: 'a', type: 'file' }, data: Buffer.from('a') }]);
    const tar = tarA.subarray(0, 1024); // a's header and data, no end-of-archive blocks
    const tarB = await tarBuffer([{ h: { name: 'b', type: 'file' }, data: Buffer.from('b') }]);
    const whole = Buffer.concat([tar, tarB]);
    const two = Buffer.concat([gzipSync(tar), gzipSync(tarB)]);
    const d = await fresh();
    const r = await processLayerStream([two], { unpackDir: join(d, 'layer') });
    assert.equal(r.diffId, sha256(whole));
    assert.deepEqual((await readdir(join(d, 'layer'))).sort(), ['a', 'b']);
    const padded = Buffer.concat([two, Buffer.alloc(4096)]);
    const p = await processLayerStream([padded]);
    assert.equal(p.diffId, sha256(whole));
    assert.equal(p.blobDigest, sha256(padded));
    await assert.rejects(processLayerStream([Buffer.concat([two, Buffer.from('junk')])]), /bad gzip data/);
  });

  it('reports a corrupt download as a digest mismatch when the digest is known', async () => {
    const d = await fresh();
    const tar = await tarBuffer([{ h: { name: 'a', type: 'file' }, data: randomBytes(200_000) }]);
    const gz = gzipSync(tar);
    const bad = Buffer.from(gz);
    bad[bad.length >> 1] ^= 0xff;
    await assert.rejects(
      processLayerStream([bad.subarray(0, 1000), bad.subarray(1000)], { unpackDir: join(d, 'layer'), expectedBlobDigest: sha256(gz) }),
      DigestMismatchError,
    );
    // Without a digest to compare with, it is what it is: bad gzip data.
    await assert.rejects(processLayerStream([bad], { unpackDir: join(await fresh(), 'layer') }), /bad gzip data/);
  });

  it('fails on a truncated or corrupt stream', async () => {
    const d = await fresh();
    const tar = await tarBuffer([{ h: { name: 'a', type: 'file' }, data: Buffer.alloc(5000, 1) }]);
    await assert.rejects(processLayerStream([tar.subarray(0, 2048)], { unpackDir: join(d, 'layer') }), /truncated/);
    const bad = Buffer.from(tar);
    bad[0] = 0x41;
    await assert.rejects(processLayerStream([bad], { unpackDir: join(d, 'layer') }), /checksum/);
    await assert.rejects(processLayerStream([gzipSync(tar).subarray(0, 30)], { unpackDir: join(d, 'layer') }));
  });
});
