// Commands of the replicated key-value store, as carried in raft entries (UTF-8 JSON: small and
// debuggable; the hot path cost is dominated by the raft log, not by parsing these).
import { z } from 'zod';

export const KvCommandSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('put'), key: z.string(), value: z.string() }),
  z.object({ op: z.literal('del'), key: z.string() }),
  /** Compare-and-set: expect null means "key must be absent". */
  z.object({ op: z.literal('cas'), key: z.string(), expect: z.string().nullable(), value: z.string() }),
]);
export type KvCommand = z.infer<typeof KvCommandSchema>;

export type KvResult =
  | { op: 'put'; revision: number }
  | { op: 'del'; revision: number; deleted: boolean }
  | { op: 'cas'; revision: number; ok: boolean; current: string | null };

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeKvCommand(c: KvCommand): Uint8Array {
  return enc.encode(JSON.stringify(c));
}

export function decodeKvCommand(data: Uint8Array): KvCommand {
  // Entries come from our own log, so a cheap structural check suffices on the hot path.
  const v = JSON.parse(dec.decode(data)) as KvCommand;
  if (v === null || typeof v !== 'object' || typeof v.key !== 'string') {
    throw new Error(`kv: malformed command ${dec.decode(data).slice(0, 100)}`);
  }
  return v;
}
