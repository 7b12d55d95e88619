import assert from 'node:assert/strict';
import { parseGroup, parsePasswd, resolveChown, resolveUser } from './users.js';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\n# comment\napp:x:1000:1000:app:/home/app:/bin/sh\nbroken\n';
const GROUP = 'root:x:0:\nwheel:x:10:app,other\napp:x:1000:\nstaff:x:50:app\n';

describe('image/build/users', () => {
  it('parses passwd and group files, skipping junk', () => {
    assert.deepEqual(parsePasswd(PASSWD).map((u) => u.name), ['root', 'app']);
    assert.deepEqual(parseGroup(GROUP)[1], { name: 'wheel', gid: 10, members: ['app', 'other'] });
  });

  it('resolves names, numbers and supplementary groups like runc', () => {
    assert.deepEqual(resolveUser('app', PASSWD, GROUP), { uid: 1000, gid: 1000, additionalGids: [10, 50], home: '/home/app' });
    assert.deepEqual(resolveUser('app:staff', PASSWD, GROUP), { uid: 1000, gid: 50, additionalGids: [], home: '/home/app' });
    assert.deepEqual(resolveUser('4242', PASSWD, GROUP), { uid: 4242, gid: 0, additionalGids: [], home: '/' });
    assert.deepEqual(resolveUser('', undefined, undefined), { uid: 0, gid: 0, additionalGids: [], home: '/' });
    assert.throws(() => resolveUser('ghost', PASSWD, GROUP), /unable to find user ghost/);
    assert.throws(() => resolveUser('app:ghosts', PASSWD, GROUP), /unable to find group ghosts/);
  });

  it('resolves --chown, a lone number meaning uid and gid', () => {
    assert.deepEqual(resolveChown('10', undefined, undefined), { uid: 10, gid: 10 });
    assert.deepEqual(resolveChown('10:20', undefined, undefined), { uid: 10, gid: 20 });
    assert.deepEqual(resolveChown('app', PASSWD, GROUP), { uid: 1000, gid: 1000 });
    assert.deepEqual(resolveChown('app:wheel', PASSWD, GROUP), { uid: 1000, gid: 10 });
  });
});
