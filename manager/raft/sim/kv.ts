// The simulation's state machine: a tiny string KV with put/append, deduplicating client retries by
// (client, seq), plus a hash chain over applied entries so replicas can be compared index by index.
import type { Entry } from '../types.js';

export type WriteOp = { kind: 'put' | 'append'; key: string; value: string };

export interface Command {
  client: number;
  seq: number;
  op: WriteOp;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeCommand(c: Command): Uint8Array {
  return enc.encode(JSON.stringify(c));
}

export function decodeCommand(data: Uint8Array): Command {
  return JSON.parse(dec.decode(data)) as Command;
}

/** FNV-1a over the entry, chained: equal chains mean equal applied histories. */
function chainHash(prev: number, e: Entry): number {
  let h = (prev ^ 0x811c9dc5 ^ e.term) >>> 0;
  h = Math.imul(h ^ e.index, 16777619) >>> 0;
  for (let i = 0; i < e.data.length; i++) h = Math.imul(h ^ e.data[i], 16777619) >>> 0;
  return h;
}

interface KvImage {
  data: Array<[string, string]>;
  lastSeq: Array<[number, number]>;
  chain: number;
  index: number;
}

export class Kv {
  data = new Map<string, string>();
  lastSeq = new Map<number, number>();
  chain = 0;
  /** Index of the last entry applied. */
  index = 0;

  /** Applies one committed entry; returns the command it carried, if any (also when a duplicate). */
  apply(e: Entry): Command | undefined {
    if (e.index !== this.index + 1) throw new Error(`kv: applying ${e.index} after ${this.index}`);
    this.index = e.index;
    this.chain = chainHash(this.chain, e);
    if (e.type !== 'normal' || e.data.length === 0) return undefined;
    const c = decodeCommand(e.data);
    if ((this.lastSeq.get(c.client) ?? 0) >= c.seq) return c;
    this.lastSeq.set(c.client, c.seq);
    const { key, value } = c.op;
    this.data.set(key, c.op.kind === 'put' ? value : (this.data.get(key) ?? '') + value);
    return c;
  }

  get(key: string): string {
    return this.data.get(key) ?? '';
  }

  serialize(): Uint8Array {
    const img: KvImage = { data: [...this.data], lastSeq: [...this.lastSeq], chain: this.chain, index: this.index };
    return enc.encode(JSON.stringify(img));
  }

  static restore(bytes: Uint8Array): Kv {
    const kv = new Kv();
    if (bytes.length === 0) return kv;
    const img = JSON.parse(dec.decode(bytes)) as KvImage;
    kv.data = new Map(img.data);
    kv.lastSeq = new Map(img.lastSeq);
    kv.chain = img.chain;
    kv.index = img.index;
    return kv;
  }
}
