// The store's vocabulary: tables of versioned objects after Docker Engine's swarm objects, and the
// actions a transaction is made of. Actions travel in raft entries, so they are parsed with zod on
// apply: a malformed entry is refused whole, never half-applied.
import { z } from 'zod';

export const TABLES = ['cluster', 'nodes', 'services', 'tasks', 'networks', 'secrets', 'configs'] as const;
export type Table = (typeof TABLES)[number];

/** Tables whose objects have a unique Spec.Name (Docker refuses a second service/network/… of a name). */
export const UNIQUE_NAME: ReadonlySet<Table> = new Set(['services', 'networks', 'secrets', 'configs', 'cluster']);

export interface Version {
  /** The raft index of the entry that last changed the object (as SwarmKit). */
  Index: number;
}

/** Every stored object. The rest of its fields (Spec, Status, …) follow Docker's shapes per table. */
export interface StoredObject {
  ID: string;
  Version: Version;
  CreatedAt: string;
  UpdatedAt: string;
  Spec?: { Name?: string; Labels?: Record<string, string> | null } & Record<string, unknown>;
  /** Tasks: their service and node. */
  ServiceID?: string;
  NodeID?: string;
  DesiredState?: string;
  [key: string]: unknown;
}

const ObjectSchema = z
  .object({
    ID: z.string().min(1),
    Version: z.object({ Index: z.number().int().nonnegative() }),
    CreatedAt: z.string(),
    UpdatedAt: z.string(),
  })
  .passthrough();

const TableSchema = z.enum(TABLES);

export const ActionSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('create'), table: TableSchema, object: ObjectSchema }),
  /** `object.Version.Index` must be the stored one: otherwise "update out of sequence". */
  z.object({ op: z.literal('update'), table: TableSchema, object: ObjectSchema }),
  z.object({ op: z.literal('delete'), table: TableSchema, id: z.string().min(1) }),
]);
export type Action = z.infer<typeof ActionSchema>;

export const BatchSchema = z.object({ actions: z.array(ActionSchema).min(1), at: z.string() });
export type Batch = z.infer<typeof BatchSchema>;

export interface StoreEvent {
  kind: 'create' | 'update' | 'delete';
  table: Table;
  object: StoredObject;
  /** The raft index of the entry that made the change. */
  index: number;
}

export type ApplyResult = { ok: true; index: number; objects: StoredObject[] } | { ok: false; kind: 'conflict' | 'not-found' | 'invalid'; message: string };
