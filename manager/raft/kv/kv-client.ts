// Client of the KV servers: one pipelined connection to the current leader, following not_leader
// redirects and failing over to other servers when a connection breaks. Writes whose outcome is
// unknown (connection lost after sending, leadership lost, timeout) are reported, never retried,
// so that callers can reason about exactly which writes were acknowledged.
import net from 'node:net';
import { encodeFrame, FrameDecoder } from '../transport/framing.js';
import type { KvResult } from './commands.js';
import type { KvErrorCode, KvRequest, KvResponse, KvStatus } from './protocol.js';

export class KvClientError extends Error {
  constructor(
    readonly code: KvErrorCode | 'unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'KvClientError';
  }
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
type Req = DistributiveOmit<KvRequest, 'id'>;

interface Inflight {
  req: Req;
  sock: net.Socket;
  resolve: (r: KvResponse & { ok: true }) => void;
  reject: (e: Error) => void;
}

export interface KvClientOptions {
  /** Client addresses (host:port) of all servers. */
  servers: string[];
  /** Give up on definite failures (no leader, unreachable) after this long. */
  retryForMs?: number;
}

export class KvClient {
  private socket: net.Socket | undefined;
  private connecting: Promise<net.Socket> | undefined;
  private target: string;
  private nextId = 1;
  private readonly inflight = new Map<number, Inflight>();
  private closed = false;
  private rr = 0;

  constructor(private readonly opts: KvClientOptions) {
    if (opts.servers.length === 0) throw new Error('kv client: no servers');
    this.target = opts.servers[0]!;
  }

  get server(): string {
    return this.target;
  }

  private connect(): Promise<net.Socket> {
    if (this.socket) return Promise.resolve(this.socket);
    if (this.connecting) return this.connecting;
    const addr = this.target;
    const i = addr.lastIndexOf(':');
    this.connecting = new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: addr.slice(0, i), port: Number(addr.slice(i + 1)) });
      s.setNoDelay(true);
      const decoder = new FrameDecoder(64 * 1024 * 1024);
      s.once('connect', () => {
        this.connecting = undefined;
        this.socket = s;
        resolve(s);
      });
      s.on('data', (chunk: Buffer) => decoder.push(chunk, (p) => this.onResponse(JSON.parse(p.toString('utf8')) as KvResponse)));
      s.on('error', (err) => {
        if (this.connecting && this.socket !== s) {
          this.connecting = undefined;
          reject(new KvClientError('unavailable', `kv client: connect to ${addr}: ${err.message}`));
        }
      });
      s.on('close', () => {
        if (this.socket === s) this.socket = undefined;
        // Requests on the wire may or may not have been applied.
        for (const [id, f] of this.inflight) {
          if (f.sock !== s) continue;
          this.inflight.delete(id);
          f.reject(new KvClientError('ambiguous', `kv client: connection to ${addr} lost with the request in flight`));
        }
      });
    });
    return this.connecting;
  }

  private onResponse(r: KvResponse): void {
    const f = this.inflight.get(r.id);
    if (!f) return;
    this.inflight.delete(r.id);
    if (r.ok) f.resolve(r);
    else {
      const e = new KvClientError(r.code, r.message) as KvClientError & { leader?: string };
      if (r.leader) e.leader = r.leader;
      f.reject(e);
    }
  }

  private async once(req: Req): Promise<KvResponse & { ok: true }> {
    const s = await this.connect();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.inflight.set(id, { req, sock: s, resolve, reject });
      s.write(encodeFrame(Buffer.from(JSON.stringify({ ...req, id }))));
    });
  }

  /** Sends a request, following redirects and retrying while nothing can have been applied. */
  async request(req: Req): Promise<KvResponse & { ok: true }> {
    const deadline = Date.now() + (this.opts.retryForMs ?? 10_000);
    let delay = 10;
    for (;;) {
      if (this.closed) throw new KvClientError('unavailable', 'kv client: closed');
      try {
        return await this.once(req);
      } catch (err) {
        if (!(err instanceof KvClientError) || (err.code !== 'not_leader' && err.code !== 'unavailable')) throw err;
        if (Date.now() > deadline) throw err;
        const leader = (err as KvClientError & { leader?: string }).leader;
        this.switchTo(leader ?? this.opts.servers[++this.rr % this.opts.servers.length]!);
        if (!leader) {
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 200);
        }
      }
    }
  }

  private switchTo(addr: string): void {
    if (addr === this.target) return;
    this.target = addr;
    const s = this.socket;
    this.socket = undefined;
    // Requests still in flight on the old connection get their answers before it closes.
    s?.end();
  }

  async put(key: string, value: string): Promise<KvResult> {
    return (await this.request({ op: 'put', key, value })).result!;
  }

  async del(key: string): Promise<KvResult> {
    return (await this.request({ op: 'del', key })).result!;
  }

  async cas(key: string, expect: string | null, value: string): Promise<KvResult> {
    return (await this.request({ op: 'cas', key, expect, value })).result!;
  }

  async get(key: string): Promise<string | null> {
    return (await this.request({ op: 'get', key })).value ?? null;
  }

  /** Status of the server this client is connected to (no redirect). */
  async status(): Promise<KvStatus> {
    return (await this.once({ op: 'status' })).status!;
  }

  close(): void {
    this.closed = true;
    this.socket?.destroy();
    this.socket = undefined;
  }
}
