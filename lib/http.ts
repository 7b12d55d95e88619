// HTTP for the two APIs the daemon serves (the Engine API on the unix socket, the cluster port):
// how a domain error kind is answered, and a JSON reply.
import type { ServerResponse } from 'node:http';
import type { ErrorKind } from './errors.js';

const STATUS_OF_KIND: Record<ErrorKind, number> = {
  'not-found': 404,
  conflict: 409,
  invalid: 400,
  forbidden: 403,
  unavailable: 503,
  'not-modified': 304,
  internal: 500,
};

/** The HTTP status a domain error kind is answered with, as dockerd's errdefs map them. */
export function statusOfKind(kind: ErrorKind): number {
  return STATUS_OF_KIND[kind];
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) }).end(data);
}
