import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { bufferedInput } from './hijack.js';

describe('agent/api/hijack bufferedInput', () => {
  it('keeps input and its end that arrive before a listener, in order', () => {
    const src = new EventEmitter();
    const input = bufferedInput(src);
    src.emit('data', Buffer.from('a'));
    src.emit('data', Buffer.from('b'));
    src.emit('end');
    const seen: string[] = [];
    input.onInputEnd(() => seen.push('END'));
    assert.equal(seen.length, 0);
    input.onInput((b) => seen.push(b.toString()));
    assert.deepEqual(seen, ['a', 'b', 'END']);
  });

  it('passes later input straight through and ends once', () => {
    const src = new EventEmitter();
    const input = bufferedInput(src);
    const seen: string[] = [];
    input.onInput((b) => seen.push(b.toString()));
    input.onInputEnd(() => seen.push('END'));
    src.emit('data', Buffer.from('x'));
    src.emit('end');
    src.emit('end');
    assert.deepEqual(seen, ['x', 'END']);
  });
});
