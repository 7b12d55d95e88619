import assert from 'node:assert/strict';
import { envLookup, processWord, processWords } from './shell-lex.js';

const env = envLookup(['A=a', 'EMPTY=', 'SP=x y', 'PATH=/usr/bin:/bin', 'FILE=archive.tar.gz']);
const w = (s: string, escape = '\\'): string => processWord(s, env, escape).value;

describe('image/build/shell-lex', () => {
  it('substitutes $VAR and ${VAR}; unset is empty', () => {
    assert.equal(w('$A-${A}-$NOPE-${NOPE}'), 'a-a--');
    assert.equal(w('x$A/y'), 'xa/y');
    assert.equal(w('${A}b'), 'ab');
  });

  it('applies :- - :+ + like the shell', () => {
    assert.equal(w('${NOPE:-dflt}'), 'dflt');
    assert.equal(w('${EMPTY:-dflt}'), 'dflt');
    assert.equal(w('${EMPTY-dflt}'), '');
    assert.equal(w('${NOPE-dflt}'), 'dflt');
    assert.equal(w('${A:+alt}'), 'alt');
    assert.equal(w('${EMPTY:+alt}'), '');
    assert.equal(w('${EMPTY+alt}'), 'alt');
    assert.equal(w('${NOPE:-$A$A}'), 'aa');
  });

  it('fails ${VAR:?msg} with the message', () => {
    assert.throws(() => w('${NOPE:?must be set}'), /NOPE: must be set/);
    assert.throws(() => w('${EMPTY:?}'), /EMPTY: is not allowed to be empty/);
    assert.equal(w('${A:?x}'), 'a');
  });

  it('trims prefixes and suffixes and replaces', () => {
    assert.equal(w('${FILE%.*}'), 'archive.tar');
    assert.equal(w('${FILE%%.*}'), 'archive');
    assert.equal(w('${FILE#*.}'), 'tar.gz');
    assert.equal(w('${FILE##*.}'), 'gz');
    assert.equal(w('${PATH/bin/sbin}'), '/usr/sbin:/bin');
    assert.equal(w('${PATH//bin/sbin}'), '/usr/sbin:/sbin');
  });

  it('removes quotes; single quotes are literal, double quotes expand', () => {
    assert.equal(w(`'$A'`), '$A');
    assert.equal(w(`"$A b"`), 'a b');
    assert.equal(w(`"a\\"b"`), 'a"b');
    assert.equal(w(`"a\\nb"`), 'a\\nb');
    assert.equal(w(`a\\ b`), 'a b');
    assert.equal(w(`\\$A`), '$A');
  });

  it('honours the backtick escape character', () => {
    assert.equal(w('`$A', '`'), '$A');
    assert.equal(w('C:\\dir', '`'), 'C:\\dir');
  });

  it('reports syntax errors', () => {
    assert.throws(() => w('${A'), /missing '}'/);
    assert.throws(() => w('${}'), /bad substitution/);
    assert.throws(() => w(`'abc`), /single-quote/);
    assert.throws(() => w(`"abc`), /double-quote/);
    assert.throws(() => w('${A^^}'), /unsupported modifier/);
  });

  it('keeps a lone $ and handles $ at the end', () => {
    assert.equal(w('cost: $'), 'cost: $');
    assert.equal(w('$ A'), '$ A');
  });

  it('records which names were used', () => {
    const r = processWord('$A ${B:-$C}', env);
    assert.deepEqual([...r.used].sort(), ['A', 'B', 'C']);
  });

  it('splits words on unquoted and expanded whitespace', () => {
    assert.deepEqual(processWords('80 $SP "q r" \'s t\'', env).words, ['80', 'x', 'y', 'q r', 's t']);
  });
});
