// A directory of JSON records, one file per object (`<id>.json`), written atomically. Used for
// containers, volumes and networks. A record that cannot be read or fails validation is moved aside
// into `<dir>/corrupt/` and reported, so one bad file never stops the daemon from starting.
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../lib/atomic.js';

export interface CorruptRecord {
  id: string;
  /** Where the file now lives. */
  movedTo: string;
  error: string;
}

export interface RecordStoreOptions<T> {
  /** Checks and narrows a parsed record; throw to mark it corrupt. */
  validate?: (value: unknown, id: string) => T;
  /** For the corrupt file's suffix; injectable for tests. */
  now?: () => Date;
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export class RecordStore<T> {
  private readonly records = new Map<string, T>();
  /** Per-ID write chains: two quick updates of one record land in order. */
  private readonly pending = new Map<string, Promise<void>>();
  private readonly validate: (value: unknown, id: string) => T;
  private readonly now: () => Date;

  constructor(
    readonly dir: string,
    opts: RecordStoreOptions<T> = {},
  ) {
    this.validate = opts.validate ?? ((v) => v as T);
    this.now = opts.now ?? (() => new Date());
  }

  /** Reads every record in the directory (creating it if needed). Call once at start. */
  async load(): Promise<{ loaded: number; corrupt: CorruptRecord[] }> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    this.records.clear();
    const corrupt: CorruptRecord[] = [];
    for (const entry of (await readdir(this.dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      if (!entry.isFile()) continue;
      // Temp files of a write that a crash interrupted: the rename never happened, so they are garbage.
      if (entry.name.startsWith('.') && entry.name.includes('.tmp-')) {
        await unlink(join(this.dir, entry.name)).catch(() => undefined);
        continue;
      }
      if (!entry.name.endsWith('.json')) continue;
      const id = entry.name.slice(0, -'.json'.length);
      const path = join(this.dir, entry.name);
      try {
        const value = this.validate(JSON.parse(await readFile(path, 'utf8')) as unknown, id);
        this.records.set(id, value);
      } catch (err) {
        corrupt.push({ id, movedTo: await this.moveAside(path, entry.name), error: (err as Error).message });
      }
    }
    return { loaded: this.records.size, corrupt };
  }

  private async moveAside(path: string, name: string): Promise<string> {
    const dir = join(this.dir, 'corrupt');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const stamp = this.now().toISOString().replace(/[:.]/g, '-');
    const to = join(dir, `${name}.${stamp}`);
    await rename(path, to);
    return to;
  }

  get(id: string): T | undefined {
    return this.records.get(id);
  }

  has(id: string): boolean {
    return this.records.has(id);
  }

  all(): T[] {
    return [...this.records.values()];
  }

  ids(): string[] {
    return [...this.records.keys()];
  }

  get size(): number {
    return this.records.size;
  }

  /**
   * Stores the record in memory at once and on disk before the promise settles. `durable: false`
   * skips the fsyncs (still temp file + rename, so never a torn file after a crash of the daemon):
   * for updates the daemon can rebuild at start (a container's running/exited state is reconciled
   * with the runtime), where two fsyncs would cost more than the rest of the update.
   */
  put(id: string, value: T, opts: { durable?: boolean } = {}): Promise<void> {
    checkId(id);
    this.records.set(id, value);
    // Serialise now: later mutation of `value` by the caller must not change what this write stores.
    const text = JSON.stringify(value, null, 2) + '\n';
    const path = this.file(id);
    if (opts.durable === false) {
      return this.chain(id, async () => {
        const tmp = join(this.dir, `.${id}.json.tmp-${process.pid}`);
        await writeFile(tmp, text, { mode: 0o644 });
        await rename(tmp, path);
      });
    }
    return this.chain(id, () => writeFileAtomic(path, text));
  }

  /**
   * Drops the record from memory only: lookups no longer see it, while its file stays until
   * delete() — so a crash before the owner's clean-up finishes leaves the record to finish it.
   */
  forget(id: string): void {
    this.records.delete(id);
  }

  delete(id: string): Promise<void> {
    checkId(id);
    this.records.delete(id);
    return this.chain(id, () =>
      unlink(this.file(id)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      }),
    );
  }

  /** Resolves when every write started so far has finished. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.pending.values()]);
  }

  private file(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  private chain(id: string, op: () => Promise<void>): Promise<void> {
    const prev = this.pending.get(id) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(op);
    this.pending.set(id, next);
    const cleanup = (): void => {
      if (this.pending.get(id) === next) this.pending.delete(id);
    };
    next.then(cleanup, cleanup);
    return next;
  }
}

function checkId(id: string): void {
  if (!ID_RE.test(id)) throw new Error(`invalid record id "${id}": expected letters, digits, "_", "." or "-" (no slashes)`);
}
