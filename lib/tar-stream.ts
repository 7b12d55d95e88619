// A streaming tar reader (ustar, GNU long names, PAX) for `cp`: the daemon filters the tars it is sent
// before extraction, the CLI rebases and extracts the tars it receives. image/tar.ts has the writer
// and a reader for files on disk; neither side of `cp` has a file, only a stream.
import type { TarHeader, TarType } from '../image/tar.js';

const BLOCK = 512;
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

function cstr(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString('utf8', off, end < 0 || end > off + len ? off + len : end);
}

function num(b: Buffer, off: number, len: number): number {
  if (b[off]! & 0x80) {
    let v = b[off]! & 0x3f;
    for (let i = 1; i < len; i++) v = v * 256 + b[off + i]!;
    return v;
  }
  const s = cstr(b, off, len).trim();
  return s ? parseInt(s, 8) : 0;
}

function parsePax(body: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < body.length) {
    if (body[pos] === 0) break;
    const sp = body.indexOf(0x20, pos);
    if (sp < 0) throw new Error('malformed PAX header');
    const len = parseInt(body.toString('ascii', pos, sp), 10);
    if (!(len > 0) || pos + len > body.length) throw new Error('malformed PAX header');
    const rec = body.subarray(sp + 1, pos + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq > 0) out.set(rec.toString('utf8', 0, eq), rec.subarray(eq + 1));
    pos += len;
  }
  return out;
}

const TYPES: Record<string, TarType> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo' };
const pad = (n: number): number => (BLOCK - (n % BLOCK)) % BLOCK;

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
      let sum = 0;
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
      if (num(h, 148, 8) !== sum) throw new Error('bad tar header checksum (is the input a tar archive?)');
      const flag = String.fromCharCode(h[156]!);
      let size = num(h, 124, 12);
      if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
        if (size > MAX_META) throw new Error(`tar metadata header of ${size} bytes is too large`);
        const body = (await r.exact(size + pad(size))) ?? Buffer.alloc(0);
        const data = body.subarray(0, size);
        if (flag === 'x') pax = parsePax(data);
        else if (flag === 'g') global = new Map([...global, ...parsePax(data)]);
        else if (flag === 'L') longName = cstr(data, 0, data.length);
        else longLink = cstr(data, 0, data.length);
        continue;
      }
      const rec = new Map([...global, ...pax]);
      const str = (k: string): string | undefined => rec.get(k)?.toString('utf8');
      const prefix = h.toString('ascii', 257, 262) === 'ustar' ? cstr(h, 345, 155) : '';
      const name = str('path') ?? longName ?? (prefix ? `${prefix}/${cstr(h, 0, 100)}` : cstr(h, 0, 100));
      const linkname = str('linkpath') ?? longLink ?? cstr(h, 157, 100);
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
      if (pad(dataSize)) await r.exact(pad(dataSize));
    }
  } finally {
    await r.close();
  }
}
