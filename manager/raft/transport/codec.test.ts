import assert from 'node:assert/strict';
import type { Message } from '../types.js';
import { decodeMessage, encodeMessage } from './codec.js';
import { encodeFrame, FrameDecoder, FrameTooLargeError } from './framing.js';

function norm(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
  return v;
}

describe('raft/transport codec', () => {
  const samples: Message[] = [
    { type: 'heartbeat', from: 'a', to: 'b', term: 3, commit: 7, context: 'rd-1' },
    { type: 'voteResp', from: 'b', to: 'a', term: 4, reject: false },
    { type: 'appResp', from: 'n2', to: 'n1', term: 9, index: 40, reject: true, rejectHint: 31, rejectHintTerm: 8 },
    {
      type: 'app',
      from: 'n1',
      to: 'n3',
      term: 2 ** 40,
      index: 2 ** 52,
      logTerm: 1,
      commit: 0,
      entries: [
        { term: 1, index: 1, type: 'normal', data: new Uint8Array() },
        { term: 1, index: 2, type: 'conf', data: Buffer.from('{"type":"addVoter","node":"ü"}') },
      ],
    },
    {
      type: 'snap',
      from: 'x',
      to: 'y',
      term: 5,
      snapshot: { meta: { index: 10, term: 4, conf: { voters: ['x', 'y'], learners: ['z'], votersOutgoing: ['x'], learnersNext: ['q'], autoLeave: false } }, data: Buffer.alloc(1000, 7) },
    },
    { type: 'timeoutNow', from: '', to: 'ñode', term: 0 },
  ];

  it('round-trips every field, keeping absent fields absent', () => {
    for (const m of samples) assert.deepEqual(norm(decodeMessage(encodeMessage(m))), norm(m));
    const d = decodeMessage(encodeMessage(samples[0]!));
    assert.equal('entries' in d, false);
    assert.equal('reject' in d, false);
  });

  it('rejects trailing bytes and truncated input', () => {
    const buf = encodeMessage(samples[3]!);
    assert.throws(() => decodeMessage(Buffer.concat([buf, Buffer.from([0])])), /trailing/);
    for (let n = 0; n < buf.length; n++) assert.throws(() => decodeMessage(buf.subarray(0, n)));
  });

  it('frame decoder reassembles frames split at every byte boundary', () => {
    const frames = samples.map((m) => encodeMessage(m));
    const stream = Buffer.concat(frames.map((f) => encodeFrame(f)));
    for (let cut = 1; cut < stream.length; cut += 7) {
      const got: Buffer[] = [];
      const dec = new FrameDecoder(1 << 20);
      for (let at = 0; at < stream.length; at += cut) dec.push(stream.subarray(at, at + cut), (p) => got.push(Buffer.from(p)));
      assert.equal(got.length, frames.length);
      got.forEach((g, i) => assert.ok(g.equals(frames[i]!)));
    }
    assert.throws(() => new FrameDecoder(10).push(encodeFrame(Buffer.alloc(11)), () => undefined), FrameTooLargeError);
  });
});
