// The daemon's DNS server: one UDP socket and one TCP listener per bridge gateway (port 53). The
// address a query arrives at tells which network the asker is on; names on that network are
// answered here, everything else is relayed to the host's resolvers.

import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import {
  DnsFormatError,
  RCODE_FORMERR,
  RCODE_SERVFAIL,
  decodeMessage,
  encodeHeaderOnlyError,
  encodeResponse,
  truncateResponse,
  type Message,
} from './codec.js';
import { DnsRecords, parseResolvConf } from './records.js';

export interface Upstream {
  host: string;
  port: number;
}

export interface DnsServerOptions {
  /** Resolvers to forward to ("1.2.3.4" or "1.2.3.4:5353"); default: nameservers of `resolvConfPath`. */
  upstreams?: readonly string[];
  resolvConfPath?: string;
  /** Per-upstream wait before trying the next one. */
  forwardTimeoutMs?: number;
  /**
   * Networks whose names a client may see: given the network the query arrived on and the client's
   * address, all networks of that container (arrival network first). Default: just the arrival one.
   */
  scope?: (networkId: string, clientIp: string) => readonly string[];
  /** Called with errors that are not worth failing anything for (bad packets, dead upstreams). */
  onError?: (err: Error) => void;
}

interface Listener {
  address: string;
  port: number;
  udp: dgram.Socket;
  tcp: net.Server;
  conns: Set<net.Socket>;
}

const UDP_LIMIT = 512;

export function parseUpstream(text: string): Upstream {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(text.trim());
  if (!m) throw new Error(`invalid DNS upstream "${text}": expected IPv4[:port]`);
  return { host: m[1]!, port: m[2] ? Number(m[2]) : 53 };
}

export class DnsServer {
  readonly records = new DnsRecords();
  private readonly listeners = new Map<string, Listener>();
  private readonly timeoutMs: number;
  private readonly onError: (err: Error) => void;
  private upstreams: Upstream[];

  constructor(private readonly opts: DnsServerOptions = {}) {
    this.timeoutMs = opts.forwardTimeoutMs ?? 2000;
    this.onError = opts.onError ?? (() => undefined);
    this.upstreams = this.loadUpstreams();
  }

  /** Re-reads resolv.conf (e.g. after the host's network changed). */
  reloadUpstreams(): void {
    this.upstreams = this.loadUpstreams();
  }

  getUpstreams(): readonly Upstream[] {
    return this.upstreams;
  }

