import { strict as assert } from 'node:assert';
import { dependencyLevels, shutdownLevels, DependencyCycleError } from './depends.js';

describe('dependency order', () => {
  it('groups services in levels that can start in parallel', () => {
    assert.deepEqual(dependencyLevels({ web: ['api', 'cache'], api: ['db'], db: [], cache: [], worker: ['db'] }), [['cache', 'db'], ['api', 'worker'], ['web']]);
    assert.deepEqual(shutdownLevels({ a: ['b'], b: [] }), [['a'], ['b']]);
  });
  it('ignores unknown names (disabled or external)', () => {
    assert.deepEqual(dependencyLevels({ a: ['gone'] }), [['a']]);
  });
  it('names the cycle', () => {
    assert.throws(() => dependencyLevels({ a: ['b'], b: ['c'], c: ['a'], d: [] }), (e: unknown) => e instanceof DependencyCycleError && e.message === 'dependency cycle: a -> b -> c -> a');
    assert.throws(() => dependencyLevels({ a: ['a'] }), /a -> a/);
  });
});
