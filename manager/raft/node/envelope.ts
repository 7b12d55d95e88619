// Every proposal made through the driver is wrapped so that the proposer can recognise its own
// entry when it is applied: magic byte, the proposing process's random incarnation, a sequence.
// A restarted process gets a new incarnation, so it never resolves a promise of its previous life.
import crypto from 'node:crypto';

const MAGIC = 0xa7;
export const ENVELOPE_SIZE = 1 + 8 + 8;

export function newIncarnation(): Buffer {
  return crypto.randomBytes(8);
}

export function wrap(incarnation: Buffer, seq: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(ENVELOPE_SIZE + payload.length);
  out[0] = MAGIC;
  incarnation.copy(out, 1);
  out.writeDoubleLE(seq, 9);
  out.set(payload, ENVELOPE_SIZE);
  return out;
}

export interface Unwrapped {
  /** Set when `incarnation` matched: the sequence of our own proposal. */
  ownSeq: number | undefined;
  payload: Uint8Array;
}

export function unwrap(incarnation: Buffer, data: Uint8Array): Unwrapped {
  if (data.length < ENVELOPE_SIZE || data[0] !== MAGIC) {
    throw new Error(`raft node: entry payload of ${data.length} bytes lacks the proposal envelope`);
  }
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const own = buf.compare(incarnation, 0, 8, 1, 9) === 0;
  return { ownSeq: own ? buf.readDoubleLE(9) : undefined, payload: buf.subarray(ENVELOPE_SIZE) };
}
