// A small DNS message codec (RFC 1035): enough to read queries, build authoritative A/PTR answers,
// and read answers back (for tests and diagnostics). Forwarded messages are relayed as raw bytes.

export const TYPE_A = 1;
export const TYPE_NS = 2;
export const TYPE_CNAME = 5;
export const TYPE_SOA = 6;
export const TYPE_PTR = 12;
export const TYPE_AAAA = 28;
export const TYPE_OPT = 41;
export const CLASS_IN = 1;

export const RCODE_NOERROR = 0;
export const RCODE_FORMERR = 1;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
export const RCODE_NOTIMP = 4;
export const RCODE_REFUSED = 5;

const FLAG_QR = 0x8000;
const FLAG_AA = 0x0400;
const FLAG_TC = 0x0200;
const FLAG_RD = 0x0100;
const FLAG_RA = 0x0080;

export class DnsFormatError extends Error {
  override name = 'DnsFormatError';
}

export interface Question {
  /** Lower-cased, no trailing dot ("" for the root). */
  name: string;
  type: number;
  cls: number;
}

export interface ResourceRecord {
  name: string;
  type: number;
  cls: number;
  ttl: number;
  data: Buffer;
}

export interface Message {
  id: number;
  flags: number;
  qr: boolean;
  opcode: number;
  rd: boolean;
  tc: boolean;
  rcode: number;
  questions: Question[];
  answers: ResourceRecord[];
}

