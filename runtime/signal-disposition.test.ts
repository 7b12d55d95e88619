import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { catches, caughtMask, signalReaches } from './signal-disposition.js';

describe('runtime/signal-disposition', () => {
  it('reads the SigCgt mask', () => {
    const mask = caughtMask('Name:\tsh\nSigIgn:\t0000000000000004\nSigCgt:\t0000000000004002\n');
    assert.equal(mask, 0x4002n);
    assert.equal(catches(mask!, 2), true); // SIGINT
    assert.equal(catches(mask!, 15), true); // SIGTERM
    assert.equal(catches(mask!, 3), false); // SIGQUIT is ignored, not caught
    assert.equal(caughtMask('Name:\tx\n'), undefined);
  });

  it('tells a process that traps SIGTERM from one that does not', async () => {
    const trapping = spawn('sh', ['-c', 'trap "exit 0" TERM; echo ready; while :; do sleep 1; done'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const plain = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((r) => trapping.stdout!.once('data', r));
      assert.equal(await signalReaches(trapping.pid!, 15), true);
      assert.equal(await signalReaches(plain.pid!, 15), false);
      assert.equal(await signalReaches(plain.pid!, 9), true);
      assert.equal(await signalReaches(2 ** 22 + 12345, 15), undefined);
    } finally {
      trapping.kill('SIGKILL');
      plain.kill('SIGKILL');
    }
  });
});