  private loadUpstreams(): Upstream[] {
    if (this.opts.upstreams) return this.opts.upstreams.map(parseUpstream);
    const path = this.opts.resolvConfPath ?? '/etc/resolv.conf';
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      this.onError(new Error(`cannot read ${path} for DNS upstreams: ${(e as Error).message}`));
    }
    // IPv6 servers are skipped: forwarding is IPv4 only for now.
    return parseResolvConf(text)
      .nameservers.filter((s) => /^\d/.test(s))
      .map(parseUpstream);
  }

  /** Starts answering for `networkId` on address:port (UDP and TCP). Port 0 picks one (tests). */
  async listen(networkId: string, address: string, port = 53): Promise<{ address: string; port: number }> {
    if (this.listeners.has(networkId)) throw new Error(`DNS already listening for network ${networkId}`);
    const udp = dgram.createSocket({ type: 'udp4' });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', (e) => reject(new Error(`DNS cannot bind udp ${address}:${port} for network ${networkId}: ${e.message}`)));
      udp.bind({ address, port, exclusive: true }, () => resolve());
    });
    const bound = udp.address().port;
    udp.on('error', (e) => this.onError(e));
    udp.on('message', (msg, rinfo) => {
      void this.handle(networkId, msg, 'udp', rinfo.address).then((resp) => {
        if (resp) udp.send(resp, rinfo.port, rinfo.address);
      });
    });
    const conns = new Set<net.Socket>();
    const tcp = net.createServer((sock) => this.serveTcp(networkId, sock, conns));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', (e) => reject(new Error(`DNS cannot bind tcp ${address}:${bound} for network ${networkId}: ${e.message}`)));
        tcp.listen({ host: address, port: bound, exclusive: true }, () => resolve());
      });
    } catch (e) {
      udp.close();
      throw e;
    }
    tcp.on('error', (e) => this.onError(e));
    this.listeners.set(networkId, { address, port: bound, udp, tcp, conns });
    return { address, port: bound };
  }

  async unlisten(networkId: string): Promise<void> {
    const l = this.listeners.get(networkId);
    if (!l) return;
    this.listeners.delete(networkId);
    for (const c of l.conns) c.destroy();
    await Promise.all([new Promise<void>((r) => l.udp.close(() => r())), new Promise<void>((r) => l.tcp.close(() => r()))]);
  }

  async close(): Promise<void> {
    await Promise.all([...this.listeners.keys()].map((id) => this.unlisten(id)));
  }

  private serveTcp(networkId: string, sock: net.Socket, conns: Set<net.Socket>): void {
    conns.add(sock);
    sock.on('close', () => conns.delete(sock));
    sock.on('error', () => undefined);
    sock.setTimeout(30000, () => sock.destroy());
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        void this.handle(networkId, msg, 'tcp', sock.remoteAddress ?? '').then((resp) => {
          if (resp && !sock.destroyed) sock.write(withLength(resp));
        });
      }
    });
  }

  /** Produces the reply for one message (exposed for tests); undefined means stay silent. */
  async handle(networkId: string, raw: Buffer, transport: 'udp' | 'tcp', clientIp = ''): Promise<Buffer | undefined> {
    let query: Message;
    try {
      query = decodeMessage(raw);
    } catch (e) {
      if (e instanceof DnsFormatError) return encodeHeaderOnlyError(raw, RCODE_FORMERR);
      throw e;
    }
    if (query.qr) return undefined;
    const scope = this.opts.scope ? this.opts.scope(networkId, clientIp.replace(/^::ffff:/, '')) : [networkId];
    const decision = this.records.decide(scope.length ? scope : [networkId], query);
    if (decision.kind === 'answer') {
      const resp = encodeResponse(query, decision.rcode, decision.answers, { aa: true });
      return transport === 'udp' && resp.length > UDP_LIMIT ? truncateResponse(query) : resp;
    }
    const relayed = await this.forward(raw, transport);
    return relayed ?? encodeResponse(query, RCODE_SERVFAIL, []);
  }

  private async forward(raw: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    const own = new Set([...this.listeners.values()].map((l) => `${l.address}:${l.port}`));
    for (const up of this.upstreams) {
      // Never forward to ourselves (a host whose resolv.conf names one of our gateways).
      if (own.has(`${up.host}:${up.port}`)) continue;
      try {
        const resp = transport === 'udp' ? await this.forwardUdp(raw, up) : await this.forwardTcp(raw, up);
        if (resp) return resp;
      } catch (e) {
        this.onError(new Error(`DNS upstream ${up.host}:${up.port}: ${(e as Error).message}`));
      }
    }
    return undefined;
  }

  private forwardUdp(raw: Buffer, up: Upstream): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
      // A fresh socket per query gives each one its own random source port.
      const sock = dgram.createSocket('udp4');
      const id = raw.readUInt16BE(0);
      const timer = setTimeout(() => finish(undefined), this.timeoutMs);
      const finish = (v: Buffer | undefined, err?: Error): void => {
        clearTimeout(timer);
        sock.close();
        if (err) reject(err);
        else resolve(v);
      };
      sock.on('error', (e) => finish(undefined, e));
      sock.on('message', (msg, rinfo) => {
        if (rinfo.address !== up.host || rinfo.port !== up.port || msg.length < 12 || msg.readUInt16BE(0) !== id) return;
        finish(msg);
      });
      sock.send(raw, up.port, up.host);
    });
  }

  private forwardTcp(raw: Buffer, up: Upstream): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: up.host, port: up.port });
      let buf = Buffer.alloc(0);
      const timer = setTimeout(() => finish(undefined), this.timeoutMs);
      const finish = (v: Buffer | undefined, err?: Error): void => {
        clearTimeout(timer);
        sock.destroy();
        if (err) reject(err);
        else resolve(v);
      };
      sock.on('error', (e) => finish(undefined, e));
      sock.on('connect', () => sock.write(withLength(raw)));
      sock.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) finish(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      });
      sock.on('end', () => finish(undefined));
    });
  }
}

function withLength(msg: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length, 0);
  return Buffer.concat([len, msg]);
}
