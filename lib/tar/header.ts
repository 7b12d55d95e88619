// Decoding tar headers (ustar, GNU long names, PAX), shared by the two tar readers: lib/tar/tar.ts's
// indexTarFile (archives on disk, read by offset) and lib/tar/stream.ts's readTar (streams, for `cp`).
// Each reader keeps its own bounds and messages; what a header block says is decoded here once.

export const BLOCK = 512;

/** Bytes of padding after `n` bytes of entry data, up to the next block. */
export const padTo512 = (n: number): number => (BLOCK - (n % BLOCK)) % BLOCK;

/** A NUL-terminated string field (or the whole field when it has no NUL). */
export function cstr(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString('utf8', off, end < 0 || end > off + len ? off + len : end);
}

/** A numeric field: octal text, or GNU base-256 when the top bit of the first byte is set. */
export function num(b: Buffer, off: number, len: number): number {
  if (b[off]! & 0x80) {
    let v = b[off]! & 0x3f;
    for (let i = 1; i < len; i++) v = v * 256 + b[off + i]!;
    return v;
  }
  const s = cstr(b, off, len).trim();
  return s ? parseInt(s, 8) : 0;
}

/** Whether the header block's checksum field matches its bytes (the field itself counted as spaces). */
export function checksumMatches(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  return num(h, 148, 8) === sum;
}

/** The type flag of a header block ('0', '5', 'x' …). */
export const typeFlag = (h: Buffer): string => String.fromCharCode(h[156]!);

/** Type flags whose body is metadata for the next entry: PAX ('x'), PAX global ('g'), GNU long name/link ('L', 'K'). */
export const isMetaFlag = (flag: string): boolean => flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K';

/**
 * PAX records (`<len> <key>=<value>\n`), values as raw bytes (xattrs need not be text).
 * `nulEnds`: a NUL where a record would start ends the records (padding some writers leave);
 * without it that is a malformed header.
 */
export function parsePax(body: Buffer, nulEnds: boolean): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < body.length) {
    if (nulEnds && body[pos] === 0) break;
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

/**
 * An entry's name and link target: PAX path/linkpath first, then GNU long name/link, then the header's
 * fields (the name with the ustar prefix when there is one).
 */
export function entryNames(h: Buffer, pax: ReadonlyMap<string, Buffer>, longName: string | undefined, longLink: string | undefined): { name: string; linkname: string } {
  const prefix = h.toString('ascii', 257, 262) === 'ustar' ? cstr(h, 345, 155) : '';
  const name = pax.get('path')?.toString('utf8') ?? longName ?? (prefix ? `${prefix}/${cstr(h, 0, 100)}` : cstr(h, 0, 100));
  const linkname = pax.get('linkpath')?.toString('utf8') ?? longLink ?? cstr(h, 157, 100);
  return { name, linkname };
}
