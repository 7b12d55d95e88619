import assert from 'node:assert/strict';
import { imageHealth, mergeEnv, mergeHealth } from './create-defaults.js';

describe('agent/containers/create-defaults', () => {
  it('mergeEnv keeps the image order and lets the container override by name', () => {
    assert.deepEqual(mergeEnv(['PATH=/bin', 'A=1', 'FLAG'], ['A=2', 'B=3']), ['PATH=/bin', 'A=2', 'FLAG', 'B=3']);
    assert.deepEqual(mergeEnv([], []), []);
  });

  it('mergeHealth takes the image value where the container leaves a field unset or zero', () => {
    assert.equal(mergeHealth(undefined, undefined), undefined);
    const img = { Test: ['CMD', 'true'], Interval: 5e9, Retries: 3 };
    assert.deepEqual(mergeHealth(undefined, img), img);
    assert.deepEqual(mergeHealth({ Interval: 1e9 }, img), { Test: ['CMD', 'true'], Interval: 1e9, Timeout: undefined, Retries: 3, StartPeriod: undefined, StartInterval: undefined });
    assert.deepEqual(mergeHealth({ Test: [] , Retries: 0 }, img)?.Test, ['CMD', 'true']);
  });

  it('imageHealth drops a null Test and absent fields', () => {
    assert.equal(imageHealth(null), undefined);
    assert.deepEqual(imageHealth({ Test: null, Interval: 2 }), { Interval: 2 });
    assert.deepEqual(imageHealth({ Test: ['NONE'] }), { Test: ['NONE'] });
  });
});