export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function readName(buf: Buffer, start: number): { name: string; next: number } {
  const labels: string[] = [];
  let pos = start;
  let next = -1;
  // Bounds the number of jumps so a pointer loop in a hostile packet cannot spin forever.
  for (let jumps = 0; jumps < 64; ) {
    if (pos >= buf.length) throw new DnsFormatError('name runs past the end of the message');
    const len = buf[pos]!;
    if (len === 0) {
      if (next < 0) next = pos + 1;
      const name = labels.join('.');
      if (name.length > 253) throw new DnsFormatError('name longer than 253 characters');
      return { name, next };
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= buf.length) throw new DnsFormatError('truncated compression pointer');
      if (next < 0) next = pos + 2;
      pos = ((len & 0x3f) << 8) | buf[pos + 1]!;
      jumps++;
      continue;
    }
    if (len > 63) throw new DnsFormatError(`bad label length ${len}`);
    if (pos + 1 + len > buf.length) throw new DnsFormatError('label runs past the end of the message');
    labels.push(buf.toString('latin1', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  throw new DnsFormatError('too many compression pointers');
}

export function encodeName(name: string): Buffer {
  const n = name.replace(/\.$/, '');
  if (n === '') return Buffer.from([0]);
  const parts: Buffer[] = [];
  for (const label of n.split('.')) {
    const bytes = Buffer.from(label, 'latin1');
    if (bytes.length === 0 || bytes.length > 63) throw new DnsFormatError(`bad label "${label}" in "${name}"`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

export function decodeMessage(buf: Buffer): Message {
  if (buf.length < 12) throw new DnsFormatError(`message of ${buf.length} bytes is shorter than a header`);
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  let pos = 12;
  const questions: Question[] = [];
  for (let i = 0; i < qd; i++) {
    const { name, next } = readName(buf, pos);
    if (next + 4 > buf.length) throw new DnsFormatError('question runs past the end of the message');
    questions.push({ name: normalizeName(name), type: buf.readUInt16BE(next), cls: buf.readUInt16BE(next + 2) });
    pos = next + 4;
  }
  const answers: ResourceRecord[] = [];
  for (let i = 0; i < an; i++) {
    const { name, next } = readName(buf, pos);
    if (next + 10 > buf.length) throw new DnsFormatError('record runs past the end of the message');
    const rdlen = buf.readUInt16BE(next + 8);
    if (next + 10 + rdlen > buf.length) throw new DnsFormatError('record data runs past the end of the message');
    answers.push({
      name: normalizeName(name),
      type: buf.readUInt16BE(next),
      cls: buf.readUInt16BE(next + 2),
      ttl: buf.readUInt32BE(next + 4),
      data: buf.subarray(next + 10, next + 10 + rdlen),
    });
    pos = next + 10 + rdlen;
  }
  return {
    id,
    flags,
    qr: (flags & FLAG_QR) !== 0,
    opcode: (flags >> 11) & 0xf,
    rd: (flags & FLAG_RD) !== 0,
    tc: (flags & FLAG_TC) !== 0,
    rcode: flags & 0xf,
    questions,
    answers,
  };
}

export function encodeQuery(id: number, name: string, type: number, rd = true): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(rd ? FLAG_RD : 0, 2);
  header.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(CLASS_IN, 2);
  return Buffer.concat([header, encodeName(name), tail]);
}

export interface Answer {
  name: string;
  type: number;
  ttl: number;
  data: Buffer;
}

export function aRecord(name: string, ip: string, ttl: number): Answer {
  return { name, type: TYPE_A, ttl, data: Buffer.from(ip.split('.').map(Number)) };
}

export function ptrRecord(name: string, target: string, ttl: number): Answer {
  return { name, type: TYPE_PTR, ttl, data: encodeName(target) };
}

/** Builds a response echoing the query's id, RD and first question. */
export function encodeResponse(query: Pick<Message, 'id' | 'rd' | 'opcode' | 'questions'>, rcode: number, answers: readonly Answer[], opts: { aa?: boolean; ra?: boolean } = {}): Buffer {
  const q = query.questions[0];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.id, 0);
  let flags = FLAG_QR | ((query.opcode & 0xf) << 11) | (rcode & 0xf);
  if (query.rd) flags |= FLAG_RD;
  if (opts.aa) flags |= FLAG_AA;
  if (opts.ra ?? true) flags |= FLAG_RA;
  header.writeUInt16BE(flags, 2);
  header.writeUInt16BE(q ? 1 : 0, 4);
  header.writeUInt16BE(answers.length, 6);
  const parts: Buffer[] = [header];
  const qname = q ? encodeName(q.name) : Buffer.alloc(0);
  if (q) {
    const tail = Buffer.alloc(4);
    tail.writeUInt16BE(q.type, 0);
    tail.writeUInt16BE(q.cls, 2);
    parts.push(qname, tail);
  }
  for (const a of answers) {
    // Answers for the question's own name point back at it (offset 12) instead of repeating it.
    const name = q && normalizeName(a.name) === q.name ? Buffer.from([0xc0, 12]) : encodeName(a.name);
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(a.type, 0);
    fixed.writeUInt16BE(CLASS_IN, 2);
    fixed.writeUInt32BE(a.ttl >>> 0, 4);
    fixed.writeUInt16BE(a.data.length, 8);
    parts.push(name, fixed, a.data);
  }
  return Buffer.concat(parts);
}

/** A minimal error response for a message we could not parse beyond its header. */
export function encodeHeaderOnlyError(buf: Buffer, rcode: number): Buffer | undefined {
  if (buf.length < 12) return undefined;
  const out = Buffer.alloc(12);
  out.writeUInt16BE(buf.readUInt16BE(0), 0);
  out.writeUInt16BE(FLAG_QR | (buf.readUInt16BE(2) & 0x7900) | FLAG_RA | (rcode & 0xf), 2);
  return out;
}

/** Marks a response as truncated and drops its records, for UDP replies over the size limit. */
export function truncateResponse(query: Message): Buffer {
  const resp = encodeResponse(query, RCODE_NOERROR, []);
  resp.writeUInt16BE(resp.readUInt16BE(2) | FLAG_TC, 2);
  return resp;
}

export function readA(data: Buffer): string {
  return [...data.subarray(0, 4)].join('.');
}

/** "10.0.0.5" → "5.0.0.10.in-addr.arpa" */
export function reverseName(ip: string): string {
  return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
}

/** "5.0.0.10.in-addr.arpa" → "10.0.0.5", or undefined for anything else. */
export function ipFromReverse(name: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(normalizeName(name));
  if (!m) return undefined;
  return [m[4], m[3], m[2], m[1]].join('.');
}
