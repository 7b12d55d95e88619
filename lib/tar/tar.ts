import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { BLOCK, checksumMatches, cstr, entryNames, isMetaFlag, num, padTo512, parsePax, typeFlag } from './header.js';

/** Tar reading and writing for image archives and test layers. Layer extraction is tsunpack's job. */

export type TarType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface TarHeader {
  name: string;
  type: TarType;
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  /** Seconds since the epoch. */
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  uname?: string;
  gname?: string;
  /** Written as PAX SCHILY.xattr.* records. */
  xattrs?: Record<string, string | Uint8Array>;
  /** Extra raw PAX records (tests use this to craft hostile input). */
  pax?: Record<string, string>;
}

const TYPE_FLAG: Record<TarType, string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };

function paxRecord(key: string, value: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function writeOctal(buf: Buffer, off: number, width: number, value: number): boolean {
  const s = Math.trunc(value).toString(8);
  if (s.length > width - 1) return false;
  buf.write(s.padStart(width - 1, '0') + '\0', off, width, 'ascii');
  return true;
}

function ustarBlock(h: TarHeader, name: string, linkname: string, typeflag: string, size: number): { block: Buffer; overflow: Record<string, string> } {
  const b = Buffer.alloc(BLOCK);
  const overflow: Record<string, string> = {};
  b.write(name, 0, 100, 'utf8');
  writeOctal(b, 100, 8, (h.mode ?? (h.type === 'dir' ? 0o755 : 0o644)) & 0o7777);
  if (!writeOctal(b, 108, 8, h.uid ?? 0)) overflow.uid = String(h.uid);
  if (!writeOctal(b, 116, 8, h.gid ?? 0)) overflow.gid = String(h.gid);
  if (!writeOctal(b, 124, 12, size)) {
    overflow.size = String(size);
    writeOctal(b, 124, 12, 0);
  }
  writeOctal(b, 136, 12, Math.max(0, h.mtime ?? 0));
  b.write(typeflag, 156, 1, 'ascii');
  b.write(linkname, 157, 100, 'utf8');
  b.write('ustar\0', 257, 6, 'ascii');
  b.write('00', 263, 2, 'ascii');
  b.write((h.uname ?? '').slice(0, 31), 265, 32, 'utf8');
  b.write((h.gname ?? '').slice(0, 31), 297, 32, 'utf8');
  writeOctal(b, 329, 8, h.devmajor ?? 0);
  writeOctal(b, 337, 8, h.devminor ?? 0);
  b.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return { block: b, overflow };
}

/** Header blocks for one entry: a PAX extended header first when ustar cannot hold a field. */
export function encodeHeader(h: TarHeader): Buffer {
  const size = h.type === 'file' ? (h.size ?? 0) : 0;
  const linkname = h.linkname ?? '';
  const pax: Array<[string, Uint8Array]> = [];
  const nameFits = Buffer.byteLength(h.name) <= 100;
  const linkFits = Buffer.byteLength(linkname) <= 100;
  if (!nameFits) pax.push(['path', Buffer.from(h.name)]);
  if (!linkFits) pax.push(['linkpath', Buffer.from(linkname)]);
  for (const [k, v] of Object.entries(h.xattrs ?? {})) pax.push([`SCHILY.xattr.${k}`, typeof v === 'string' ? Buffer.from(v) : v]);
  for (const [k, v] of Object.entries(h.pax ?? {})) pax.push([k, Buffer.from(v)]);

  const main = ustarBlock(h, nameFits ? h.name : h.name.slice(0, 99), linkFits ? linkname : '', TYPE_FLAG[h.type], size);
  for (const [k, v] of Object.entries(main.overflow)) pax.push([k, Buffer.from(v)]);
  if (pax.length === 0) return main.block;
  const body = Buffer.concat(pax.map(([k, v]) => paxRecord(k, v)));
  const paxHeader = ustarBlock({ name: 'PaxHeader', type: 'file', mode: 0o644 }, `PaxHeaders/${h.name}`.slice(0, 99), '', 'x', body.length).block;
  return Buffer.concat([paxHeader, body, padding(body.length), main.block]);
}

export function padding(size: number): Buffer {
  return Buffer.alloc(padTo512(size));
}

export const END_OF_ARCHIVE = Buffer.alloc(BLOCK * 2);

/** Writes a tar stream with backpressure. */
export class TarWriter {
  constructor(private readonly out: Writable) {}

  private async put(chunk: Uint8Array): Promise<void> {
    if (!this.out.write(chunk)) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = (): void => {
          this.out.off('error', onError);
          resolve();
        };
        const onError = (err: Error): void => {
          this.out.off('drain', onDrain);
          reject(err);
        };
        this.out.once('drain', onDrain);
        this.out.once('error', onError);
      });
    }
  }

  /** Adds an entry; `data` must supply exactly `h.size` bytes for files. */
  async add(h: TarHeader, data?: Uint8Array | AsyncIterable<Uint8Array>): Promise<void> {
    if (h.type === 'file' && data instanceof Uint8Array && h.size === undefined) h = { ...h, size: data.length };
    const size = h.type === 'file' ? (h.size ?? 0) : 0;
    await this.put(encodeHeader(h));
    let written = 0;
    if (data instanceof Uint8Array) {
      await this.put(data);
      written = data.length;
    } else if (data) {
      for await (const c of data) {
        await this.put(c);
        written += c.length;
      }
    }
    if (written !== size) throw new Error(`tar entry ${h.name}: wrote ${written} bytes, header says ${size}`);
    await this.put(padding(size));
  }

  async finish(): Promise<void> {
    await this.put(END_OF_ARCHIVE);
    await new Promise<void>((resolve, reject) => {
      this.out.once('error', reject);
      this.out.end(() => resolve());
    });
  }
}

