import { strict as assert } from 'node:assert';
import { selectServices } from './profiles.js';

const input = {
  profiles: { web: [], db: [], debug: ['debug'], tools: ['tools', 'debug'], admin: ['admin'] },
  dependencies: { web: ['db'], db: [], debug: ['web'], tools: [], admin: ['tools'] },
};

describe('profiles', () => {
  it('enables services without profiles only, by default', () => {
    assert.deepEqual(selectServices(input, []).enabled, ['db', 'web']);
  });
  it('enables services of active profiles', () => {
    const r = selectServices(input, ['debug']);
    assert.deepEqual(r.enabled, ['db', 'debug', 'tools', 'web']);
    assert.deepEqual(r.disabled, ['admin']);
  });
  it('"*" enables everything', () => {
    assert.equal(selectServices(input, ['*']).enabled.length, 5);
  });
  it('targeted services are enabled with their dependencies, and activate their profiles', () => {
    const r = selectServices(input, [], ['admin']);
    assert.deepEqual(r.enabled, ['admin', 'tools']);
    assert.deepEqual(r.active, ['admin']);
  });
});
