import assert from 'node:assert/strict';
import { withHint } from './hints.js';

describe('cli/hints withHint', () => {
  it('adds the pull hint to a missing image, keeping the daemon words', () => {
    assert.equal(withHint('No such image: team/t1:v4'), 'No such image: team/t1:v4 — try: tsswarm pull team/t1:v4');
  });
  it('leaves other messages alone', () => {
    assert.equal(withHint('No such container: c1'), 'No such container: c1');
    assert.equal(withHint('conflict: x'), 'conflict: x');
  });
});
