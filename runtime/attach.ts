// Client side of a monitor's attach socket (protocol in runtime/native/tsbox.c): Docker's 8-byte
// stream framing both ways. Output frames (1 stdout, 2 stderr) come from the monitor; stdin data (0),
// resize (4) and close-stdin (5) go to it.
import { closeSync, constants as fsc, openSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { basename, dirname } from 'node:path';
import { RuntimeError } from './errors.js';

export const ATTACH_FILE = 'attach';

export const FRAME_STDIN = 0;
export const FRAME_STDOUT = 1;
export const FRAME_STDERR = 2;
export const FRAME_RESIZE = 4;
export const FRAME_CLOSE_STDIN = 5;
/** The monitor drops a client whose frame is larger. */
const FRAME_MAX = 65536;
/** sun_path holds 108 bytes with its NUL; longer paths are reached through /proc/self/fd. */
const SUN_PATH_MAX = 107;

export function frameHeader(type: number, size: number): Buffer {
  const h = Buffer.alloc(8);
  h[0] = type;
  h.writeUInt32BE(size, 4);
  return h;
}

/** One connection to a container's monitor. Output arrives through onOutput until the container ends. */
export class AttachConnection {
  private buf: Buffer = Buffer.alloc(0);
  private readonly outputListeners: ((stream: number, data: Buffer) => void)[] = [];
  /** Output that came before the first listener: kept, so a caller may await between connect and onOutput. */
  private early: [number, Buffer][] | undefined = [];
  /** Resolves when the monitor hangs up (the container has exited and its output is drained) or on close(). */
  readonly ended: Promise<void>;

  constructor(readonly socket: Socket) {
    this.ended = new Promise((resolve) => {
      socket.once('close', () => resolve());
    });
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
      while (this.buf.length >= 8) {
        const size = this.buf.readUInt32BE(4);
        if (this.buf.length < 8 + size) break;
        const type = this.buf[0]!;
        const data = this.buf.subarray(8, 8 + size);
        this.buf = this.buf.subarray(8 + size);
        if (this.early) this.early.push([type, data]);
        else for (const l of this.outputListeners) l(type, data);
      }
    });
  }

  onOutput(fn: (stream: number, data: Buffer) => void): void {
    this.outputListeners.push(fn);
    const early = this.early;
    this.early = undefined;
    for (const [t, d] of early ?? []) fn(t, d);
  }

  /** Data for the container's stdin (the pty, or the stdin pipe the monitor holds). */
  write(data: Buffer): void {
    for (let off = 0; off < data.length; off += FRAME_MAX) {
      const part = data.subarray(off, off + FRAME_MAX);
      this.socket.write(Buffer.concat([frameHeader(FRAME_STDIN, part.length), part]));
    }
  }

  resize(rows: number, cols: number): void {
    const p = Buffer.alloc(4);
    p.writeUInt16BE(Math.max(0, Math.min(65535, rows)), 0);
    p.writeUInt16BE(Math.max(0, Math.min(65535, cols)), 2);
    this.socket.write(Buffer.concat([frameHeader(FRAME_RESIZE, 4), p]));
  }

  /** EOF on the container's stdin (a terminal gets its EOF character). */
  closeStdin(): void {
    this.socket.write(frameHeader(FRAME_CLOSE_STDIN, 0));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Connects to the attach socket at `path` (a path too long for sun_path goes through its directory's fd). */
export function connectAttach(path: string): Promise<AttachConnection> {
  let dirFd: number | undefined;
  let target = path;
  if (Buffer.byteLength(path) > SUN_PATH_MAX) {
    dirFd = openSync(dirname(path), fsc.O_RDONLY | fsc.O_DIRECTORY);
    target = `/proc/self/fd/${dirFd}/${basename(path)}`;
  }
  return new Promise((resolve, reject) => {
    const done = (): void => {
      if (dirFd !== undefined) closeSync(dirFd);
      dirFd = undefined;
    };
    const s = connect(target);
    s.once('connect', () => {
      done();
      s.off('error', onError);
      resolve(new AttachConnection(s));
    });
    const onError = (err: NodeJS.ErrnoException): void => {
      done();
      const gone = err.code === 'ENOENT' || err.code === 'ECONNREFUSED';
      reject(new RuntimeError(`attach to ${path}: ${gone ? 'the container has no attach socket (not running, or created without one)' : err.message}`, 1, gone ? 'ESTATE' : undefined));
    };
    s.once('error', onError);
  });
}
