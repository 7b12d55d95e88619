// A streaming tar reader (ustar, GNU long names, PAX) for `cp`: the daemon filters the tars it is sent
// before extraction, the CLI rebases and extracts the tars it receives. lib/tar/tar.ts has the writer
// and a reader for files on disk; neither side of `cp` has a file, only a stream.
import type { TarHeader, TarType } from './tar.js';
import { BLOCK, checksumMatches, cstr, entryNames, isMetaFlag, num, padTo512, parsePax, typeFlag } from './header.js';

/** PAX and GNU long-name bodies are metadata: anything bigger is not a tar we want to read. */
const MAX_META = 1 << 20;

/** Reads exact byte counts from a chunked stream. */
class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Uint8Array>;
  private done = false;

  constructor(src: AsyncIterable<Uint8Array>) {
    this.it = src[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      return false;
    }
    const c = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    this.buf = this.buf.length ? Buffer.concat([this.buf, c]) : c;
    return true;
  }

  /** Exactly n bytes, or undefined at a clean end of input (nothing buffered). */
  async exact(n: number): Promise<Buffer | undefined> {
    while (this.buf.length < n) {
      if (!(await this.fill())) {
        if (this.buf.length === 0) return undefined;
        throw new Error(`unexpected end of tar stream (wanted ${n} bytes, got ${this.buf.length})`);
      }
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Up to n bytes at a time until n bytes were given. */
  async *take(n: number): AsyncGenerator<Buffer> {
    while (n > 0) {
      if (this.buf.length === 0 && !(await this.fill())) throw new Error('unexpected end of tar stream inside an entry');
      const k = Math.min(n, this.buf.length);
      const out = this.buf.subarray(0, k);
      this.buf = this.buf.subarray(k);
      n -= k;
      yield out;
    }
  }

  async close(): Promise<void> {
    if (!this.done) await this.it.return?.();
  }
}

export interface TarStreamEntry {
  h: TarHeader;
  /** The raw type flag ('0', '5', …); entries of types TarHeader cannot express have h.type 'file' and skip set. */
  flag: string;
  /** An entry this reader does not understand (sockets, GNU volume headers…): its data is skipped. */
  skip: boolean;
  /** The entry's data (files only); must be read before asking for the next entry, or it is skipped. */
  data: () => AsyncIterable<Buffer>;
}

const TYPES: Record<string, TarType> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo' };

/** Yields the entries of a tar stream; PAX records the writer cannot re-create (atime…) are dropped. */
export async function* readTar(src: AsyncIterable<Uint8Array>): AsyncGenerator<TarStreamEntry> {
  const r = new ByteReader(src);
  try {
    let pax = new Map<string, Buffer>();
    let global = new Map<string, Buffer>();
    let longName: string | undefined;
    let longLink: string | undefined;
    for (;;) {
      const h = await r.exact(BLOCK);
      if (!h) return;
      if (h.every((x) => x === 0)) return; // end of archive; trailing blocks are not read
      if (!checksumMatches(h)) throw new Error('bad tar header checksum (is the input a tar archive?)');
      const flag = typeFlag(h);
      let size = num(h, 124, 12);
      if (isMetaFlag(flag)) {
        if (size > MAX_META) throw new Error(`tar metadata header of ${size} bytes is too large`);
        const body = (await r.exact(size + padTo512(size))) ?? Buffer.alloc(0);
        const data = body.subarray(0, size);
        if (flag === 'x') pax = parsePax(data, true);
        else if (flag === 'g') global = new Map([...global, ...parsePax(data, true)]);
        else if (flag === 'L') longName = cstr(data, 0, data.length);
        else longLink = cstr(data, 0, data.length);
        continue;
      }
      const rec = new Map([...global, ...pax]);
      const str = (k: string): string | undefined => rec.get(k)?.toString('utf8');
      const { name, linkname } = entryNames(h, rec, longName, longLink);
      if (rec.has('size')) size = Number(str('size'));
      const mtime = rec.has('mtime') ? Number(str('mtime')) : num(h, 136, 12);
      let type = TYPES[flag];
      const skip = type === undefined;
      if (type === 'file' && name.endsWith('/')) type = 'dir';
      const xattrs: Record<string, Uint8Array> = {};
      for (const [k, v] of rec) if (k.startsWith('SCHILY.xattr.')) xattrs[k.slice('SCHILY.xattr.'.length)] = v;
      const th: TarHeader = {
        name,
        type: type ?? 'file',
        mode: num(h, 100, 8) & 0o7777,
        uid: rec.has('uid') ? Number(str('uid')) : num(h, 108, 8),
        gid: rec.has('gid') ? Number(str('gid')) : num(h, 116, 8),
        size: type === 'file' ? size : 0,
        mtime: Math.floor(mtime),
        uname: str('uname') ?? cstr(h, 265, 32),
        gname: str('gname') ?? cstr(h, 297, 32),
        ...(linkname ? { linkname } : {}),
        ...(type === 'char' || type === 'block' ? { devmajor: num(h, 329, 8), devminor: num(h, 337, 8) } : {}),
        ...(Object.keys(xattrs).length ? { xattrs } : {}),
      };
      pax = new Map();
      longName = longLink = undefined;
      // Hard links, symlinks and directories carry no data whatever their size field says.
      const dataSize = type === 'file' || skip ? size : 0;
      let left = dataSize;
      const body = async function* (): AsyncGenerator<Buffer> {
        for await (const c of r.take(left)) {
          left -= c.length;
          yield c;
        }
      };
      yield { h: th, flag, skip, data: body };
      // Whatever the consumer left unread is skipped, so the next header is where it should be.
      for await (const c of r.take(left)) left -= c.length;
      if (padTo512(dataSize)) await r.exact(padTo512(dataSize));
    }
  } finally {
    await r.close();
  }
}
