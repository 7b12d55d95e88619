// Reading a container's json-file log (one {"log","stream","time"} object per line, written by the
// monitor) and turning it into Docker's multiplexed stream: 8-byte header (stream, 0,0,0, size BE).
import { open, type FileHandle } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';

export interface LogEntry {
  stream: 'stdout' | 'stderr';
  log: string;
  time: string;
}

export interface LogQuery {
  stdout: boolean;
  stderr: boolean;
  timestamps: boolean;
  /** Number of last lines, or undefined for all. */
  tail?: number;
  /** Unix seconds (fractional allowed); entries before are skipped. */
  since?: number;
  until?: number;
}

export function frame(stream: 'stdout' | 'stderr', payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream === 'stdout' ? 1 : 2;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

export function parseLine(line: string): LogEntry | undefined {
  if (!line) return undefined;
  try {
    const o = JSON.parse(line) as Partial<LogEntry>;
    if (typeof o.log !== 'string') return undefined;
    return { stream: o.stream === 'stderr' ? 'stderr' : 'stdout', log: o.log, time: typeof o.time === 'string' ? o.time : '' };
  } catch {
    return undefined;
  }
}

function wanted(e: LogEntry, q: LogQuery): boolean {
  if (e.stream === 'stdout' ? !q.stdout : !q.stderr) return false;
  if (q.since !== undefined || q.until !== undefined) {
    const t = Date.parse(e.time) / 1000;
    if (q.since !== undefined && t < q.since) return false;
    if (q.until !== undefined && q.until > 0 && t > q.until) return false;
  }
  return true;
}

export function render(e: LogEntry, q: LogQuery): Buffer {
  return frame(e.stream, Buffer.from(q.timestamps ? `${e.time} ${e.log}` : e.log));
}

/** Reads complete lines from a file handle, remembering a partial last line between calls. */
export class LineReader {
  private pos = 0;
  private rest = '';
  constructor(
    private readonly fh: FileHandle,
    start = 0,
  ) {
    this.pos = start;
  }

  async read(): Promise<string[]> {
    const out: string[] = [];
    const buf = Buffer.alloc(1 << 16);
    for (;;) {
      const { bytesRead } = await this.fh.read(buf, 0, buf.length, this.pos);
      if (bytesRead === 0) break;
      this.pos += bytesRead;
      const text = this.rest + buf.subarray(0, bytesRead).toString('utf8');
      const lines = text.split('\n');
      this.rest = lines.pop() ?? '';
      out.push(...lines);
    }
    return out;
  }
}

export async function openLog(path: string): Promise<FileHandle | undefined> {
  return open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
}

/** Everything logged so far, filtered (for logs without -f and the first part of -f). */
export async function readEntries(reader: LineReader, q: LogQuery): Promise<LogEntry[]> {
  let entries = (await reader.read()).map(parseLine).filter((e): e is LogEntry => e !== undefined && wanted(e, q));
  if (q.tail !== undefined) entries = q.tail === 0 ? [] : entries.slice(-q.tail);
  return entries;
}

/**
 * Follows a log file: calls `emit` for each new entry until `done` resolves, then drains what is
 * left. The file is watched, with a slow poll as a safety net (watch can miss appends on some fs).
 */
export async function follow(reader: LineReader, q: LogQuery, emit: (e: LogEntry) => void, done: Promise<void>, path: string): Promise<void> {
  let finished = false;
  let wake: (() => void) | undefined;
  void done.then(() => {
    finished = true;
    wake?.();
  });
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(path, () => wake?.());
    watcher.on('error', () => undefined);
  } catch {
    watcher = undefined;
  }
  try {
    for (;;) {
      for (const l of await reader.read()) {
        const e = parseLine(l);
        if (e && wanted(e, q)) emit(e);
      }
      if (finished) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 250);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = undefined;
    }
    for (const l of await reader.read()) {
      const e = parseLine(l);
      if (e && wanted(e, q)) emit(e);
    }
  } finally {
    watcher?.close();
  }
}
