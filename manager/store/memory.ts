// The store's state, in memory: tables of objects plus indexes, changed only by `apply` of a batch
// (one committed raft entry). Deterministic: the same batches give the same state on every manager,
// and a batch with any failing action changes nothing.
import { ConflictError, InvalidArgumentError, NotFoundError } from '../../lib/errors.js';
import { TABLES, UNIQUE_NAME, type ApplyResult, type Batch, type StoreEvent, type StoredObject, type Table } from './types.js';

type Tables = Record<Table, Map<string, StoredObject>>;

const emptyTables = (): Tables => Object.fromEntries(TABLES.map((t) => [t, new Map()])) as Tables;

export class MemoryStore {
  private tables = emptyTables();
  /** The last applied raft index. */
  index = 0;

  get(table: Table, id: string): StoredObject | undefined {
    return this.tables[table].get(id);
  }

  list(table: Table, filter?: (o: StoredObject) => boolean): StoredObject[] {
    const all = [...this.tables[table].values()];
    return filter ? all.filter(filter) : all;
  }

  byName(table: Table, name: string): StoredObject | undefined {
    for (const o of this.tables[table].values()) if (o.Spec?.Name === name) return o;
    return undefined;
  }

  tasksOf(by: { serviceId?: string; nodeId?: string }): StoredObject[] {
    return this.list('tasks', (t) => (by.serviceId === undefined || t.ServiceID === by.serviceId) && (by.nodeId === undefined || t.NodeID === by.nodeId));
  }

  /**
   * Docker's lookup order for a reference: exact ID, exact name, then a unique ID prefix. An
   * ambiguous prefix is an error naming the matches.
   */
  resolve(table: Table, ref: string, what: string): StoredObject {
    const exact = this.tables[table].get(ref);
    if (exact) return exact;
    const named = this.list(table, (o) => o.Spec?.Name === ref || (table === 'nodes' && (o as { Description?: { Hostname?: string } }).Description?.Hostname === ref));
    if (named.length === 1) return named[0]!;
    if (named.length > 1) throw new ConflictError(`${what} ${ref} is ambiguous (${named.length} matches found)`);
    const prefixed = this.list(table, (o) => o.ID.startsWith(ref));
    if (prefixed.length === 1) return prefixed[0]!;
    if (prefixed.length > 1) throw new ConflictError(`${what} ${ref} is ambiguous (${prefixed.length} matches found)`);
    throw new NotFoundError(`${what} ${ref} not found`);
  }

  /**
   * Applies one committed batch at raft `index`. All actions are checked against the state as the
   * batch goes (a create then an update of the same object works); on the first failure nothing of the
   * batch stays. Returns the result and the events to publish.
   */
  apply(batch: Batch, index: number): { result: ApplyResult; events: StoreEvent[] } {
    const staged = new Map<Table, Map<string, StoredObject | null>>();
    const cur = (t: Table, id: string): StoredObject | undefined => {
      const s = staged.get(t)?.get(id);
      return s === null ? undefined : (s ?? this.tables[t].get(id));
    };
    const stage = (t: Table, id: string, o: StoredObject | null) => {
      if (!staged.has(t)) staged.set(t, new Map());
      staged.get(t)!.set(id, o);
    };
    const nameTaken = (t: Table, name: string, exceptId: string): boolean => {
      for (const [id, o] of staged.get(t) ?? []) if (o && id !== exceptId && o.Spec?.Name === name) return true;
      for (const o of this.tables[t].values()) {
        if (o.ID === exceptId || o.Spec?.Name !== name) continue;
        if (staged.get(t)?.has(o.ID)) continue; // re-staged: judged above
        return true;
      }
      return false;
    };
    const events: StoreEvent[] = [];
    const objects: StoredObject[] = [];
    try {
      for (const a of batch.actions) {
        if (a.op === 'delete') {
          const old = cur(a.table, a.id);
          if (!old) throw new NotFoundError(`${a.table}: ${a.id} not found`);
          stage(a.table, a.id, null);
          events.push({ kind: 'delete', table: a.table, object: old, index });
          continue;
        }
        const obj = a.object as StoredObject;
        const old = cur(a.table, obj.ID);
        if (a.op === 'create' && old) throw new ConflictError(`${a.table}: ${obj.ID} already exists`);
        if (a.op === 'update') {
          if (!old) throw new NotFoundError(`${a.table}: ${obj.ID} not found`);
          // Objects staged earlier in this batch carry this index already.
          if (obj.Version.Index !== old.Version.Index) {
            throw new ConflictError(`update out of sequence: ${a.table} ${obj.ID} is at version ${old.Version.Index}, the update was made from version ${obj.Version.Index}`);
          }
        }
        const name = obj.Spec?.Name;
        if (UNIQUE_NAME.has(a.table) && name && nameTaken(a.table, name, obj.ID)) {
          throw new ConflictError(`${a.table}: name ${name} is already in use`);
        }
        const next: StoredObject = {
          ...obj,
          Version: { Index: index },
          CreatedAt: a.op === 'create' ? batch.at : old!.CreatedAt,
          UpdatedAt: batch.at,
        };
        stage(a.table, obj.ID, next);
        objects.push(next);
        events.push({ kind: a.op, table: a.table, object: next, index });
      }
    } catch (e) {
      const kind = e instanceof ConflictError ? 'conflict' : e instanceof NotFoundError ? 'not-found' : 'invalid';
      this.index = index;
      return { result: { ok: false, kind, message: (e as Error).message }, events: [] };
    }
    for (const [t, m] of staged) {
      for (const [id, o] of m) {
        if (o === null) this.tables[t].delete(id);
        else this.tables[t].set(id, o);
      }
    }
    this.index = index;
    return { result: { ok: true, index, objects }, events };
  }

  /** Same state → same bytes: tables and objects in sorted order. */
  snapshot(): Uint8Array {
    const tables = Object.fromEntries(TABLES.map((t) => [t, [...this.tables[t].values()].sort((a, b) => (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0))]));
    return Buffer.from(JSON.stringify({ v: 1, index: this.index, tables }));
  }

  restore(data: Uint8Array): void {
    if (data.length === 0) {
      // Raft restores "no snapshot yet" as empty data: an empty store.
      this.tables = emptyTables();
      this.index = 0;
      return;
    }
    let parsed: { v: number; index: number; tables: Record<string, StoredObject[]> };
    try {
      parsed = JSON.parse(Buffer.from(data).toString('utf8')) as typeof parsed;
    } catch (e) {
      throw new InvalidArgumentError(`store snapshot is not valid JSON: ${(e as Error).message}`);
    }
    if (parsed.v !== 1) throw new InvalidArgumentError(`store snapshot version ${parsed.v} is not supported (want 1)`);
    const tables = emptyTables();
    for (const t of TABLES) for (const o of parsed.tables[t] ?? []) tables[t].set(o.ID, o);
    this.tables = tables;
    this.index = parsed.index;
  }
}
