// Starts KV servers (kv-server.ts) as separate OS processes on loopback and wires them together
// through the stdin handshake. Shared by the multi-process e2e test and the benchmark.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { KvClient } from '../kv/kv-client.js';
import type { KvStatus } from '../kv/protocol.js';

const SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'kv-server.ts');

export interface KvServerProcess {
  id: string;
  dir: string;
  raft: string;
  client: string;
  proc: ChildProcess;
  exited: Promise<number | null>;
}

export interface KvClusterOptions {
  size?: number;
  tickMs?: number;
  electionTick?: number;
  snapshotEvery?: number;
  /** Where server stderr (JSON logs) goes: a file path, or 'ignore'. */
  logFile?: string | 'ignore';
  quiet?: boolean;
}

export class KvCluster {
  readonly servers: KvServerProcess[] = [];
  readonly baseDir: string;
  private logFd: number | 'ignore';

  private constructor(private readonly opts: KvClusterOptions) {
    this.baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsswarm-raft-'));
    this.logFd = opts.logFile && opts.logFile !== 'ignore' ? fs.openSync(opts.logFile, 'a') : 'ignore';
  }

  static async start(opts: KvClusterOptions = {}): Promise<KvCluster> {
    const c = new KvCluster(opts);
    try {
      const n = opts.size ?? 3;
      const started = await Promise.all(Array.from({ length: n }, (_, i) => c.spawnServer(`n${i + 1}`)));
      const peers = started.map(({ id, raft, client }) => ({ id, raft, client }));
      for (const s of started) s.proc.stdin!.end(`${JSON.stringify({ peers })}\n`);
      c.servers.push(...started);
      return c;
    } catch (err) {
      await c.stop();
      throw err;
    }
  }

  private spawnServer(id: string, ports?: { raft: string; client: string }): Promise<KvServerProcess> {
    const dir = path.join(this.baseDir, id);
    // RAFT_SERVER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") is for profiling the servers.
    const nodeArgs = (process.env.RAFT_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const args = [...nodeArgs, '--import', 'tsx', SERVER, '--id', id, '--dir', dir];
    args.push('--tick-ms', String(this.opts.tickMs ?? 50), '--election-tick', String(this.opts.electionTick ?? 10));
    args.push('--snapshot-every', String(this.opts.snapshotEvery ?? 10000));
    if (ports) args.push('--raft-port', ports.raft.split(':')[1]!, '--client-port', ports.client.split(':')[1]!);
    if (this.opts.quiet) args.push('--quiet');
    const proc = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', this.logFd] });
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    return new Promise((resolve, reject) => {
      const rl = readline.createInterface({ input: proc.stdout! });
      const onExit = (code: number | null) => reject(new Error(`kv-server ${id} exited with ${code} before listening`));
      proc.once('exit', onExit);
      rl.once('line', (line) => {
        proc.off('exit', onExit);
        const m = JSON.parse(line) as { raft: string; client: string };
        resolve({ id, dir, raft: m.raft, client: m.client, proc, exited });
      });
    });
  }

  /** Restarts a stopped member on its old ports and data directory. */
  async restart(id: string): Promise<KvServerProcess> {
    const i = this.servers.findIndex((s) => s.id === id);
    const old = this.servers[i]!;
    const s = await this.spawnServer(id, { raft: old.raft, client: old.client });
    const peers = this.servers.map(({ id: pid, raft, client }) => ({ id: pid, raft, client }));
    s.proc.stdin!.end(`${JSON.stringify({ peers })}\n`);
    this.servers[i] = s;
    return s;
  }

  get clientAddresses(): string[] {
    return this.servers.map((s) => s.client);
  }

  async status(s: KvServerProcess): Promise<KvStatus | undefined> {
    const c = new KvClient({ servers: [s.client] });
    try {
      return await Promise.race([
        c.status(),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 500)),
      ]);
    } catch {
      return undefined;
    } finally {
      c.close();
    }
  }

  /** Polls until a live member other than `exclude` reports itself leader. */
  async waitForLeader(exclude?: string, giveUpMs = 60_000): Promise<KvServerProcess> {
    const deadline = Date.now() + giveUpMs;
    while (Date.now() < deadline) {
      if (this.servers.every((s) => s.proc.exitCode !== null || s.proc.signalCode !== null)) {
        throw new Error('kv cluster: every member has exited');
      }
      for (const s of this.servers) {
        if (s.id === exclude || s.proc.exitCode !== null || s.proc.signalCode !== null) continue;
        const st = await this.status(s);
        if (st?.role === 'leader') return s;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`kv cluster: no leader after ${giveUpMs} ms (excluding ${exclude ?? 'none'})`);
  }

  kill(id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const s = this.servers.find((x) => x.id === id)!;
    s.proc.kill(signal);
    return s.exited;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.servers.map(async (s) => {
        if (s.proc.exitCode === null && s.proc.signalCode === null) {
          // Graceful first (flushes logs/profiles), then no mercy.
          s.proc.kill('SIGTERM');
          const timer = setTimeout(() => s.proc.kill('SIGKILL'), 2000);
          await s.exited;
          clearTimeout(timer);
        }
      }),
    );
    if (this.logFd !== 'ignore') fs.closeSync(this.logFd);
    this.logFd = 'ignore';
    fs.rmSync(this.baseDir, { recursive: true, force: true });
  }
}
