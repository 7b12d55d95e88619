import assert from 'node:assert/strict';
import { DomainError } from '../../lib/errors.js';
import { httpStatus } from '../api/router.js';
import { ADJECTIVES, NameIndex, SURNAMES, newId, randomName, shortId, validateName } from './names.js';

describe('agent/containers/names', () => {
  it('newId is 64 hex and never all-digit in its short form', () => {
    const id = newId();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(shortId(id), id.slice(0, 12));
    let calls = 0;
    const fake = (n: number): Buffer => Buffer.alloc(n, calls++ === 0 ? 0x11 : 0xab);
    assert.equal(newId(fake), 'ab'.repeat(32));
    assert.equal(calls, 2);
  });

  it('validateName follows Docker', () => {
    assert.equal(validateName('web'), 'web');
    assert.equal(validateName('/web-1.a_b'), 'web-1.a_b');
    for (const bad of ['a', '-web', 'we b', 'wé', '', '_x']) {
      assert.throws(
        () => validateName(bad),
        (e: unknown) => e instanceof DomainError && httpStatus(e) === 400 && e.message === `Invalid container name (${bad}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
      );
    }
  });

  it('word lists are ~50 each, unique and valid', () => {
    assert.ok(ADJECTIVES.length >= 50 && SURNAMES.length >= 50);
    assert.equal(new Set(ADJECTIVES).size, ADJECTIVES.length);
    assert.equal(new Set(SURNAMES).size, SURNAMES.length);
    for (const w of [...ADJECTIVES, ...SURNAMES]) assert.match(w, /^[a-z]+$/);
  });

  it('randomName avoids taken names and appends a digit after a clash', () => {
    const seq = [0, 0, 0, 0, 7];
    let i = 0;
    const pick = (): number => seq[i++] ?? 0;
    const first = `${ADJECTIVES[0]}_${SURNAMES[0]}`;
    assert.equal(randomName(() => false, pick), first);
    i = 0;
    assert.equal(randomName((n) => n === first, pick), `${first}7`);
    assert.match(randomName(() => false), /^[a-z]+_[a-z]+$/);
  });

  describe('NameIndex', () => {
    const a = 'abc123' + '0'.repeat(58);
    const b = 'abd456' + '0'.repeat(58);
    const idx = (): NameIndex => {
      const x = new NameIndex();
      x.add(a, '/web');
      x.add(b, 'db');
      return x;
    };
    it('resolves full ID, name with or without slash, unique prefix', () => {
      const x = idx();
      assert.equal(x.resolve(a), a);
      assert.equal(x.resolve('web'), a);
      assert.equal(x.resolve('/web'), a);
      assert.equal(x.resolve('/db'), b);
      assert.equal(x.resolve('abc'), a);
      assert.equal(x.resolve('abd4'), b);
      assert.equal(x.nameOf(a), 'web');
    });
    it('a name beats an ID prefix', () => {
      const x = idx();
      const c = 'ffff' + '0'.repeat(60);
      x.add(c, 'abc');
      assert.equal(x.resolve('abc'), c);
    });
    it('ambiguous prefix and missing ref', () => {
      const x = idx();
      assert.throws(() => x.resolve('ab'), (e: unknown) => e instanceof DomainError && httpStatus(e) === 400 && e.message.includes('multiple IDs found with provided prefix: ab'));
      assert.throws(() => x.resolve('nope'), (e: unknown) => e instanceof DomainError && httpStatus(e) === 404 && e.message === 'No such container: nope');
      assert.throws(() => x.resolve(''), /No such container: $/);
      assert.equal(x.tryResolve('zzz'), undefined);
    });
    it('name conflicts, rename and remove', () => {
      const x = idx();
      assert.throws(() => x.add('f'.repeat(64), 'web'), (e: unknown) => e instanceof DomainError && httpStatus(e) === 409 && e.message.includes('"/web" is already in use by container "' + a));
      x.rename(a, 'front');
      assert.equal(x.hasName('web'), false);
      assert.equal(x.resolve('front'), a);
      x.remove(a);
      assert.equal(x.tryResolve('front'), undefined);
      assert.equal(x.size, 1);
      const n = new NameIndex('network');
      assert.throws(() => n.resolve('x'), /No such network: x/);
    });
  });
});
