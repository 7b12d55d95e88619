import assert from 'node:assert/strict';
import { link, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTestDir } from '../testing/tmp.js';
import type { CopyOp } from './copy-plan.js';
import { copyItems, diffItems, type TarItem } from './layer-tar.js';

async function collect(items: AsyncIterable<TarItem>): Promise<Array<[string, string, string]>> {
  const out: Array<[string, string, string]> = [];
  for await (const it of items) {
    let data = '';
    if (it.open) for await (const c of it.open()) data += Buffer.from(c).toString();
    out.push([it.h.name, it.h.type, it.h.linkname ?? data]);
  }
  return out;
}

describe('image/build/layer-tar', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await makeTestDir('tsswarm-build-layertar-')));
  after(async () => cleanup());

  it('turns names gone since "before" into whiteouts, keeps hard links, skips sockets', async () => {
    // before: /etc/{a,b}, /old/x ; after: /etc/a changed, /etc/b gone, /old gone, /new added.
    const before = join(dir, 'before');
    const after = join(dir, 'after');
    const upper = join(dir, 'upper');
    for (const d of [join(before, 'etc'), join(before, 'old'), join(after, 'etc'), join(after, 'new'), join(upper, 'etc'), join(upper, 'new')]) {
      await mkdir(d, { recursive: true });
    }
    await writeFile(join(before, 'etc/a'), 'a');
    await writeFile(join(before, 'etc/b'), 'b');
    await writeFile(join(before, 'old/x'), 'x');
    await writeFile(join(after, 'etc/a'), 'A');
    await writeFile(join(upper, 'etc/a'), 'A');
    await writeFile(join(upper, 'new/f'), 'f');
    await link(join(upper, 'new/f'), join(upper, 'new/g'));
    await symlink('f', join(upper, 'new/l'));
    assert.deepEqual(await collect(diffItems(upper, before, after)), [
      ['.wh.old', 'file', ''],
      ['etc/', 'dir', ''],
      ['etc/.wh.b', 'file', ''],
      ['etc/a', 'file', 'A'],
      ['new/', 'dir', ''],
      ['new/f', 'file', 'f'],
      ['new/g', 'hardlink', 'new/f'],
      ['new/l', 'symlink', 'f'],
    ]);
  });

  it('writes a COPY plan as entries, streaming file contents', async () => {
    await writeFile(join(dir, 'src.txt'), 'content');
    const ops: CopyOp[] = [
      { dest: '/app', type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0 },
      { dest: '/app/f.txt', type: 'file', mode: 0o600, uid: 7, gid: 8, size: 7, source: 'src.txt' },
      { dest: '/app/l', type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, linkTarget: 'f.txt' },
    ];
    const items = copyItems(ops, { abs: (p) => join(dir, p), mtime: () => 1 }, 2);
    assert.deepEqual(await collect(items), [
      ['app/', 'dir', ''],
      ['app/f.txt', 'file', 'content'],
      ['app/l', 'symlink', 'f.txt'],
    ]);
  });
});
