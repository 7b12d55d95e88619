// Network transport: one persistent outbound connection per peer (inbound connections only carry
// messages towards us), length-prefixed frames of the binary codec. Messages sent during one
// event-loop turn leave in a single socket write; nothing waits for replies, so appends pipeline.
// Raft tolerates loss, so a broken or overloaded link drops messages and reports the peer
// unreachable instead of buffering without bound. TLS (mutual) drops in via `tls`.
import net from 'node:net';
import tls from 'node:tls';
import type { Message, NodeId, Transport } from '../types.js';
import { BinaryReader, BinaryWriter } from './binary.js';
import { readMessage, writeMessage } from './codec.js';
import { FrameDecoder } from './framing.js';

const PROTOCOL_VERSION = 1;

export interface TransportTlsOptions {
  key: string | Buffer;
  cert: string | Buffer;
  /** CA(s) that sign peer certificates; both sides require and verify a certificate (mutual TLS). */
  ca: string | Buffer | Array<string | Buffer>;
  /** Verifies the server certificate of peer `peerId`; default: Node's hostname check against the dialled host. */
  checkServerIdentity?: (peerId: NodeId, host: string, cert: tls.PeerCertificate) => Error | undefined;
  /** ALPN protocol to offer when dialling: the swarm's cluster port carries raft beside HTTPS. */
  alpn?: string;
  /**
   * The node ID an inbound connection's certificate proves (or an Error to refuse it). When set, a
   * peer's hello must name that ID, so a member cannot speak for another.
   */
  identify?: (socket: tls.TLSSocket) => NodeId | Error;
}

export interface TcpTransportOptions {
  id: NodeId;
  host?: string;
  /** 0 picks an ephemeral port. */
  port?: number;
  tls?: TransportTlsOptions;
  maxFrameSize?: number;
  /** Per-peer bytes queued in the socket beyond which new messages are dropped. */
  maxQueuedBytes?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  onUnreachable?: (id: NodeId) => void;
  log?: (event: string, fields: Record<string, unknown>) => void;
}

type Sock = net.Socket | tls.TLSSocket;

function parseAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const port = Number(address.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`transport: bad peer address ${JSON.stringify(address)} (want host:port)`);
  }
  return { host: address.slice(0, i), port };
}

class Peer {
  private socket: Sock | undefined;
  private connected = false;
  private readonly w = new BinaryWriter(4096);
  private flushScheduled = false;
  private backoffMs: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private dropped = 0;

  constructor(
    readonly id: NodeId,
    readonly address: string,
    private readonly t: TcpTransport,
  ) {
    this.backoffMs = t.opts.backoffMinMs ?? 50;
    this.connect();
  }

  private connect(): void {
    if (this.closed) return;
    const { host, port } = parseAddress(this.address);
    const o = this.t.opts;
    let s: Sock;
    if (o.tls) {
      const check = o.tls.checkServerIdentity;
      s = tls.connect({
        host,
        port,
        key: o.tls.key,
        cert: o.tls.cert,
        ca: o.tls.ca,
        servername: net.isIP(host) ? undefined : host,
        ...(o.tls.alpn ? { ALPNProtocols: [o.tls.alpn] } : {}),
        checkServerIdentity: check ? (h, cert) => check(this.id, h, cert) : tls.checkServerIdentity,
      });
      s.once('secureConnect', () => this.onConnect());
    } else {
      s = net.connect({ host, port });
      s.once('connect', () => this.onConnect());
    }
    s.setNoDelay(true);
    s.on('error', (err) => this.t.log('transport.peer_error', { peer: this.id, address: this.address, error: err.message }));
    s.on('close', () => this.onClose(s));
    // Peers never send on our outbound link; reading keeps TLS alerts and FIN flowing.
    s.on('data', () => undefined);
    this.socket = s;
  }

  private onConnect(): void {
    this.connected = true;
    this.backoffMs = this.t.opts.backoffMinMs ?? 50;
    const hello = new BinaryWriter(64);
    const at = hello.reserveU32();
    hello.u8(PROTOCOL_VERSION);
    hello.str(this.t.id);
    hello.patchU32(at, hello.length - 4);
    this.socket!.write(hello.finish());
    this.t.log('transport.peer_connected', { peer: this.id, address: this.address });
    if (this.w.length > 0) this.scheduleFlush();
  }

  private onClose(s: Sock): void {
    if (this.socket !== s) return;
    const wasConnected = this.connected;
    this.socket = undefined;
    this.connected = false;
    this.w.reset();
    if (this.closed) return;
    if (wasConnected) this.t.log('transport.peer_disconnected', { peer: this.id, address: this.address });
    this.t.opts.onUnreachable?.(this.id);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect();
    }, this.backoffMs);
    this.retryTimer.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, this.t.opts.backoffMaxMs ?? 1000);
  }

  send(m: Message): void {
    const limit = this.t.opts.maxQueuedBytes ?? 64 * 1024 * 1024;
    const queued = this.w.length + (this.socket?.writableLength ?? 0);
    if (this.closed || (!this.connected && this.socket === undefined) || queued > limit) {
      if (this.dropped++ % 1000 === 0) {
        this.t.log('transport.dropped', { peer: this.id, connected: this.connected, queued, dropped: this.dropped });
      }
      if (queued > limit) this.t.opts.onUnreachable?.(this.id);
      return;
    }
    const at = this.w.reserveU32();
    writeMessage(this.w, m);
    this.w.patchU32(at, this.w.length - at - 4);
    if (this.connected) this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (!this.connected || !this.socket || this.w.length === 0) return;
      this.socket.write(this.w.finish());
      this.w.reset();
    });
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.socket?.destroy();
    this.socket = undefined;
  }
}

