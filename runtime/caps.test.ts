import assert from 'node:assert/strict';
import { capMask, canonicalCap, DEFAULT_CAPABILITIES, tweakCapabilities } from './caps.js';

describe('runtime/caps', () => {
  it("has Docker's 14 default capabilities", () => {
    assert.equal(DEFAULT_CAPABILITIES.length, 14);
    // The mask Docker containers show in /proc/self/status (CapBnd: 00000000a80425fb).
    assert.equal(capMask(DEFAULT_CAPABILITIES).toString(16), 'a80425fb');
  });

  it('canonicalises names', () => {
    assert.equal(canonicalCap('net_admin'), 'CAP_NET_ADMIN');
    assert.equal(canonicalCap('CAP_SYS_ADMIN'), 'CAP_SYS_ADMIN');
    assert.equal(canonicalCap('CAP_NOPE'), undefined);
  });

  it('adds and drops like docker --cap-add/--cap-drop', () => {
    const caps = tweakCapabilities(DEFAULT_CAPABILITIES, ['NET_ADMIN'], ['chown', 'CAP_KILL']);
    assert.ok(caps.includes('CAP_NET_ADMIN'));
    assert.ok(!caps.includes('CAP_CHOWN'));
    assert.ok(!caps.includes('CAP_KILL'));
    assert.equal(caps.length, 13);
    assert.deepEqual(tweakCapabilities(DEFAULT_CAPABILITIES, ['SYS_TIME'], ['ALL']), ['CAP_SYS_TIME']);
    assert.equal(tweakCapabilities([], ['ALL'], []).length, 41);
    assert.throws(() => tweakCapabilities([], ['BOGUS'], []), /capAdd\[0\]: unknown capability "BOGUS"/);
  });
});
