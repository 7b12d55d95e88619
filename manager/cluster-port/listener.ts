// The cluster port (default 2377): one TLS listener carrying two protocols, told apart by ALPN —
// raft's binary stream (`tsswarm-raft/1`) and HTTPS/wss for join, renewal, control and agent sessions
// (`http/1.1`). One port to open in a firewall, as with Docker's 2377.
//
// A client certificate is requested but not required at the TLS layer, because the join and the
// root-CA fetch come from nodes that have none yet. Each route decides what it needs from the verified
// peer (see `peerOf`); raft connections without a verified certificate are refused here.
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { ALPN_HTTP, ALPN_RAFT } from '../protocol.js';

export interface Credentials {
  key: string;
  cert: string;
  /** Roots (and, during a root rotation, both roots) that client certificates must chain to. */
  ca: string | string[];
}

export interface ClusterPortOptions {
  host: string;
  port: number;
  credentials: Credentials;
  /** A raft connection whose client certificate verified against `ca`. */
  onRaft(socket: tls.TLSSocket): void;
  onRequest(req: IncomingMessage, res: ServerResponse): void;
  /** WebSocket upgrades (agent sessions). */
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  log?: (event: string, fields: Record<string, unknown>) => void;
}

export class ClusterPort {
  private readonly tlsServer: tls.Server;
  private readonly http: HttpServer;
  private readonly sockets = new Set<tls.TLSSocket>();
  private boundPort = 0;

  private constructor(private readonly opts: ClusterPortOptions) {
    this.http = createHttpServer(opts.onRequest);
    this.http.on('upgrade', opts.onUpgrade);
    this.tlsServer = tls.createServer(
      {
        ...secureOptions(opts.credentials),
        requestCert: true,
        rejectUnauthorized: false,
        ALPNProtocols: [ALPN_RAFT, ALPN_HTTP],
        minVersion: 'TLSv1.2',
      },
      (socket) => this.route(socket),
    );
    this.tlsServer.on('tlsClientError', (err: Error) => this.opts.log?.('cluster_port.tls_error', { error: err.message }));
  }

  static async listen(opts: ClusterPortOptions): Promise<ClusterPort> {
    const p = new ClusterPort(opts);
    await new Promise<void>((resolve, reject) => {
      p.tlsServer.once('error', (err: NodeJS.ErrnoException) =>
        reject(new Error(`cannot listen on the cluster port ${opts.host}:${opts.port}: ${err.message}`, { cause: err })),
      );
      p.tlsServer.listen(opts.port, opts.host, () => resolve());
    });
    const addr = p.tlsServer.address();
    p.boundPort = typeof addr === 'object' && addr ? addr.port : opts.port;
    return p;
  }

  get port(): number {
    return this.boundPort;
  }

  /** New certificate or roots (renewal, root rotation): later handshakes use them. */
  setCredentials(c: Credentials): void {
    this.tlsServer.setSecureContext(secureOptions(c));
  }

  private route(socket: tls.TLSSocket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    if (socket.alpnProtocol === ALPN_RAFT) {
      if (!socket.authorized) {
        this.opts.log?.('cluster_port.raft_refused', { remote: socket.remoteAddress, error: String(socket.authorizationError ?? 'no client certificate') });
        socket.destroy();
        return;
      }
      this.opts.onRaft(socket);
      return;
    }
    // http/1.1, or a client that offered no ALPN (curl, plain https clients).
    this.http.emit('connection', socket);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.tlsServer.close(() => resolve()));
    this.http.close();
  }
}

function secureOptions(c: Credentials): tls.SecureContextOptions {
  return { key: c.key, cert: c.cert, ca: c.ca };
}

export interface VerifiedPeer {
  /** Certificate CN. */
  nodeId: string;
  /** Certificate OU. */
  role: string;
  /** Certificate O. */
  clusterId: string;
  serial: string;
}

/** The verified client certificate of a connection, or undefined when it has none that verified. */
export function peerOf(socket: tls.TLSSocket): VerifiedPeer | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.subject) return undefined;
  const one = (v: string | string[] | undefined): string => (Array.isArray(v) ? (v[0] ?? '') : (v ?? ''));
  return { nodeId: one(cert.subject.CN), role: one(cert.subject.OU), clusterId: one(cert.subject.O), serial: cert.serialNumber };
}
