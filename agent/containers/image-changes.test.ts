import assert from 'node:assert/strict';
import { applyChanges, ChangeError } from './image-changes.js';

describe('applyChanges (commit/import --change)', () => {
  it('applies CMD, ENV, EXPOSE, LABEL, WORKDIR, USER as a Dockerfile would', () => {
    const c = applyChanges({ Env: ['A=1'], Cmd: ['sh'] }, ['CMD ["echo", "hi"]', 'ENV B=2', 'EXPOSE 80/udp', 'LABEL k=v', 'WORKDIR /srv', 'USER nobody']);
    assert.deepEqual(c.Cmd, ['echo', 'hi']);
    assert.deepEqual(c.Env, ['A=1', 'B=2']);
    assert.ok(c.ExposedPorts && '80/udp' in c.ExposedPorts);
    assert.equal(c.Labels?.k, 'v');
    assert.equal(c.WorkingDir, '/srv');
    assert.equal(c.User, 'nobody');
  });
  it('refuses an instruction that is not a config change, naming it and the index', () => {
    assert.throws(() => applyChanges({}, ['ENV A=1', 'RUN true']), (e: unknown) => e instanceof ChangeError && /changes\[1\]: RUN is not a valid change command/.test(e.message));
  });
});
