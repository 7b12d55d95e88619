import assert from 'node:assert/strict';
import { baseKey, canonicalJson, contentChecksum, stepKey, type ContentRecord } from './cache-key.js';

describe('image/build/cache-key', () => {
  it('serialises objects canonically', () => {
    assert.equal(canonicalJson({ b: 1, a: [1, { d: 2, c: undefined }] }), '{"a":[1,{"d":2}],"b":1}');
    assert.equal(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }));
  });

  it('chains step keys on the parent and the step', () => {
    const base = baseKey({ imageId: 'sha256:' + 'a'.repeat(64) });
    assert.notEqual(base, baseKey('scratch'));
    const k1 = stepKey(base, { kind: 'ENV', pairs: [['A', '1']] });
    assert.equal(k1, stepKey(base, { pairs: [['A', '1']], kind: 'ENV' }));
    assert.notEqual(k1, stepKey(base, { kind: 'ENV', pairs: [['A', '2']] }));
    assert.notEqual(stepKey(k1, { kind: 'RUN' }), stepKey(base, { kind: 'RUN' }));
  });

  it('checksums content independent of order, sensitive to mode, owner and bytes', () => {
    const a: ContentRecord = { path: '/app/a', type: 'file', mode: 0o644, uid: 0, gid: 0, digest: 'sha256:1' };
    const b: ContentRecord = { path: '/app', type: 'dir', mode: 0o755, uid: 0, gid: 0 };
    const sum = contentChecksum([a, b]);
    assert.equal(sum, contentChecksum([b, a]));
    assert.notEqual(sum, contentChecksum([{ ...a, mode: 0o755 }, b]));
    assert.notEqual(sum, contentChecksum([{ ...a, uid: 1 }, b]));
    assert.notEqual(sum, contentChecksum([{ ...a, digest: 'sha256:2' }, b]));
    assert.notEqual(sum, contentChecksum([{ ...a, path: '/app/c' }, b]));
  });
});
