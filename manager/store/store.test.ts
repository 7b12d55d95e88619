import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConflictError, NotFoundError } from '../../lib/errors.js';
import { NotLeaderError, RaftNode } from '../raft/node/raft-node.js';
import { DiskStorage } from '../raft/storage/disk-storage.js';
import { MemoryNetwork } from '../raft/transport/memory.js';
import { MemoryStore } from './memory.js';
import { ReplicatedStore, StoreStateMachine } from './replicated.js';
import type { ApplyResult, Batch, StoredObject } from './types.js';
import { WatchHub } from './watch.js';

const obj = (ID: string, extra: Record<string, unknown> = {}): StoredObject => ({ ID, Version: { Index: 0 }, CreatedAt: '', UpdatedAt: '', ...extra });
const batch = (...actions: Batch['actions']): Batch => ({ actions, at: '2026-12-04T00:00:00.000Z' });

describe('manager/store MemoryStore', () => {
  it('creates with the entry index as version, and refuses a stale update ("out of sequence")', () => {
    const s = new MemoryStore();
    assert.ok(s.apply(batch({ op: 'create', table: 'services', object: obj('s1', { Spec: { Name: 'web' } }) }), 5).result.ok);
    const v5 = s.get('services', 's1')!;
    assert.equal(v5.Version.Index, 5);
    assert.ok(s.apply(batch({ op: 'update', table: 'services', object: { ...v5, Spec: { Name: 'web', Labels: { a: '1' } } } }), 6).result.ok);
    const r = s.apply(batch({ op: 'update', table: 'services', object: { ...v5, Spec: { Name: 'web2' } } }), 7).result;
    assert.ok(!r.ok && r.kind === 'conflict' && /update out of sequence/.test(r.message));
    assert.equal(s.get('services', 's1')!.Spec!.Name, 'web');
  });
  it('applies a batch all or nothing', () => {
    const s = new MemoryStore();
    s.apply(batch({ op: 'create', table: 'networks', object: obj('n1', { Spec: { Name: 'front' } }) }), 1);
    const r = s.apply(
      batch(
        { op: 'create', table: 'services', object: obj('s1', { Spec: { Name: 'web' } }) },
        { op: 'create', table: 'tasks', object: obj('t1', { ServiceID: 's1' }) },
        { op: 'create', table: 'networks', object: obj('n2', { Spec: { Name: 'front' } }) },
      ),
      2,
    ).result;
    assert.ok(!r.ok && /name front is already in use/.test(r.message));
    assert.equal(s.get('services', 's1'), undefined);
    assert.equal(s.get('tasks', 't1'), undefined);
  });
  it('resolves by ID, name, unique prefix; an ambiguous prefix names the count', () => {
    const s = new MemoryStore();
    s.apply(batch({ op: 'create', table: 'services', object: obj('abc1', { Spec: { Name: 'web' } }) }, { op: 'create', table: 'services', object: obj('abd2', { Spec: { Name: 'db' } }) }), 1);
    assert.equal(s.resolve('services', 'web', 'service').ID, 'abc1');
    assert.equal(s.resolve('services', 'abd', 'service').ID, 'abd2');
    assert.throws(() => s.resolve('services', 'ab', 'service'), (e: unknown) => e instanceof ConflictError && /ambiguous \(2 matches/.test(e.message));
    assert.throws(() => s.resolve('services', 'zz', 'service'), NotFoundError);
  });
  it('indexes tasks by service and node', () => {
    const s = new MemoryStore();
    s.apply(batch(...['a', 'b', 'c'].map((n, i) => ({ op: 'create' as const, table: 'tasks' as const, object: obj(`t${n}`, { ServiceID: i < 2 ? 's1' : 's2', NodeID: i === 0 ? 'n1' : 'n2' }) }))), 1);
    assert.deepEqual(s.tasksOf({ serviceId: 's1' }).map((t) => t.ID).sort(), ['ta', 'tb']);
    assert.deepEqual(s.tasksOf({ serviceId: 's1', nodeId: 'n2' }).map((t) => t.ID), ['tb']);
  });
  it('snapshots deterministically and restores the same state', () => {
    const a = new MemoryStore();
    const b = new MemoryStore();
    a.apply(batch({ op: 'create', table: 'nodes', object: obj('n2') }, { op: 'create', table: 'nodes', object: obj('n1') }), 3);
    b.apply(batch({ op: 'create', table: 'nodes', object: obj('n1') }, { op: 'create', table: 'nodes', object: obj('n2') }), 3);
    assert.deepEqual(Buffer.from(a.snapshot()), Buffer.from(b.snapshot()));
    const c = new MemoryStore();
    c.restore(a.snapshot());
    assert.equal(c.index, 3);
    assert.deepEqual(c.list('nodes').map((n) => n.ID).sort(), ['n1', 'n2']);
  });
});

describe('manager/store watches', () => {
  it('delivers events in order, filtered, and resumes from an index in the history', async () => {
    const hub = new WatchHub(100, 100);
    const w = hub.watch({ tables: ['tasks'] });
    hub.publish([
      { kind: 'create', table: 'services', object: obj('s'), index: 1 },
      { kind: 'create', table: 'tasks', object: obj('t1'), index: 2 },
      { kind: 'update', table: 'tasks', object: obj('t1'), index: 3 },
    ]);
    assert.deepEqual([(await w.next())!.index, (await w.next())!.index], [2, 3]);
    const late = hub.watch({}, 1);
    assert.deepEqual([(await late.next())!.index, (await late.next())!.index], [2, 3]);
  });
  it('closes a watcher that falls behind instead of growing, and one that asks for forgotten history', async () => {
    const hub = new WatchHub(5, 3);
    const w = hub.watch();
    hub.publish(Array.from({ length: 10 }, (_, i) => ({ kind: 'create' as const, table: 'nodes' as const, object: obj(`n${i}`), index: i + 1 })));
    assert.match(w.closedReason ?? '', /fell more than 3 events behind/);
    const old = hub.watch({}, 1);
    assert.match(old.closedReason ?? '', /older than the store's change history/);
    assert.equal(await old.next(), undefined);
  });
});

describe('manager/store replicated over raft (3 members, disk storage)', function () {
  this.timeout(60_000);
  const IDS = ['a', 'b', 'c'];
  let base: string;
  let net: MemoryNetwork;
  const members = new Map<string, { node: RaftNode<ApplyResult>; sm: StoreStateMachine; store: ReplicatedStore }>();

  async function start(id: string): Promise<void> {
    const storage = await DiskStorage.open(path.join(base, id));
    if (storage.isEmpty()) {
      storage.bootstrap({ voters: IDS, learners: [] });
      await storage.sync();
    }
    const transport = net.transport(id);
    for (const p of IDS) if (p !== id) transport.addPeer(p, '');
    const sm = new StoreStateMachine();
    // A generous election timeout: on a loaded 2-core machine a 100 ms one makes leadership churn.
    const node = new RaftNode<ApplyResult>({ id, storage, transport, stateMachine: sm, tickMs: 10, electionTick: 50, snapshotEvery: 20, keepEntriesBehindSnapshot: 2 });
    node.start();
    members.set(id, { node, sm, store: new ReplicatedStore(node, sm) });
  }
  async function stop(id: string): Promise<void> {
    members.get(id)!.node.stop();
    await net.transport(id).close();
    members.delete(id);
  }
  async function until<T>(f: () => T | undefined, what: string): Promise<T> {
    for (let i = 0; i < 3000; i++) {
      const v = f();
      if (v !== undefined && v !== false) return v;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`gave up waiting for ${what}`);
  }
  const leader = () => until(() => [...members.entries()].find(([, m]) => m.node.status().role === 'leader'), 'a leader');
  /** A write through whoever leads, retried (bounded) when leadership moves under it. */
  const write = async (fn: Parameters<ReplicatedStore['update']>[0]) => {
    for (let i = 0; ; i++) {
      const [, l] = await leader();
      try {
        return await l.store.update(fn);
      } catch (e) {
        if (!(e instanceof NotLeaderError) || i >= 50) throw e;
      }
    }
  };

  before(async () => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'tsswarm-store-'));
    net = new MemoryNetwork();
    for (const id of IDS) await start(id);
  });
  after(async () => {
    for (const id of [...members.keys()]) await stop(id);
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('a write through the leader appears in every member’s tables; a follower refuses with the leader named', async () => {
    const [created] = await write((tx) => tx.create('services', { ID: 'svc1', Spec: { Name: 'web' } }));
    const [lid] = await leader();
    assert.ok(created!.Version.Index > 0);
    for (const m of members.values()) await until(() => m.sm.state.get('services', 'svc1'), 'replication');
    const follower = [...members.entries()].find(([id]) => id !== lid)![1];
    await assert.rejects(follower.store.update((tx) => tx.create('services', { ID: 'svc2' })), (e: unknown) => e instanceof NotLeaderError && e.message.includes(lid));
  });

  it('a conflicting transaction is refused with the domain error and changes nothing anywhere', async () => {
    const [, l0] = await leader();
    const stale = l0.store.view.get('services', 'svc1')!;
    await write((tx) => tx.update('services', { ...stale, Spec: { Name: 'web', Labels: { v: '2' } } }));
    await assert.rejects(write((tx) => tx.update('services', { ...stale, Spec: { Name: 'other' } })), /update out of sequence/);
    const [, l] = await leader();
    await until(() => l.store.view.get('services', 'svc1')?.Spec?.Labels?.v === '2' || undefined, 'the label applied');
    assert.equal(l.store.view.get('services', 'svc1')!.Spec!.Name, 'web');
  });

  it('a restarted member catches up from snapshot and log to the same state', async () => {
    const [lid, l] = await leader();
    const victim = IDS.find((id) => id !== lid)!;
    await stop(victim);
    for (let i = 0; i < 30; i++) await write((tx) => tx.create('tasks', { ID: `task${i}`, ServiceID: 'svc1' }));
    await start(victim);
    const m = members.get(victim)!;
    await until(() => m.sm.state.list('tasks').length === 30 || undefined, 'catch-up');
    assert.deepEqual(Buffer.from(m.sm.state.snapshot()).toString().length > 0, true);
    await until(() => m.sm.state.index === l.sm.state.index || undefined, 'same index');
    assert.deepEqual(Buffer.from(m.sm.state.snapshot()), Buffer.from(l.sm.state.snapshot()));
  });
});
