import assert from 'node:assert/strict';
import { mkdir, writeFile, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTestDir } from '../testing/tmp.js';
import { contentChecksum } from './cache-key.js';
import { contextRecords, openContext } from './context.js';
import { resolveSources } from './copy-plan.js';
import { BuildError } from './errors.js';

describe('image/build/context', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ dir, cleanup } = await makeTestDir('tsswarm-build-ctx-'));
    await mkdir(join(dir, 'src/sub'), { recursive: true });
    await mkdir(join(dir, 'docker'), { recursive: true });
    await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\n');
    await writeFile(join(dir, 'docker/app.Dockerfile'), 'FROM busybox\n');
    await writeFile(join(dir, 'docker/app.Dockerfile.dockerignore'), 'src/sub\n');
    await writeFile(join(dir, '.dockerignore'), '*.log\n');
    await writeFile(join(dir, 'src/a.js'), 'a');
    await writeFile(join(dir, 'src/sub/b.js'), 'b');
    await writeFile(join(dir, 'x.log'), 'log');
  });
  after(async () => cleanup());

  it('opens the Dockerfile and the .dockerignore that applies', async () => {
    const c = await openContext(dir);
    assert.equal(c.dockerfile.name, 'Dockerfile');
    assert.equal(c.tree.stat('x.log'), undefined);
    assert.deepEqual(c.tree.descendants('').sort(), ['.dockerignore', 'Dockerfile', 'docker', 'docker/app.Dockerfile', 'docker/app.Dockerfile.dockerignore', 'src', 'src/a.js', 'src/sub', 'src/sub/b.js']);
    const d = await openContext(dir, 'docker/app.Dockerfile');
    assert.equal(d.dockerfile.name, 'docker/app.Dockerfile');
    assert.equal(d.dockerfile.text, 'FROM busybox\n');
    assert.equal(d.tree.stat('src/sub/b.js'), undefined);
    assert.notEqual(d.tree.stat('x.log'), undefined);
  });

  it('names what is missing', async () => {
    await assert.rejects(openContext(join(dir, 'nope')), (e: unknown) => e instanceof BuildError && /build context .*nope does not exist/.test(e.message));
    await assert.rejects(openContext(dir, 'Missingfile'), /cannot read the Dockerfile: .*Missingfile does not exist/);
  });

  it('checksums content, not timestamps', async () => {
    const sum = async (): Promise<string> => {
      const ctx = await openContext(dir);
      const m = resolveSources({ sources: ['src'], tree: ctx.tree, sourceName: 'the build context' });
      return contentChecksum(await contextRecords(ctx.tree, m));
    };
    const first = await sum();
    await utimes(join(dir, 'src/a.js'), new Date(), new Date(2001, 1, 1));
    assert.equal(await sum(), first);
    await writeFile(join(dir, 'src/a.js'), 'changed');
    assert.notEqual(await sum(), first);
  });
});
