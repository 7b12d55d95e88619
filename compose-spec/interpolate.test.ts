import { strict as assert } from 'node:assert';
import { interpolateString, interpolateTree, InterpolationError, PathError } from './interpolate.js';

const env: Record<string, string> = { SET: 'value', EMPTY: '', NUM: '42', B: 'true' };
const lookup = (n: string) => env[n];
const i = (s: string) => interpolateString(s, lookup).value;

describe('interpolate', () => {
  it('substitutes $VAR and ${VAR}', () => {
    assert.equal(i('a $SET b ${SET}c'), 'a value b valuec');
    assert.equal(i('$SET_x'), '', 'the name extends over _x');
  });
  it('reports unset variables and substitutes the empty string', () => {
    const r = interpolateString('x${NOPE}y$ALSO', lookup);
    assert.equal(r.value, 'xy');
    assert.deepEqual(r.unset.sort(), ['ALSO', 'NOPE']);
  });
  it('defaults: :- for unset or empty, - for unset only', () => {
    assert.equal(i('${NOPE:-d}'), 'd');
    assert.equal(i('${EMPTY:-d}'), 'd');
    assert.equal(i('${SET:-d}'), 'value');
    assert.equal(i('${NOPE-d}'), 'd');
    assert.equal(i('${EMPTY-d}'), '');
  });
  it('alternatives: :+ when set and non-empty, + when set', () => {
    assert.equal(i('${SET:+alt}'), 'alt');
    assert.equal(i('${EMPTY:+alt}'), '');
    assert.equal(i('${EMPTY+alt}'), 'alt');
    assert.equal(i('${NOPE+alt}'), '');
  });
  it('required: :? fails on unset or empty, ? on unset only, with the message', () => {
    assert.throws(() => i('${NOPE:?must be set}'), /required variable NOPE is missing a value: must be set/);
    assert.throws(() => i('${EMPTY:?e}'), InterpolationError);
    assert.equal(i('${EMPTY?e}'), '');
    assert.throws(() => i('${NOPE?}'), /required variable NOPE is missing a value$/);
    assert.equal(i('${SET:?e}'), 'value');
  });
  it('$$ is a literal dollar, and a lone $ stays', () => {
    assert.equal(i('$$SET'), '$SET');
    assert.equal(i('cost: $ 5'), 'cost: $ 5');
    assert.equal(i('a$'), 'a$');
  });
  it('nests in defaults and evaluates defaults lazily', () => {
    assert.equal(i('${NOPE:-${SET}}'), 'value');
    assert.equal(i('${NOPE:-${ALSO:-deep}}'), 'deep');
    assert.equal(i('${SET:-${NOPE:?never evaluated}}'), 'value');
    assert.equal(i('${NOPE:-a}{b}'), 'a{b}');
  });
  it('rejects malformed references', () => {
    assert.throws(() => i('${SET'), /missing closing brace/);
    assert.throws(() => i('${}'), /variable name/);
    assert.throws(() => i('${1A}'), /variable name/);
    assert.throws(() => i('${SET:x}'), /unexpected ':'/);
    assert.throws(() => i('${NOPE:-${SET}'), /missing closing brace/);
  });
  it('interpolates every string of a tree, never keys, and names the path on error', () => {
    const r = interpolateTree({ services: { web: { image: 'img:${NUM}', '${SET}': 'k', list: ['$SET', 1] } } }, lookup);
    assert.deepEqual(r.value, { services: { web: { image: 'img:42', '${SET}': 'k', list: ['value', 1] } } });
    assert.throws(
      () => interpolateTree({ services: { web: { ports: ['${X:?no}'] } } }, lookup),
      (e: unknown) => e instanceof PathError && e.path.join('/') === 'services/web/ports/0',
    );
  });
  it('casts interpolated values where the schema allows no string', () => {
    const r = interpolateTree({ services: { web: { depends_on: { db: { condition: 'service_started', required: '${B}' } }, image: '${B}' } } }, lookup);
    assert.deepEqual(r.value, { services: { web: { depends_on: { db: { condition: 'service_started', required: true } }, image: 'true' } } });
  });
});
