// The raft benchmark's anchor: a three-member etcd cluster on loopback (Debian's etcd-server), in a
// temporary data dir, removed when stopped. etcd fsyncs its WAL before acknowledging, as ours does.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';

export interface EtcdCluster {
  /** A client connection to the leader (proposals then skip a follower's forwarding hop, as ours do). */
  connect(): { put(key: string, value: string): Promise<unknown>; close(): void };
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function startEtcd(size: number, binary = process.env.ETCD_BIN ?? 'etcd'): Promise<EtcdCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tsswarm-bench-etcd-'));
  const members: { name: string; client: string; peer: string }[] = [];
  for (let i = 1; i <= size; i++) {
    members.push({ name: `m${i}`, client: `http://127.0.0.1:${await freePort()}`, peer: `http://127.0.0.1:${await freePort()}` });
  }
  const initial = members.map((m) => `${m.name}=${m.peer}`).join(',');
  const procs: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            p.once('exit', () => resolve());
            p.kill('SIGTERM');
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const m of members) {
      const p = spawn(
        binary,
        [
          '--name', m.name,
          '--data-dir', join(dir, m.name),
          '--listen-client-urls', m.client,
          '--advertise-client-urls', m.client,
          '--listen-peer-urls', m.peer,
          '--initial-advertise-peer-urls', m.peer,
          '--initial-cluster', initial,
          '--initial-cluster-state', 'new',
          '--initial-cluster-token', `tsswarm-bench-${process.pid}`,
          '--logger', 'zap',
          '--log-level', 'error',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let log = '';
      p.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-2000)));
      const failed = new Promise<never>((_, reject) => {
        p.once('error', (err) => reject(new Error(`cannot start ${binary}: ${err.message} (install Debian's etcd-server)`)));
        p.once('exit', (code) => reject(new Error(`etcd member ${m.name} exited with ${code}: ${log}`)));
      });
      failed.catch(() => undefined);
      procs.push(p);
      (p as ChildProcess & { failed?: Promise<never> }).failed = failed;
    }
    // The leader: the member whose own ID is the leader its status reports. Bounded by count.
    let leaderUrl: string | undefined;
    for (let i = 0; i < 200 && !leaderUrl; i++) {
      for (const m of members) {
        const c = new Etcd3({ hosts: m.client, dialTimeout: 1000 });
        try {
          const st = await c.maintenance.status();
          if (st.leader !== '0' && st.leader === st.header.member_id) leaderUrl = m.client;
        } catch {
          // not up yet
        } finally {
          c.close();
        }
        if (leaderUrl) break;
      }
      if (!leaderUrl) await new Promise((r) => setTimeout(r, 100));
    }
    if (!leaderUrl) throw new Error('etcd elected no leader within 20 s');
    const url = leaderUrl;
    return {
      connect() {
        const c = new Etcd3({ hosts: url });
        return { put: (k, v) => c.put(k).value(v).exec(), close: () => c.close() };
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
