import assert from 'node:assert/strict';
import { FilterError, boolFilter, checkFilterKeys, matchLabels, matchName, matchNoLabels, parseFilters } from './filters.js';

describe('lib/filters', () => {
  it('parses both JSON forms', () => {
    assert.deepEqual(parseFilters(undefined), {});
    assert.deepEqual(parseFilters('{"label":["a=b"],"dangling":["true"]}'), { label: ['a=b'], dangling: ['true'] });
    assert.deepEqual(parseFilters('{"label":{"a=b":true,"c":false}}'), { label: ['a=b'] });
    assert.throws(() => parseFilters('{'), FilterError);
    assert.throws(() => parseFilters('[1]'), /expected a JSON object/);
    assert.throws(() => parseFilters('{"a":1}'), /value of "a"/);
  });
  it('checks keys and booleans', () => {
    assert.throws(() => checkFilterKeys({ x: [] }, ['name']), /invalid filter 'x'/);
    assert.equal(boolFilter({ d: ['1'] }, 'd'), true);
    assert.equal(boolFilter({}, 'd'), undefined);
    assert.throws(() => boolFilter({ d: ['true', 'false'] }, 'd'), /both/);
  });
  it('matches labels and names', () => {
    assert.ok(matchLabels({ a: 'b', c: '' }, ['a', 'a=b', 'c=']));
    assert.ok(!matchLabels({ a: 'b' }, ['a=c']));
    assert.ok(matchNoLabels({ a: 'b' }, ['x']));
    assert.ok(!matchNoLabels({ a: 'b' }, ['a']));
    assert.ok(matchName('web-data', ['^web']));
    assert.ok(!matchName('db', ['^web']));
    assert.ok(matchName('a(b', ['a(']));
  });
});
