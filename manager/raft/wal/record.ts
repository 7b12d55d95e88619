// WAL record framing. Layout (little-endian):
//   u32 length of payload | u32 crc32(length bytes) | u32 crc32(type byte + payload) | u8 type | payload
// The length has its own CRC so that a flipped bit in a length field is reported as corruption
// instead of looking like a torn tail (which recovery would silently truncate).
import { crc32 } from './crc32.js';

export const HEADER_SIZE = 13;
/** Upper bound on one record; anything larger is treated as garbage rather than allocated. */
export const MAX_RECORD_SIZE = 1 << 30;

export enum RecordType {
  /** First record of every segment: format version, segment sequence and first entry index. */
  SegmentHeader = 1,
  Entry = 2,
  HardState = 3,
  /** A snapshot at (term, index) is durable; entries at or below index are no longer needed. */
  SnapshotMarker = 4,
}

export function encodeRecord(type: RecordType, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
  writeRecordInto(out, 0, type, payload);
  return out;
}

/** Writes one record at `at`; returns the offset after it. */
export function writeRecordInto(out: Buffer, at: number, type: RecordType, payload: Uint8Array): number {
  out.writeUInt32LE(payload.length, at);
  out.writeUInt32LE(crc32(out.subarray(at, at + 4)), at + 4);
  out[at + 12] = type;
  out.set(payload, at + HEADER_SIZE);
  out.writeUInt32LE(crc32(out.subarray(at + 12, at + HEADER_SIZE + payload.length)), at + 8);
  return at + HEADER_SIZE + payload.length;
}

export type ParseResult =
  | { kind: 'ok'; type: number; payload: Buffer; next: number }
  /** Not enough bytes for the record: only acceptable at the very end of the last segment. */
  | { kind: 'short' }
  | { kind: 'zero' }
  | { kind: 'bad'; reason: string };

export function parseRecord(buf: Buffer, at: number): ParseResult {
  if (buf.length - at < HEADER_SIZE) {
    return isZero(buf, at, buf.length) ? { kind: 'zero' } : { kind: 'short' };
  }
  const len = buf.readUInt32LE(at);
  const lenCrc = buf.readUInt32LE(at + 4);
  if (len === 0 && lenCrc === 0 && isZero(buf, at, at + HEADER_SIZE)) return { kind: 'zero' };
  if (crc32(buf.subarray(at, at + 4)) !== lenCrc) return { kind: 'bad', reason: 'length checksum mismatch' };
  if (len > MAX_RECORD_SIZE) return { kind: 'bad', reason: `record length ${len} exceeds limit` };
  const end = at + HEADER_SIZE + len;
  if (end > buf.length) return { kind: 'short' };
  const dataCrc = buf.readUInt32LE(at + 8);
  if (crc32(buf.subarray(at + 12, end)) !== dataCrc) return { kind: 'bad', reason: 'data checksum mismatch' };
  return { kind: 'ok', type: buf[at + 12]!, payload: buf.subarray(at + HEADER_SIZE, end), next: end };
}

export function isZero(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] !== 0) return false;
  return true;
}

/** True when any fully valid record starts somewhere in [from, buf.length). Used to tell corruption from a torn tail. */
export function hasValidRecordAfter(buf: Buffer, from: number): boolean {
  for (let at = from; at + HEADER_SIZE <= buf.length; at++) {
    const r = parseRecord(buf, at);
    if (r.kind === 'ok' && r.payload.length > 0) return true;
  }
  return false;
}
