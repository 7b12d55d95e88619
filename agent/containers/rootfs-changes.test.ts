import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { upperChanges } from './rootfs-changes.js';

describe('upperChanges', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsswarm-changes-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads whiteouts as D, entries the image has as C, new ones (and all below a new dir) as A', async function () {
    const lower = join(dir, 'lower');
    const upper = join(dir, 'upper');
    mkdirSync(join(lower, 'etc'), { recursive: true });
    writeFileSync(join(lower, 'etc', 'passwd'), 'root\n');
    writeFileSync(join(lower, 'gone'), 'x');
    mkdirSync(join(upper, 'etc'), { recursive: true });
    writeFileSync(join(upper, 'etc', 'passwd'), 'root\nme\n');
    writeFileSync(join(upper, 'etc', 'new'), '');
    mkdirSync(join(upper, 'fresh', 'sub'), { recursive: true });
    writeFileSync(join(upper, 'fresh', 'sub', 'f'), '');
    try {
      execFileSync('mknod', [join(upper, 'gone'), 'c', '0', '0']);
    } catch {
      this.skip(); // mknod needs CAP_MKNOD: the daemon runs as root, a unit run may not
    }
    const got = (await upperChanges(upper, [lower])).map((c) => `${c.Kind} ${c.Path}`);
    assert.deepEqual(got, ['0 /etc', '1 /etc/new', '0 /etc/passwd', '1 /fresh', '1 /fresh/sub', '1 /fresh/sub/f', '2 /gone']);
  });
});
