// Interactive sessions over a hijacked connection (agent/api/hijack.ts): `run -i/-t`, `exec -i/-t`,
// `attach`, `start -a`. The request asks for `Upgrade: tcp`; after `101 UPGRADED` the socket carries
// our stdin one way and the container's output the other (framed, or raw bytes with a tty).
import { connect, type Socket } from 'node:net';
import { socketPath } from '../api/daemon.js';
import { STATUS_STREAM } from '../api/run-protocol.js';
import { ConnectError } from './run-client.js';
import { writeIfOpen } from './commands/base.js';

export interface Hijacked {
  socket: Socket;
  headers: Record<string, string>;
  /** Stream bytes that came with the 101's head. */
  rest: Buffer;
}

/** The daemon refused the request (not 101): its status and message. */
export class HijackRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HijackRefused';
  }
}

/** Sends one request asking to hijack the connection; resolves once the daemon answers 101. */
export function hijackRequest(host: string, path: string, body?: unknown): Promise<Hijacked> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const head =
    `POST ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n` +
    (payload ? `Content-Type: application/json\r\nContent-Length: ${payload.length}\r\n` : 'Content-Length: 0\r\n') +
    '\r\n';
  return new Promise((resolve, reject) => {
    // Half-open: our end of input (EOF on stdin) must not end the output still coming.
    const sock = connect({ path: socketPath(host), allowHalfOpen: true });
    let connected = false;
    let buf: Buffer = Buffer.alloc(0);
    let status = 0;
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      sock.destroy();
      reject(err);
    };
    sock.once('connect', () => {
      connected = true;
      sock.write(payload ? Buffer.concat([Buffer.from(head), payload]) : head);
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) fail(new ConnectError(err.code, err.message));
      else fail(err);
    });
    const onData = (chunk: Buffer): void => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0 || status) return;
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      if (status === 101) {
        settled = true;
        sock.off('data', onData);
        sock.off('end', onEnd);
        // Held until runSession listens: output may follow the 101 at once.
        sock.pause();
        resolve({ socket: sock, headers, rest: buf.subarray(end + 4) });
      }
      // Otherwise an error answer: read it to the end (the daemon closes after it).
    };
    const onEnd = (): void => {
      const end = buf.indexOf('\r\n\r\n');
      let text = end >= 0 ? buf.subarray(end + 4).toString('utf8') : buf.toString('utf8');
      // A chunked error body: take the JSON out of it.
      const json = /\{[^]*\}/.exec(text);
      if (json) text = json[0];
      let message = text.trim();
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        // Not JSON: the text is the message.
      }
      fail(new HijackRefused(status, message || `the daemon answered ${status} without a message`));
    };
    sock.on('data', onData);
    sock.on('end', onEnd);
  });
}

export interface SessionOptions {
  /** Multiplexed 8-byte-header frames (else raw bytes, a tty's output). */
  framed: boolean;
  /** Forward our stdin (EOF half-closes the connection). */
  stdin: boolean;
  /** Put our terminal in raw mode for the session (with stdin on a tty). */
  rawMode: boolean;
  /** Called with the terminal size now and at each change (SIGWINCH), when stdout is a tty. */
  resize?: (rows: number, cols: number) => void;
  /** Payloads of STATUS_STREAM frames (POST /containers/run). */
  onStatus?: (payload: Buffer) => void;
  /** Detach keys to watch for in our input, so the caller knows the session ended by a detach. */
  detachKeys?: Buffer;
}

/** Runs the session until the daemon closes the connection. Always restores the terminal. */
export function runSession(h: Hijacked, o: SessionOptions): Promise<{ detached: boolean }> {
  const sock = h.socket;
  const stdin = process.stdin;
  const raw = o.rawMode && stdin.isTTY === true;
  let detached = false;
  let held = 0;
  const keys = o.detachKeys ?? Buffer.alloc(0);
  let frames: Buffer = Buffer.alloc(0);
  const onOutput = (chunk: Buffer): void => {
    if (!o.framed) {
      writeIfOpen(process.stdout, chunk);
      return;
    }
    frames = frames.length ? Buffer.concat([frames, chunk]) : chunk;
    while (frames.length >= 8) {
      const size = frames.readUInt32BE(4);
      if (frames.length < 8 + size) break;
      const type = frames[0]!;
      const data = frames.subarray(8, 8 + size);
      frames = frames.subarray(8 + size);
      if (type === STATUS_STREAM) o.onStatus?.(data);
      else writeIfOpen(type === 2 ? process.stderr : process.stdout, data);
    }
  };
  const onInput = (b: Buffer): void => {
    for (const byte of b) {
      if (keys.length && byte === keys[held]) {
        held++;
        if (held === keys.length) detached = true;
      } else held = byte === keys[0] ? 1 : 0;
    }
    sock.write(b);
  };
  const onInputEnd = (): void => {
    if (!sock.destroyed) sock.end();
  };
  const onResize = (): void => {
    if (process.stdout.isTTY) o.resize?.(process.stdout.rows, process.stdout.columns);
  };
  return new Promise((resolve) => {
    if (raw) stdin.setRawMode(true);
    if (o.stdin) {
      stdin.on('data', onInput);
      stdin.once('end', onInputEnd);
      stdin.resume();
    }
    if (o.resize) {
      onResize();
      process.stdout.on('resize', onResize);
    }
    if (h.rest.length) onOutput(h.rest);
    sock.on('data', onOutput);
    sock.resume();
    const done = (): void => {
      sock.off('data', onOutput);
      process.stdout.off('resize', onResize);
      if (o.stdin) {
        stdin.off('data', onInput);
        stdin.off('end', onInputEnd);
        // A tty is only paused (the shell keeps it); a pipe is let go so the process can exit.
        if (stdin.isTTY) stdin.pause();
        else stdin.destroy();
      }
      if (raw) stdin.setRawMode(false);
      resolve({ detached });
    };
    sock.once('close', done);
    sock.once('end', () => {
      // The daemon has said all; our side may still be open (stdin never ended).
      sock.destroy();
    });
  });
}

/** The local terminal's size as h/w query values, when stdout is a tty. */
export function termSize(): { h: number; w: number } | undefined {
  return process.stdout.isTTY ? { h: process.stdout.rows, w: process.stdout.columns } : undefined;
}
