// The replicated store: MemoryStore as raft's state machine, transactions proposed through the
// leader, reads from the local applied state, watches on applied events. Only committed raft entries
// change it, so every manager holds the same tables.
import { ConflictError, InvalidArgumentError, NotFoundError, UnavailableError } from '../../lib/errors.js';
import type { StateMachine } from '../raft/node/state-machine.js';
import { NotLeaderError, type RaftNode } from '../raft/node/raft-node.js';
import { MemoryStore } from './memory.js';
import { BatchSchema, type Action, type ApplyResult, type StoredObject, type Table } from './types.js';
import { WatchHub, type Watch, type WatchFilter } from './watch.js';

export class StoreStateMachine implements StateMachine<ApplyResult> {
  readonly state = new MemoryStore();
  readonly hub = new WatchHub();

  apply(data: Uint8Array, entry: { index: number }): ApplyResult {
    let batch;
    try {
      batch = BatchSchema.parse(JSON.parse(Buffer.from(data).toString('utf8')));
    } catch (e) {
      // Deterministic on every member: the same bytes are refused everywhere.
      this.state.index = entry.index;
      return { ok: false, kind: 'invalid', message: `malformed store entry at index ${entry.index}: ${(e as Error).message}` };
    }
    const { result, events } = this.state.apply(batch, entry.index);
    this.hub.publish(events);
    return result;
  }

  snapshot(): Uint8Array {
    return this.state.snapshot();
  }

  restore(data: Uint8Array): void {
    this.state.restore(data);
    this.hub.closeAll('the store was restored from a snapshot; resynchronise');
  }
}

/** Collects a transaction's actions; reads see the applied state (not the transaction's own writes). */
export class Tx {
  readonly actions: Action[] = [];
  constructor(private readonly state: MemoryStore) {}

  get(table: Table, id: string): StoredObject | undefined {
    return this.state.get(table, id);
  }
  list(table: Table, filter?: (o: StoredObject) => boolean): StoredObject[] {
    return this.state.list(table, filter);
  }
  create(table: Table, object: { ID: string } & Record<string, unknown>): void {
    this.actions.push({ op: 'create', table, object: { ...object, Version: { Index: 0 }, CreatedAt: '', UpdatedAt: '' } });
  }
  /** `object` as read (its Version is checked at apply). */
  update(table: Table, object: StoredObject): void {
    this.actions.push({ op: 'update', table, object });
  }
  delete(table: Table, id: string): void {
    this.actions.push({ op: 'delete', table, id });
  }
}

export class ReplicatedStore {
  constructor(
    private readonly raft: Pick<RaftNode<ApplyResult>, 'propose' | 'readBarrier'>,
    readonly sm: StoreStateMachine,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Local applied state, for reads that may be slightly stale (followers). */
  get view(): MemoryStore {
    return this.sm.state;
  }

  /** A read that sees every write committed before it (ReadIndex through the leader). */
  async linearizableView(): Promise<MemoryStore> {
    await this.raft.readBarrier();
    return this.sm.state;
  }

  /**
   * Runs `fn` to collect actions, proposes them as one entry, and resolves once applied here. Throws
   * the domain error of a refused batch (conflict, not found), or NotLeaderError naming the leader.
   */
  async update(fn: (tx: Tx) => void): Promise<StoredObject[]> {
    const tx = new Tx(this.sm.state);
    fn(tx);
    if (tx.actions.length === 0) return [];
    const payload = Buffer.from(JSON.stringify({ actions: tx.actions, at: this.now().toISOString() }));
    let r: ApplyResult;
    try {
      r = await this.raft.propose(payload);
    } catch (e) {
      if (e instanceof NotLeaderError) throw e;
      throw new UnavailableError(`the swarm store could not commit the change: ${(e as Error).message}`, { cause: e });
    }
    if (r.ok) return r.objects;
    if (r.kind === 'conflict') throw new ConflictError(r.message);
    if (r.kind === 'not-found') throw new NotFoundError(r.message);
    throw new InvalidArgumentError(r.message);
  }

  watch(filter?: WatchFilter, from?: number): Watch {
    return this.sm.hub.watch(filter, from);
  }
}
