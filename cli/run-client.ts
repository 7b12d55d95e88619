// The one request of `tsswarm run`: `POST /containers/run` (agent/api/run-protocol.ts) spoken as
// HTTP/1.1 directly over node:net. node:http would cost a fresh CLI process ~7 ms more on its first
// request (loading its modules, and its agent compiling the IPv6 regexp to check the host name),
// a fifth of what a whole `run --rm` costs the daemon. Only what this one exchange needs is here:
// one request, `Connection: close`, a response with Content-Length, chunked, or ended by close.
// plainRequest() offers the same exchange for other short calls (tscompose ps, and every buffered
// Client.call of the CLIs, cli/client.ts).
import { withHint } from './hints.js';
import { connect } from 'node:net';
import { socketPath } from '../api/daemon.js';
import { STATUS_STREAM, CONTAINER_HEADER, type RunStatus } from '../api/run-protocol.js';

export type RunReply =
  /** 200: the container ran; its exit status (output was passed to `onFrame` as it came). */
  | { kind: 'ran'; id: string; status: RunStatus }
  /** 201 (detach): create's answer. */
  | { kind: 'created'; id: string; warnings: string[] }
  /** Any other status: the daemon's message. */
  | { kind: 'error'; status: number; message: string };

/** The daemon's socket did not accept the connection (no daemon): the caller may start one. */
export class ConnectError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConnectError';
  }
}

/**
 * Sends `POST /v1.41/containers/run?query` with `body`; calls `onFrame` for each stdout (1) / stderr (2)
 * frame of the answer as it arrives.
 */
export async function postRun(host: string, query: string, body: unknown, onFrame: (stream: number, payload: Buffer) => void): Promise<RunReply> {
  const text: Buffer[] = [];
  let frames: Buffer = Buffer.alloc(0);
  let runStatus: RunStatus | undefined;
  const onBody = (chunk: Buffer, status: number): void => {
    if (status !== 200) {
      text.push(chunk);
      return;
    }
    frames = frames.length ? Buffer.concat([frames, chunk]) : chunk;
    while (frames.length >= 8) {
      const size = frames.readUInt32BE(4);
      if (frames.length < 8 + size) break;
      const stream = frames[0]!;
      const data = frames.subarray(8, 8 + size);
      frames = frames.subarray(8 + size);
      if (stream === STATUS_STREAM) runStatus = JSON.parse(data.toString('utf8')) as RunStatus;
      else onFrame(stream, data);
    }
  };
  const { status, headers } = await exchange(host, 'POST', `/v1.41/containers/run${query ? `?${query}` : ''}`, Buffer.from(JSON.stringify(body)), onBody);
  const all = Buffer.concat(text).toString('utf8');
  if (status === 200) {
    if (!runStatus) throw new Error('the daemon ended the output without the exit status (did the daemon stop?)');
    return { kind: 'ran', id: headers[CONTAINER_HEADER] ?? '', status: runStatus };
  }
  let parsed: { message?: string; Id?: string; Warnings?: string[] } = {};
  try {
    parsed = JSON.parse(all) as typeof parsed;
  } catch {
    // Not JSON: the text is the message.
  }
  if (status === 201) return { kind: 'created', id: parsed.Id ?? '', warnings: parsed.Warnings ?? [] };
  return { kind: 'error', status, message: withHint(parsed.message ?? all) };
}

export interface PlainReply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * One short request with the whole answer buffered (`path` includes /v1.41 and the query), for CLI
 * commands that make one or two calls and would otherwise pay for loading node:http (tscompose ps).
 * A JSON `body` is sent with its Content-Type; `headers` are sent as given (X-Registry-Auth).
 */
