import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tarBuffer } from '../testing/archives.js';
import { makeTestDir } from '../testing/tmp.js';
import { archiveCompression, compressionOf, isTarHeader } from './archive.js';

describe('image/build/archive', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await makeTestDir('tsswarm-build-archive-')));
  after(async () => cleanup());

  it('recognises compression by magic bytes', () => {
    assert.equal(compressionOf(Buffer.from([0x1f, 0x8b, 8])), 'gzip');
    assert.equal(compressionOf(Buffer.from('BZh91AY')), 'bzip2');
    assert.equal(compressionOf(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0])), 'xz');
    assert.equal(compressionOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
    assert.equal(compressionOf(Buffer.from('hello')), 'none');
  });

  it('treats tars (plain or gzip) as archives and anything else as a file', async () => {
    const tar = await tarBuffer([{ h: { name: 'a.txt', type: 'file' }, data: Buffer.from('a') }]);
    assert.equal(isTarHeader(tar), true);
    await writeFile(join(dir, 'x.tar'), tar);
    await writeFile(join(dir, 'x.tar.gz'), gzipSync(tar));
    await writeFile(join(dir, 'notes.gz'), gzipSync(Buffer.from('just text, not a tar')));
    await writeFile(join(dir, 'plain.txt'), 'plain');
    await writeFile(join(dir, 'empty'), '');
    assert.equal(await archiveCompression(join(dir, 'x.tar')), 'none');
    assert.equal(await archiveCompression(join(dir, 'x.tar.gz')), 'gzip');
    assert.equal(await archiveCompression(join(dir, 'notes.gz')), undefined);
    assert.equal(await archiveCompression(join(dir, 'plain.txt')), undefined);
    assert.equal(await archiveCompression(join(dir, 'empty')), undefined);
  });
});
