// Three KV servers as separate OS processes on loopback; clients write while the leader is
// SIGKILLed. Every acknowledged write must survive and a new leader must serve; how long that took is
// reported, not asserted (a wall-clock bound fails on a loaded machine without anything being wrong).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KvClient, KvClientError } from '../manager/raft/kv/kv-client.js';
import { KvCluster } from '../manager/raft/node/kv-cluster.js';

/** Probes of 60 s each before the test gives up on a new leader: a liveness bound, so a cluster that never elects fails instead of hanging. */
const FAILOVER_PROBES = 3;

describe('e2e raft: SIGKILL the leader of a 3-process cluster under write load', function () {
  this.timeout(180_000);
  let cluster: KvCluster | undefined;
  const clients: KvClient[] = [];
  const logFile = path.join(os.tmpdir(), `raft-failover-${process.pid}.log`);

  after(async () => {
    for (const c of clients) c.close();
    await cluster?.stop();
    if (this.ctx.currentTest?.state !== 'failed') fs.rmSync(logFile, { force: true });
  });

  it('loses no acknowledged write and elects a serving leader (failover time reported)', async () => {
    cluster = await KvCluster.start({ size: 3, tickMs: 50, electionTick: 10, snapshotEvery: 500, logFile });
    const c = cluster;
    const leader = await c.waitForLeader();

    const acked = new Map<string, string>();
    let ambiguous = 0;
    let stop = false;
    const WRITERS = 8;
    const writer = async (w: number) => {
      const client = new KvClient({ servers: c.clientAddresses, retryForMs: 30_000 });
      clients.push(client);
      for (let n = 0; !stop; n++) {
        const key = `w${w}-${n}`;
        const value = `${w}:${n}:${'x'.repeat(n % 50)}`;
        try {
          await client.put(key, value);
          acked.set(key, value);
        } catch (err) {
          if (!(err instanceof KvClientError)) throw err;
          ambiguous++;
        }
      }
    };
    const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));

    while (acked.size < 400) await new Promise((r) => setTimeout(r, 10));
    const ackedBeforeKill = acked.size;
    const killedAt = Date.now();
    await c.kill(leader.id, 'SIGKILL');

    // The first write accepted after the kill marks the moment a new leader serves.
    const probe = new KvClient({ servers: c.clientAddresses.filter((a) => a !== leader.client), retryForMs: 60_000 });
    clients.push(probe);
    let failoverMs = -1;
    for (let i = 0; failoverMs < 0 && i < FAILOVER_PROBES; i++) {
      try {
        await probe.put(`probe-${i}`, 'p');
        failoverMs = Date.now() - killedAt;
      } catch (err) {
        if (!(err instanceof KvClientError)) throw err;
      }
    }
    assert.ok(failoverMs >= 0, `no surviving server accepted a write in ${FAILOVER_PROBES} probes of 60 s after the leader was killed`);
    const newLeader = await c.waitForLeader(leader.id);
    assert.notEqual(newLeader.id, leader.id);

    while (acked.size < ackedBeforeKill + 400) await new Promise((r) => setTimeout(r, 10));
    stop = true;
    await Promise.all(writers);

    // Linearisable reads through the new leader: every acknowledged write is there.
    const reader = new KvClient({ servers: [newLeader.client] });
    clients.push(reader);
    const missing: string[] = [];
    const keys = [...acked.keys()];
    for (let i = 0; i < keys.length; i += 200) {
      const vals = await Promise.all(keys.slice(i, i + 200).map((k) => reader.get(k)));
      vals.forEach((v, j) => {
        const k = keys[i + j]!;
        if (v !== acked.get(k)) missing.push(`${k}: want ${acked.get(k)}, got ${v}`);
      });
    }
    process.stdout.write(
      `      acked=${acked.size} (before kill ${ackedBeforeKill}) ambiguous=${ambiguous} failover=${failoverMs}ms killed=${leader.id} new=${newLeader.id}\n`,
    );
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} acknowledged writes lost`);

    // The killed member recovers its WAL after SIGKILL and catches up.
    await c.restart(leader.id);
    const restarted = c.servers.find((s) => s.id === leader.id)!;
    const target = (await c.status(newLeader))!.commit;
    for (;;) {
      const st = await c.status(restarted);
      if (st && st.applied >= target) break;
      await new Promise((r) => setTimeout(r, 20));
    }
  });
});
