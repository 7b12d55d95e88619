import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTestDir } from '../testing/tmp.js';
import { CacheIndex } from './cache-index.js';

describe('image/build/cache-index', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await makeTestDir('tsswarm-build-cache-')));
  after(async () => cleanup());

  it('persists entries across instances', async () => {
    const path = join(dir, 'sub', 'cache.json');
    const a = new CacheIndex(path);
    await a.put('k1', { layers: [], config: { Env: ['A=1'] }, cmdSet: false, history: [{ created_by: 'ENV A=1', empty_layer: true }] });
    await a.flush();
    const b = new CacheIndex(path);
    const e = await b.get('k1');
    assert.deepEqual(e?.config, { Env: ['A=1'] });
    assert.equal(await b.get('k2'), undefined);
  });

  it('starts afresh from an unreadable file', async () => {
    const path = join(dir, 'bad.json');
    await writeFile(path, '{not json');
    const c = new CacheIndex(path);
    assert.equal(await c.get('k'), undefined);
    await writeFile(path, JSON.stringify({ version: 99 }));
    assert.equal(await new CacheIndex(path).get('k'), undefined);
  });
});
