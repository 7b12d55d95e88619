// Docker's connection hijacking for attach and exec start: a request carrying `Connection: Upgrade`
// and `Upgrade: tcp` is answered `101 UPGRADED` and the connection becomes a raw two-way stream
// (client input = the container's stdin; output = multiplexed frames, or raw bytes with a tty).
// Without those headers the same exchange runs as a streamed 200 response whose request body is the
// input, as before.
//
// The daemon's http.Server has no 'upgrade' listener, so Node hands such a request to the ordinary
// handler. Before answering, the server's own socket listeners are taken off (socketOnData, which
// feeds the HTTP parser, and socketOnEnd), so the bytes that follow reach us and not the parser
// (which would answer them with 400 Bad Request after a request body).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { AttachConnection } from '../../runtime/index.js';
import { DetachScanner } from '../../api/detach-keys.js';

export { DetachScanner, parseDetachKeys } from '../../api/detach-keys.js';

export const RAW_STREAM = 'application/vnd.docker.raw-stream';
export const MULTIPLEXED_STREAM = 'application/vnd.docker.multiplexed-stream';

/** The client side of an attached session, however it was reached. */
export interface ClientStream {
  write(b: Buffer): void;
  end(): void;
  onInput(fn: (b: Buffer) => void): void;
  onInputEnd(fn: () => void): void;
  /** The client went away (or end() was called). */
  readonly closed: Promise<void>;
}

/** Sockets answered `101 UPGRADED`: no HTTP may be written on them again (router.ts checks). */
const hijacked = new WeakSet<Socket>();

export function isHijacked(sock: Socket): boolean {
  return hijacked.has(sock);
}

export function wantsUpgrade(req: IncomingMessage): boolean {
  return /^tcp$/i.test(req.headers.upgrade ?? '') && /upgrade/i.test(req.headers.connection ?? '');
}

/** Answers the request and returns the stream to talk over. */
export function hijack(req: IncomingMessage, res: ServerResponse, contentType: string, extraHeaders: Record<string, string> = {}): ClientStream {
  if (wantsUpgrade(req)) return upgraded(req.socket, contentType, extraHeaders);
  res.writeHead(200, { 'Content-Type': contentType, ...extraHeaders });
  res.flushHeaders();
  const closed = new Promise<void>((resolve) => {
    res.once('close', () => resolve());
  });
  return {
    write: (b) => {
      if (!res.writableEnded) res.write(b);
    },
    end: () => {
      if (!res.writableEnded) res.end();
    },
    ...bufferedInput(req),
    closed,
  };
}

function upgraded(sock: Socket, contentType: string, extraHeaders: Record<string, string>): ClientStream {
  const extra = Object.entries(extraHeaders)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  hijacked.add(sock);
  sock.setTimeout(0);
  sock.removeAllListeners('data');
  for (const l of sock.listeners('end')) if (l.name.includes('socketOnEnd')) sock.off('end', l as () => void);
  // socketOnError would answer a late parser or socket error with "HTTP/1.1 400" (the response
  // object never sent headers): bytes the client would read as stream frames.
  for (const l of sock.listeners('error')) if (l.name.includes('socketOnError')) sock.off('error', l as () => void);
  sock.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n${extra}\r\n`);
  const closed = new Promise<void>((resolve) => {
    sock.once('close', () => resolve());
  });
  sock.on('error', () => undefined);
  return {
    write: (b) => {
      if (!sock.destroyed && sock.writable) sock.write(b);
    },
    // end() then destroy: the server's http machinery must not write on this connection again.
    end: () => {
      if (!sock.destroyed) sock.end(() => sock.destroy());
    },
    ...bufferedInput(sock),
    closed,
  };
}

/**
 * Input that arrives before anyone listens is kept: `docker run -i` sends its piped stdin (and its
 * EOF) as soon as the attach is hijacked, before the container has started and the bridge exists.
 */
export function bufferedInput(src: NodeJS.EventEmitter): Pick<ClientStream, 'onInput' | 'onInputEnd'> {
  const held: Buffer[] = [];
  let ended = false;
  let endSent = false;
  let onData: ((b: Buffer) => void) | undefined;
  let onEnd: (() => void) | undefined;
  // Held data goes first, so the end never overtakes it.
  const flush = (): void => {
    if (!onData) return;
    for (const b of held.splice(0)) onData(b);
    if (ended && onEnd && !endSent) {
      endSent = true;
      onEnd();
    }
  };
  src.on('data', (b: Buffer) => {
    if (onData && held.length === 0) onData(b);
    else held.push(b);
  });
  src.once('end', () => {
    ended = true;
    flush();
  });
  return {
    onInput: (fn) => {
      onData = fn;
      flush();
    },
    onInputEnd: (fn) => {
      onEnd = fn;
      flush();
    },
  };
}

export interface BridgeOptions {
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  /** Close the container's stdin when the client's input ends (StdinOnce). */
  closeStdinAtEnd: boolean;
  detachKeys: Buffer;
  /** Frame output even with a tty (POST /containers/run always frames). */
  alwaysFrame?: boolean;
}

/**
 * Copies between a monitor attach connection and a client until the container's output ends
 * ("ended"), the client types the detach keys ("detached") or goes away ("gone"). The caller ends
 * the client stream.
 */
export function bridge(conn: AttachConnection, client: ClientStream, o: BridgeOptions): Promise<'ended' | 'detached' | 'gone'> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (how: 'ended' | 'detached' | 'gone'): void => {
      if (done) return;
      done = true;
      conn.close();
      resolve(how);
    };
    conn.onOutput((stream, data) => {
      if (done) return;
      if ((stream === 1 && !o.stdout) || (stream === 2 && !o.stderr)) return;
      if (o.tty && !o.alwaysFrame) client.write(data);
      else {
        const h = Buffer.alloc(8);
        h[0] = stream;
        h.writeUInt32BE(data.length, 4);
        client.write(Buffer.concat([h, data]));
      }
    });
    if (o.stdin) {
      const scan = new DetachScanner(o.detachKeys);
      client.onInput((b) => {
        if (done) return;
        const { data, detached } = scan.feed(b);
        if (data.length) conn.write(data);
        if (detached) finish('detached');
      });
      client.onInputEnd(() => {
        if (!done && o.closeStdinAtEnd) conn.closeStdin();
      });
    }
    void conn.ended.then(() => finish('ended'));
    void client.closed.then(() => finish('gone'));
  });
}
