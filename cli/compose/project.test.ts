import { strict as assert } from 'node:assert';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_HOST } from '../../api/daemon.js';
import { contentDir } from './project.js';

describe('contentDir', () => {
  it('is /run/tscompose/<project> for root, under $XDG_RUNTIME_DIR or the temp dir for others', () => {
    assert.equal(contentDir('proj', DEFAULT_HOST, {}, 0), '/run/tscompose/proj');
    assert.equal(contentDir('proj', DEFAULT_HOST, { XDG_RUNTIME_DIR: '/run/user/1000' }, 1000), '/run/user/1000/tscompose/proj');
    assert.equal(contentDir('proj', DEFAULT_HOST, {}, 1000), join(tmpdir(), 'tscompose-1000', 'proj'));
  });

  it('is per engine: another daemon gets its own directory for a project of the same name', () => {
    const a = contentDir('proj', 'unix:///tmp/a.sock', {}, 0);
    assert.match(a, /^\/run\/tscompose\/proj@[0-9a-f]{12}$/);
    assert.notEqual(a, contentDir('proj', 'unix:///tmp/b.sock', {}, 0));
  });
});
