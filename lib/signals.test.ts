import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { DomainError } from './errors.js';
import { SignalError, lookupSignal, parseSignal, signalName } from './signals.js';

describe('lib/signals', () => {
  it('reads the name with or without SIG, in any case, and the number', () => {
    for (const s of ['SIGTERM', 'TERM', 'term', 'SigTerm', '15']) assert.equal(parseSignal(s), 15, s);
    assert.equal(parseSignal('KILL'), 9);
    assert.equal(parseSignal('1'), 1);
    assert.equal(parseSignal('64'), 64);
    assert.equal(parseSignal('IOT'), 6);
    assert.equal(parseSignal('SIGCLD'), 17);
  });

  it('agrees with the kernel numbers Node knows', () => {
    for (const [name, n] of Object.entries(constants.signals)) assert.equal(lookupSignal(name), n, name);
  });

  it('reads real-time signals relative to RTMIN and RTMAX, within range', () => {
    assert.equal(parseSignal('SIGRTMIN'), 34);
    assert.equal(parseSignal('SIGRTMIN+3'), 37);
    assert.equal(parseSignal('RTMAX-1'), 63);
    assert.equal(parseSignal('rtmax'), 64);
    assert.equal(lookupSignal('SIGRTMIN-1'), undefined);
    assert.equal(lookupSignal('SIGRTMAX+1'), undefined);
  });

  it('refuses what is no signal with the engine text, as an invalid-argument error', () => {
    for (const bad of ['0', '65', 'SIGFOO', '', 'SIG', '-1', 'TERM ', 'constructor', 'toString']) {
      assert.equal(lookupSignal(bad), undefined, bad);
      assert.throws(
        () => parseSignal(bad),
        (e: unknown) => e instanceof SignalError && e instanceof DomainError && e.kind === 'invalid' && e.message === `invalid signal: ${bad}`,
      );
    }
  });

  it('names numbers canonically', () => {
    assert.equal(signalName(15), 'SIGTERM');
    assert.equal(signalName(6), 'SIGABRT');
    assert.equal(signalName(17), 'SIGCHLD');
    assert.equal(signalName(29), 'SIGIO');
    assert.equal(signalName(31), 'SIGSYS');
    assert.equal(signalName(34), 'SIGRTMIN');
    assert.equal(signalName(37), 'SIGRTMIN+3');
    assert.equal(signalName(64), 'SIGRTMAX');
    assert.equal(signalName(0), undefined);
    assert.equal(signalName(65), undefined);
    for (let n = 1; n <= 64; n++) if (n !== 32 && n !== 33) assert.equal(parseSignal(signalName(n)!), n, String(n));
  });
});
