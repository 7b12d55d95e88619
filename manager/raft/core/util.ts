// Small shared helpers: entry sizing and conf-change encoding.
import type { ConfChange, Entry } from '../types.js';

/** Approximate wire size, used for maxSizePerMsg budgets. */
export function entrySize(e: Entry): number {
  return e.data.byteLength + 24;
}

/** Trims `ents` in place to at most maxBytes (keeping at least one entry). */
export function limitSize(ents: Entry[], maxBytes: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entrySize(ents[0]);
  let n = 1;
  while (n < ents.length) {
    size += entrySize(ents[n]);
    if (size > maxBytes) break;
    n++;
  }
  if (n < ents.length) ents.length = n;
  return ents;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeConfChange(cc: ConfChange): Uint8Array {
  return enc.encode(JSON.stringify(cc));
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  return JSON.parse(dec.decode(data)) as ConfChange;
}

export const EMPTY = new Uint8Array(0);