export class TcpTransport implements Transport {
  private readonly peers = new Map<NodeId, Peer>();
  private handler: ((m: Message) => void) | undefined;
  private readonly inbound = new Set<Sock>();
  private server: net.Server | undefined;
  private port = 0;

  private constructor(readonly opts: TcpTransportOptions) {}

  get id(): NodeId {
    return this.opts.id;
  }

  /**
   * A transport without a listener of its own: inbound connections are handed to `acceptSocket` by
   * whoever owns the port (the swarm's cluster port, which routes by ALPN). `address` is where peers
   * dial us.
   */
  static attached(opts: TcpTransportOptions & { address: string }): TcpTransport {
    const t = new TcpTransport(opts);
    const { port } = parseAddress(opts.address);
    t.port = port;
    t.advertised = opts.address;
    return t;
  }

  private advertised: string | undefined;

  /** New key/certificate/roots for connections made from now on (renewal, root rotation). */
  setTls(c: { key: string | Buffer; cert: string | Buffer; ca: TransportTlsOptions['ca'] }): void {
    if (!this.opts.tls) throw new Error('transport: setTls on a transport without TLS');
    this.opts.tls.key = c.key;
    this.opts.tls.cert = c.cert;
    this.opts.tls.ca = c.ca;
  }

  /** Takes an inbound connection accepted elsewhere (already TLS-authenticated when TLS is on). */
  acceptSocket(s: Sock): void {
    this.accept(s);
  }

  /** Starts listening; resolves once the port is bound. */
  static async listen(opts: TcpTransportOptions): Promise<TcpTransport> {
    const t = new TcpTransport(opts);
    await t.start();
    return t;
  }

  private start(): Promise<void> {
    const o = this.opts;
    const onConn = (s: Sock) => this.accept(s);
    this.server = o.tls
      ? tls.createServer({ key: o.tls.key, cert: o.tls.cert, ca: o.tls.ca, requestCert: true, rejectUnauthorized: true }, onConn)
      : net.createServer(onConn);
    if (o.tls) {
      this.server.on('tlsClientError', (err: Error) => this.log('transport.tls_client_error', { error: err.message }));
    }
    const server = this.server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        this.port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  /** host:port this transport accepts peers on. */
  get address(): string {
    return this.advertised ?? `${this.opts.host ?? '127.0.0.1'}:${this.port}`;
  }

  log(event: string, fields: Record<string, unknown>): void {
    this.opts.log?.(event, { node: this.opts.id, ...fields });
  }

  private accept(s: Sock): void {
    this.inbound.add(s);
    s.setNoDelay(true);
    const decoder = new FrameDecoder(this.opts.maxFrameSize ?? 512 * 1024 * 1024);
    let remote: NodeId | undefined;
    let proven: NodeId | undefined;
    const identify = this.opts.tls?.identify;
    if (identify) {
      const who = s instanceof tls.TLSSocket ? identify(s) : new Error('not a TLS connection');
      if (who instanceof Error) {
        this.log('transport.refused', { error: who.message });
        s.destroy();
        return;
      }
      proven = who;
    }
    s.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk, (payload) => {
          const r = new BinaryReader(payload);
          if (remote === undefined) {
            const version = r.u8();
            if (version !== PROTOCOL_VERSION) throw new Error(`unsupported protocol version ${version}`);
            remote = r.str();
            if (proven !== undefined && remote !== proven) throw new Error(`hello names ${remote}, certificate proves ${proven}`);
            return;
          }
          const m = readMessage(r);
          if (m.to !== this.opts.id || m.from !== remote) {
            this.log('transport.misaddressed', { from: m.from, to: m.to, remote });
            return;
          }
          this.handler?.(m);
        });
      } catch (err) {
        this.log('transport.bad_stream', { remote, error: (err as Error).message });
        s.destroy();
      }
    });
    s.on('error', (err) => this.log('transport.inbound_error', { remote, error: err.message }));
    s.on('close', () => this.inbound.delete(s));
  }

  send(messages: Message[]): void {
    for (const m of messages) {
      const p = this.peers.get(m.to);
      if (p) p.send(m);
      else this.log('transport.unknown_peer', { to: m.to, type: m.type });
    }
  }

  onMessage(handler: (m: Message) => void): void {
    this.handler = handler;
  }

  addPeer(id: NodeId, address: string): void {
    if (id === this.opts.id) return;
    const existing = this.peers.get(id);
    if (existing && existing.address === address) return;
    existing?.close();
    this.peers.set(id, new Peer(id, address, this));
  }

  removePeer(id: NodeId): void {
    this.peers.get(id)?.close();
    this.peers.delete(id);
  }

  async close(): Promise<void> {
    for (const p of this.peers.values()) p.close();
    this.peers.clear();
    for (const s of this.inbound) s.destroy();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
