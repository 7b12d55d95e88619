// Holds a host socket on each published port. Kernel DNAT rewrites packets before any socket sees
// them, so the socket never carries traffic; it only makes "port in use" symmetric: we refuse a
// port a host program listens on, and a host program gets EADDRINUSE for a port we publish.

import dgram from 'node:dgram';
import net from 'node:net';
import { ConflictError } from '../lib/errors.js';
import type { Proto } from './ports.js';

export interface PortHold {
  close(): void;
}

export type PortReserver = (proto: Proto, hostIp: string, hostPort: number) => Promise<PortHold>;

export class PortInUseError extends ConflictError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PortInUseError';
  }
}

export const reserveHostPort: PortReserver = async (proto, hostIp, hostPort) => {
  // No portable way to bind an SCTP socket from Node; the kernel rule alone is the reservation.
  if (proto === 'sctp') return { close: () => undefined };
  if (proto === 'udp') {
    const sock = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      sock.once('error', (e) => reject(wrap(e, proto, hostIp, hostPort)));
      sock.bind({ address: hostIp, port: hostPort, exclusive: true }, () => resolve());
    });
    sock.unref();
    return { close: () => sock.close() };
  }
  const server = net.createServer((c) => c.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(wrap(e, proto, hostIp, hostPort)));
    server.listen({ host: hostIp, port: hostPort, exclusive: true }, () => resolve());
  });
  server.unref();
  return { close: () => server.close() };
};

function wrap(e: Error, proto: Proto, hostIp: string, hostPort: number): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new PortInUseError(`Bind for ${hostIp}:${hostPort}/${proto} failed: port is already in use on the host`);
  }
  if (code === 'EADDRNOTAVAIL') {
    return new PortInUseError(`Bind for ${hostIp}:${hostPort}/${proto} failed: ${hostIp} is not an address of this host`);
  }
  return new Error(`cannot reserve host port ${hostIp}:${hostPort}/${proto}: ${e.message}`);
}

/** For tests and callers that manage no host sockets. */
export const noReserve: PortReserver = async () => ({ close: () => undefined });