export async function plainRequest(host: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<PlainReply> {
  const chunks: Buffer[] = [];
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const { status, headers: replyHeaders } = await exchange(host, method, path, payload, (c) => chunks.push(c), headers);
  return { status, headers: replyHeaders, body: Buffer.concat(chunks) };
}

/**
 * One HTTP/1.1 exchange on a fresh connection with `Connection: close`. Body bytes go to `onBody` as
 * they arrive; resolves with the status and headers once the body has ended.
 */
function exchange(
  host: string,
  method: string,
  path: string,
  payload: Buffer | undefined,
  onBody: (chunk: Buffer, status: number) => void,
  extraHeaders: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string> }> {
  let extra = '';
  for (const [k, v] of Object.entries(extraHeaders)) {
    // A header line must not smuggle another one in.
    if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) throw new Error(`request header ${JSON.stringify(k)}: a name or value may not contain a line break`);
    extra += `${k}: ${v}\r\n`;
  }
  const head = `${method} ${path} HTTP/1.1\r\nHost: localhost\r\n${extra}${payload ? `Content-Type: application/json\r\nContent-Length: ${payload.length}\r\n` : ''}Connection: close\r\n\r\n`;
  return new Promise((resolve, reject) => {
    const sock = connect(socketPath(host));
    let connected = false;
    let settled = false;
    let buf: Buffer = Buffer.alloc(0);
    let status = 0;
    let headers: Record<string, string> | undefined;
    let body: BodyDecoder | undefined;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      sock.destroy();
      if (err) reject(err);
      else if (!headers) reject(new Error('the daemon closed the connection without an answer'));
      else resolve({ status, headers });
    };
    const deliver = (chunk: Buffer): void => onBody(chunk, status);
    sock.once('connect', () => {
      connected = true;
      sock.write(payload ? Buffer.concat([Buffer.from(head), payload]) : head);
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) finish(new ConnectError(err.code, err.message));
      else finish(err);
    });
    sock.on('data', (chunk: Buffer) => {
      try {
        if (headers) {
          if (body!.push(chunk, deliver)) finish();
          return;
        }
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
        status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
        const h: Record<string, string> = {};
        for (const l of lines.slice(1)) {
          const i = l.indexOf(':');
          if (i > 0) h[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
        headers = h;
        body = new BodyDecoder(h);
        const rest = buf.subarray(end + 4);
        buf = Buffer.alloc(0);
        if (body.push(rest, deliver)) finish();
      } catch (e) {
        finish(e as Error);
      }
    });
    // A body framed by the connection's end (neither chunked nor sized) ends here.
    sock.on('end', () => finish());
    sock.on('close', () => finish());
  });
}

/** Undoes the framing of a response body: chunked, Content-Length, or until the connection ends. */
class BodyDecoder {
  complete = false;
  private readonly chunked: boolean;
  private remaining: number;
  private pending: Buffer = Buffer.alloc(0);
  /** Bytes of chunk data still to come in the current chunk (chunked mode). */
  private inChunk = 0;
  /** The CRLF that ends a chunk's data has not been read yet. */
  private needCrlf = false;

  constructor(headers: Record<string, string>) {
    this.chunked = /chunked/i.test(headers['transfer-encoding'] ?? '');
    const len = headers['content-length'];
    this.remaining = len !== undefined ? Number(len) : -1;
    if (!this.chunked && this.remaining === 0) this.complete = true;
  }

  /** Feeds raw bytes; passes decoded body bytes to `out`. Returns true once the body is complete. */
  push(raw: Buffer, out: (b: Buffer) => void): boolean {
    if (this.complete || raw.length === 0) return this.complete;
    if (!this.chunked) {
      if (this.remaining < 0) {
        out(raw);
        return false;
      }
      const take = raw.subarray(0, this.remaining);
      this.remaining -= take.length;
      if (take.length) out(take);
      this.complete = this.remaining === 0;
      return this.complete;
    }
    let b: Buffer = this.pending.length ? Buffer.concat([this.pending, raw]) : raw;
    this.pending = Buffer.alloc(0);
    for (;;) {
      if (this.inChunk > 0) {
        const take = b.subarray(0, this.inChunk);
        this.inChunk -= take.length;
        if (take.length) out(take);
        b = b.subarray(take.length);
        if (this.inChunk > 0) return false;
        // The chunk's trailing CRLF: wait until both bytes are here.
        if (b.length < 2) {
          this.pending = b;
          this.inChunk = 0;
          this.needCrlf = true;
          return false;
        }
        b = b.subarray(2);
      } else if (this.needCrlf) {
        if (b.length < 2) {
          this.pending = b;
          return false;
        }
        b = b.subarray(2);
        this.needCrlf = false;
      }
      const eol = b.indexOf('\r\n');
      if (eol < 0) {
        this.pending = b;
        return false;
      }
      const size = parseInt(b.subarray(0, eol).toString('latin1'), 16);
      b = b.subarray(eol + 2);
      if (!Number.isFinite(size)) throw new Error('malformed chunked response from the daemon');
      if (size === 0) {
        // Trailers (none are sent) and the final CRLF do not matter: the connection closes.
        this.complete = true;
        return true;
      }
      this.inChunk = size;
    }
  }
}
