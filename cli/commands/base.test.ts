import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { BROKEN_PIPE_EXIT, dockerTime, exitQuietlyOnBrokenPipe, isBrokenPipe, writeIfOpen } from './base.js';

describe('cli/commands/base: broken pipes', function () {
  it('recognises EPIPE and writes to a destroyed stream', function () {
    assert.equal(isBrokenPipe(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })), true);
    assert.equal(isBrokenPipe(Object.assign(new Error('destroyed'), { code: 'ERR_STREAM_DESTROYED' })), true);
    assert.equal(isBrokenPipe(new Error('other')), false);
    assert.equal(isBrokenPipe(undefined), false);
  });

  it('ends with the broken-pipe status on EPIPE and keeps other stream errors fatal', function () {
    const s = new PassThrough() as unknown as NodeJS.WriteStream;
    const codes: number[] = [];
    exitQuietlyOnBrokenPipe([s], (c) => codes.push(c));
    s.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    assert.deepEqual(codes, [BROKEN_PIPE_EXIT]);
    assert.throws(() => s.emit('error', Object.assign(new Error('boom'), { code: 'EIO' })), /boom/);
  });

  it('writeIfOpen drops output to a destroyed stream instead of throwing', function () {
    const s = new PassThrough();
    const got: Buffer[] = [];
    s.on('data', (b: Buffer) => got.push(b));
    writeIfOpen(s, 'a');
    s.destroy();
    writeIfOpen(s, 'b');
    assert.equal(Buffer.concat(got).toString(), 'a');
  });
});

describe('cli/commands/base: dockerTime', function () {
  it("prints times as Go's time.Time.String()", function () {
    const t = Date.UTC(2026, 10, 23, 23, 4, 19) / 1000;
    assert.match(dockerTime(t), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \S+$/);
    if (new Date(t * 1000).getTimezoneOffset() === 0) assert.equal(dockerTime(t), '2026-11-23 23:04:19 +0000 UTC');
  });
});
