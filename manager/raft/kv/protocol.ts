// Client protocol of the KV server: length-prefixed frames (see transport/framing.ts) carrying JSON
// objects. Requests are pipelined on one connection and matched to responses by id.
import { z } from 'zod';
import type { KvResult } from './commands.js';

export const KvRequestSchema = z.discriminatedUnion('op', [
  z.object({ id: z.number(), op: z.literal('put'), key: z.string(), value: z.string() }),
  z.object({ id: z.number(), op: z.literal('del'), key: z.string() }),
  z.object({ id: z.number(), op: z.literal('cas'), key: z.string(), expect: z.string().nullable(), value: z.string() }),
  /** Linearisable read (ReadIndex on the leader). */
  z.object({ id: z.number(), op: z.literal('get'), key: z.string() }),
  z.object({ id: z.number(), op: z.literal('status') }),
]);
export type KvRequest = z.infer<typeof KvRequestSchema>;

export interface KvStatus {
  id: string;
  leader: string;
  term: number;
  role: string;
  applied: number;
  commit: number;
}

/** not_leader: nothing was proposed, retry elsewhere. ambiguous: the write may or may not happen. */
export type KvErrorCode = 'not_leader' | 'ambiguous' | 'bad_request' | 'error';

export type KvResponse =
  | { id: number; ok: true; result?: KvResult; value?: string | null; status?: KvStatus }
  | { id: number; ok: false; code: KvErrorCode; message: string; leader?: string };