export interface TarIndexEntry {
  name: string;
  type: TarType | 'other';
  size: number;
  linkname: string;
  /** Byte offset of the entry's data in the file. */
  offset: number;
}

/**
 * Lists the entries of a tar file with where their data starts, so that members can be streamed
 * straight from the archive without extracting it first.
 */
export async function indexTarFile(path: string): Promise<TarIndexEntry[]> {
  const fh = await open(path, 'r');
  try {
    const { size: fileSize } = await fh.stat();
    const out: TarIndexEntry[] = [];
    const h = Buffer.alloc(BLOCK);
    let pos = 0;
    let longName: string | undefined;
    let longLink: string | undefined;
    let pax = new Map<string, Buffer>();
    const readAt = async (buf: Buffer, at: number): Promise<void> => {
      const { bytesRead } = await fh.read(buf, 0, buf.length, at);
      if (bytesRead !== buf.length) throw new Error(`truncated tar archive at byte ${at}`);
    };
    while (pos + BLOCK <= fileSize) {
      await readAt(h, pos);
      if (h.every((x) => x === 0)) break;
      if (!checksumMatches(h)) throw new Error(`not a tar archive (bad header checksum at byte ${pos})`);
      const flag = typeFlag(h);
      let size = num(h, 124, 12);
      const dataOff = pos + BLOCK;
      if (isMetaFlag(flag)) {
        if (size > 1 << 24) throw new Error('tar metadata header too large');
        const body = Buffer.alloc(size);
        await readAt(body, dataOff);
        if (flag === 'x') pax = parsePax(body, false);
        else if (flag === 'L') longName = cstr(body, 0, body.length);
        else if (flag === 'K') longLink = cstr(body, 0, body.length);
        pos = dataOff + size + padTo512(size);
        continue;
      }
      const names = entryNames(h, pax, longName, longLink);
      let name = names.name;
      const linkname = names.linkname;
      const paxSize = pax.get('size')?.toString('utf8');
      if (paxSize !== undefined) size = Number(paxSize);
      const type: TarIndexEntry['type'] =
        flag === '0' || flag === '\0' || flag === '7'
          ? name.endsWith('/')
            ? 'dir'
            : 'file'
          : flag === '5'
            ? 'dir'
            : flag === '2'
              ? 'symlink'
              : flag === '1'
                ? 'hardlink'
                : 'other';
      if (name.endsWith('/')) name = name.replace(/\/+$/, '');
      const dataSize = type === 'file' || type === 'other' ? size : 0;
      out.push({ name, type, size: dataSize, linkname, offset: dataOff });
      pos = dataOff + dataSize + padTo512(dataSize);
      if (pos > fileSize) throw new Error(`truncated tar archive: entry ${name} runs past the end`);
      longName = longLink = undefined;
      pax = new Map();
    }
    return out;
  } finally {
    await fh.close();
  }
}
