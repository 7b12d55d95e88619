import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeKvCommand, type KvResult } from '../kv/commands.js';
import { KvStore } from '../kv/kv-store.js';
import { MemoryStorage } from '../memory-storage.js';
import { DiskStorage } from '../storage/disk-storage.js';
import { MemoryNetwork } from '../transport/memory.js';
import { NotLeaderError, RaftNode } from './raft-node.js';

const IDS = ['a', 'b', 'c'];

interface Member {
  id: string;
  node: RaftNode<KvResult>;
  kv: KvStore;
  storage: DiskStorage;
}

/** Polls a condition; never asserts on elapsed time, only gives up after a very generous bound. */
async function until(cond: () => boolean, what: string, giveUpMs = 60_000): Promise<void> {
  const deadline = Date.now() + giveUpMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('raft/node RaftNode (3 members, in-memory network, disk storage)', () => {
  let base: string;
  let net: MemoryNetwork;
  let members: Member[];

  async function startMember(id: string, opts: { snapshotEvery?: number } = {}): Promise<Member> {
    const storage = await DiskStorage.open(path.join(base, id));
    if (storage.isEmpty()) {
      storage.bootstrap({ voters: IDS, learners: [] });
      await storage.sync();
    }
    const transport = net.transport(id);
    for (const p of IDS) if (p !== id) transport.addPeer(p, '');
    const kv = new KvStore();
    const node = new RaftNode<KvResult>({
      id,
      storage,
      transport,
      stateMachine: kv,
      tickMs: 10,
      electionTick: 10,
      snapshotEvery: opts.snapshotEvery ?? 10_000,
      keepEntriesBehindSnapshot: 5,
    });
    node.start();
    return { id, node, kv, storage };
  }

  async function stopMember(m: Member): Promise<void> {
    m.node.stop();
    await net.transport(m.id).close();
    await m.storage.close();
  }

  const leader = () => members.find((m) => m.node.isLeader);
  const put = (m: Member, key: string, value: string) => m.node.propose(encodeKvCommand({ op: 'put', key, value }));

  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'raft-node-'));
    net = new MemoryNetwork();
    members = [];
  });
  afterEach(async () => {
    for (const m of members) await stopMember(m).catch(() => undefined);
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('elects a leader, commits concurrent proposals on every member and serves linearisable reads', async () => {
    members = await Promise.all(IDS.map((id) => startMember(id)));
    await until(() => leader() !== undefined, 'a leader');
    const l = leader()!;
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => put(l, `k${i}`, `v${i}`)));
    assert.equal(results.length, 200);
    assert.ok(results.every((r) => r.op === 'put' && r.revision > 0));
    await l.node.readBarrier();
    assert.equal(l.kv.get('k199'), 'v199');
    const follower = members.find((m) => m !== l)!;
    await assert.rejects(put(follower, 'x', 'y'), NotLeaderError);
    // A follower's read barrier goes through the leader (ReadIndex) and then waits for its own apply.
    await follower.node.readBarrier();
    assert.equal(follower.kv.get('k199'), 'v199');
    await until(() => members.every((m) => m.kv.size === 200), 'all members to apply');
  });

  it('recovers state from disk after every member restarts', async () => {
    members = await Promise.all(IDS.map((id) => startMember(id)));
    await until(() => leader() !== undefined, 'a leader');
    await Promise.all(Array.from({ length: 50 }, (_, i) => put(leader()!, `k${i}`, `v${i}`)));
    for (const m of members) await stopMember(m);
    net = new MemoryNetwork();
    members = await Promise.all(IDS.map((id) => startMember(id)));
    await until(() => leader() !== undefined, 'a leader after restart');
    const l = leader()!;
    await l.node.readBarrier();
    assert.equal(l.kv.size, 50);
    assert.equal(l.kv.get('k49'), 'v49');
  });

  it('a member cut off while the log is compacted catches up through a snapshot', async () => {
    members = await Promise.all(IDS.map((id) => startMember(id, { snapshotEvery: 20 })));
    await until(() => leader() !== undefined, 'a leader');
    const lagging = members.find((m) => !m.node.isLeader)!;
    net.isolate(lagging.id);
    for (let i = 0; i < 120; i += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, k) => put(leader()!, `k${i + k}`, `v${i + k}`)));
    }
    const l = leader()!;
    assert.ok(l.storage.firstIndex() > 2, `leader log should be compacted, first index ${l.storage.firstIndex()}`);
    net.heal();
    await until(() => lagging.kv.size === 120, 'the lagging member to catch up');
    assert.equal(lagging.kv.get('k119'), 'v119');
    assert.ok(lagging.storage.snapshot().meta.index > 0);
  });

  it('a new leader takes over when the leader is isolated; acknowledged writes survive', async () => {
    members = await Promise.all(IDS.map((id) => startMember(id)));
    await until(() => leader() !== undefined, 'a leader');
    const old = leader()!;
    await Promise.all(Array.from({ length: 30 }, (_, i) => put(old, `k${i}`, `v${i}`)));
    net.isolate(old.id);
    await until(() => members.some((m) => m !== old && m.node.isLeader), 'a new leader');
    const nl = members.find((m) => m !== old && m.node.isLeader)!;
    await put(nl, 'after', 'yes');
    await nl.node.readBarrier();
    for (let i = 0; i < 30; i++) assert.equal(nl.kv.get(`k${i}`), `v${i}`);
    net.heal();
    await until(() => old.kv.get('after') === 'yes', 'the old leader to rejoin as follower');
    assert.equal(old.node.isLeader, false);
  });

  it('drives the core over the in-memory MemoryStorage too (no sync barrier)', async () => {
    const nodes = IDS.map((id) => {
      const transport = net.transport(id);
      for (const p of IDS) if (p !== id) transport.addPeer(p, '');
      const kv = new KvStore();
      const node = new RaftNode<KvResult>({
        id,
        storage: new MemoryStorage({ voters: IDS, learners: [] }),
        transport,
        stateMachine: kv,
        tickMs: 10,
      });
      node.start();
      return { node, kv };
    });
    try {
      await until(() => nodes.some((n) => n.node.isLeader), 'a leader');
      const l = nodes.find((n) => n.node.isLeader)!;
      await Promise.all(Array.from({ length: 20 }, (_, i) => l.node.propose(encodeKvCommand({ op: 'put', key: `m${i}`, value: 'x' }))));
      await until(() => nodes.every((n) => n.kv.size === 20), 'all members to apply');
    } finally {
      for (const n of nodes) n.node.stop();
    }
  });
});
