// Reading and writing a container's files for `cp` (GET/HEAD/PUT /containers/{id}/archive).
//
// Every path is resolved INSIDE the container's root, one component at a time, by us: the kernel
// would resolve an absolute symlink target (or "..") against the daemon's own root, i.e. the host's.
// Node has no openat(2), so each directory reached is held open and the next component is looked up
// through `/proc/self/fd/N/NAME`: the kernel jumps to exactly that directory (the magic link is not
// re-resolved by name) and looks NAME up in it. Directories are opened with O_NOFOLLOW|O_DIRECTORY,
// so a component swapped for a symlink between our lstat and our open fails instead of escaping.
// Extraction is tsunpack's (openat2 RESOLVE_BENEATH below the resolved directory).
import { spawn } from 'node:child_process';
import { constants as C, createReadStream, createWriteStream, type Stats } from 'node:fs';
import { lstat, mkdtemp, open, readdir, readlink, rm, type FileHandle } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { tmpdir } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { Readable, type Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { TarWriter, readTar, encodeHeader, padding, END_OF_ARCHIVE, type TarHeader } from '../../lib/tar/index.js';
import { plainUnpackArgs, tsunpackPath } from '../../image/unpack.js';

/** Linux's limit on symlinks followed in one lookup. */
const MAX_LINKS = 40;
const DIR_FLAGS = C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW;
/** O_NONBLOCK: a regular file swapped for a FIFO after our lstat must not block the open. */
const FILE_FLAGS = C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK;

/** An error with the errno-style code the routes map to an HTTP status. */
export class ArchiveError extends Error {
  constructor(
    message: string,
    readonly code: 'ENOENT' | 'ENOTDIR' | 'ELOOP' | 'EINVAL' | 'EEXIST',
  ) {
    super(message);
    this.name = 'ArchiveError';
  }
}

const fdPath = (dir: FileHandle, name = ''): string => `/proc/self/fd/${dir.fd}${name ? `/${name}` : ''}`;
const errno = (e: unknown): string | undefined => (e as NodeJS.ErrnoException).code;

/** What a path resolved to: an open directory and a name in it ('' = the directory itself). */
export interface Location {
  dir: FileHandle;
  name: string;
  /** The clean absolute path inside the container (symlinks resolved). */
  path: string;
}

/** Docker's ContainerPathStat (X-Docker-Container-Path-Stat). Mode uses Go's os.FileMode bits. */
export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

export function goFileMode(st: Stats): number {
  let m = st.mode & 0o777;
  if (st.mode & 0o4000) m |= 1 << 23;
  if (st.mode & 0o2000) m |= 1 << 22;
  if (st.mode & 0o1000) m |= 1 << 20;
  if (st.isDirectory()) m |= 2 ** 31;
  else if (st.isSymbolicLink()) m |= 1 << 27;
  else if (st.isFIFO()) m |= 1 << 25;
  else if (st.isSocket()) m |= 1 << 24;
  else if (st.isCharacterDevice()) m |= (1 << 26) | (1 << 21);
  else if (st.isBlockDevice()) m |= 1 << 26;
  return m >>> 0;
}

export class ContainerFs {
  private readonly held = new Set<FileHandle>();

  private constructor(private readonly root: FileHandle) {}

  /** `root`: /proc/PID/root of a running container, or a temporary overlay mount of a stopped one. */
  static async open(root: string): Promise<ContainerFs> {
    // Following the magic link /proc/PID/root here is the point: it leads into the container's root.
    return new ContainerFs(await open(root, C.O_RDONLY | C.O_DIRECTORY));
  }

  async close(): Promise<void> {
    await Promise.all([...this.held].map((h) => h.close().catch(() => undefined)));
    this.held.clear();
    await this.root.close().catch(() => undefined);
  }

  private async openDir(parent: FileHandle, name: string): Promise<FileHandle> {
    const fh = await open(fdPath(parent, name), DIR_FLAGS);
    this.held.add(fh);
    return fh;
  }

  private async release(fh: FileHandle): Promise<void> {
    if (fh === this.root || !this.held.delete(fh)) return;
    await fh.close().catch(() => undefined);
  }

  /**
   * Resolves an absolute container path. Symlinks in the directories are followed within the root
   * (absolute targets restart at the container's root, ".." stops at it); the last component is
   * followed only with `followFinal`. A missing last component is not an error here (the caller
   * stats it); a missing or non-directory parent is.
   */
  async resolve(path: string, followFinal: boolean): Promise<Location> {
    const stack: Array<{ fh: FileHandle; name: string }> = [];
    const top = (): FileHandle => stack.at(-1)?.fh ?? this.root;
    const here = (name = ''): string => '/' + [...stack.map((s) => s.name), ...(name ? [name] : [])].join('/');
    const popAll = async (): Promise<void> => {
      for (const s of stack.splice(0)) await this.release(s.fh);
    };
    const todo = path.split('/').filter(Boolean);
    let links = 0;
    try {
      while (todo.length) {
        const comp = todo.shift()!;
        const last = todo.length === 0;
        if (comp === '.') continue;
        if (comp === '..') {
          const s = stack.pop();
          if (s) await this.release(s.fh);
          continue;
        }
        if (last && !followFinal) return this.located(stack, top(), comp, here(comp));
        let st: Stats;
        try {
          st = await lstat(fdPath(top(), comp));
        } catch (e) {
          if (errno(e) === 'ENOENT' && last) return this.located(stack, top(), comp, here(comp));
          if (errno(e) === 'ENOENT') throw new ArchiveError(`lstat ${here(comp)}: no such file or directory`, 'ENOENT');
          throw e;
        }
        if (st.isSymbolicLink()) {
          if (++links > MAX_LINKS) throw new ArchiveError(`${path}: too many levels of symbolic links`, 'ELOOP');
          const target = await readlink(fdPath(top(), comp));
          if (target.startsWith('/')) await popAll();
          todo.unshift(...target.split('/').filter(Boolean));
          continue;
        }
        if (st.isDirectory()) {
          let fh: FileHandle;
          try {
            fh = await this.openDir(top(), comp);
          } catch (e) {
            // Replaced by a symlink (ELOOP) or something else since the lstat: refuse, never follow.
            throw new ArchiveError(`${here(comp)} changed while it was being resolved (${errno(e) ?? String(e)})`, 'ELOOP');
          }
          stack.push({ fh, name: comp });
          continue;
        }
        if (last) return this.located(stack, top(), comp, here(comp));
        throw new ArchiveError(`lstat ${here(comp)}/${todo.join('/')}: not a directory`, 'ENOTDIR');
      }
      // Resolved to a directory (or the root): the caller gets that directory itself.
      const s = stack.pop();
      if (!s) return { dir: this.root, name: '', path: '/' };
      const dirPath = here(s.name);
      await popAll();
      return { dir: s.fh, name: '', path: dirPath };
    } catch (e) {
      await popAll();
      throw e;
    }
  }

  /** Keeps `dir` open for the caller and closes the rest of the walk. */
  private async located(stack: Array<{ fh: FileHandle; name: string }>, dir: FileHandle, name: string, path: string): Promise<Location> {
    for (const s of stack) if (s.fh !== dir) await this.release(s.fh);
    return { dir, name, path };
  }

  /** Closes what a Location holds. */
  async done(loc: Location): Promise<void> {
    await this.release(loc.dir);
  }

  /** lstat of a Location; undefined when it does not exist. */
  async lstat(loc: Location): Promise<Stats | undefined> {
    try {
      return loc.name ? await lstat(fdPath(loc.dir, loc.name)) : await loc.dir.stat();
    } catch (e) {
      if (errno(e) === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** Where a symlink at `loc` leads, resolved inside the root (Docker's linkTarget); '' if not a link. */
  async linkTarget(loc: Location, st: Stats): Promise<string> {
    if (!st.isSymbolicLink()) return '';
    const r = await this.resolve(loc.path, true).catch(() => undefined);
    if (!r) return '';
    await this.done(r);
    return r.path;
  }

  /** Writes a tar of `loc` to `out`, its top entry named `topName` (Docker's rebase). */
  async writeTar(loc: Location, st: Stats, topName: string, out: Writable): Promise<void> {
    const w = new TarWriter(out);
    const links = new Map<string, string>();
    const add = async (dir: FileHandle, name: string, st: Stats, tarName: string): Promise<void> => {
      const h: TarHeader = { name: tarName, type: 'file', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
      if (st.isDirectory()) {
        await w.add({ ...h, type: 'dir', name: tarName.endsWith('/') ? tarName : `${tarName}/` });
        const sub = name ? await this.openDir(dir, name) : dir;
        try {
          const names = (await readdir(fdPath(sub))).sort();
          for (const n of names) {
            const cst = await lstat(fdPath(sub, n)).catch(() => undefined);
            if (cst) await add(sub, n, cst, tarName === '.' ? `./${n}` : `${tarName.replace(/\/$/, '')}/${n}`);
          }
        } finally {
          if (sub !== dir) await this.release(sub);
        }
        return;
      }
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = links.get(key);
        if (first !== undefined) return w.add({ ...h, type: 'hardlink', linkname: first });
        links.set(key, tarName);
      }
      if (st.isSymbolicLink()) return w.add({ ...h, type: 'symlink', linkname: await readlink(fdPath(dir, name)) });
      if (st.isFIFO()) return w.add({ ...h, type: 'fifo' });
      if (st.isCharacterDevice() || st.isBlockDevice()) {
        return w.add({ ...h, type: st.isCharacterDevice() ? 'char' : 'block', devmajor: Math.floor(st.rdev / 256) & 0xfff, devminor: (st.rdev & 0xff) | (Math.floor(st.rdev / 4096) & 0xfff00) });
      }
      if (!st.isFile()) return; // sockets: tar has no type for them, Docker skips them too
      const fh = await open(fdPath(dir, name), FILE_FLAGS).catch(() => undefined);
      if (!fh) return; // gone since the listing: a running container changes its files
      try {
        const fst = await fh.stat();
        if (!fst.isFile()) return;
        await w.add({ ...h, size: fst.size, mode: fst.mode & 0o7777 }, readExactly(fh, fst.size));
      } finally {
        await fh.close();
      }
    };
    await add(loc.dir, loc.name, st, topName);
    await w.finish();
  }
}

/** Exactly `size` bytes of a file: a file that shrank meanwhile is padded with zeros, one that grew is cut. */
async function* readExactly(fh: FileHandle, size: number): AsyncGenerator<Uint8Array> {
  let pos = 0;
  while (pos < size) {
    const buf = Buffer.alloc(Math.min(1 << 20, size - pos));
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) {
      yield Buffer.alloc(size - pos);
      return;
    }
    pos += bytesRead;
    yield buf.subarray(0, bytesRead);
  }
}

export interface ExtractOptions {
  /** Keep the archive's owners (cp -a); otherwise everything belongs to the container's root. */
  copyUIDGID: boolean;
  /** Refuse to replace a directory with a non-directory or the reverse (the Docker CLI always asks). */
  noOverwriteDirNonDir: boolean;
  /** Where the checked archive is spooled before extraction (default: the system's temp dir). */
  spoolDir?: string;
}

/** Normalises a tar entry name; refuses names that leave the extraction directory. */
function cleanEntryName(name: string): string {
  const parts: string[] = [];
  for (const p of name.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') throw new ArchiveError(`archive entry "${name}" contains ".." and would land outside the destination`, 'EINVAL');
    parts.push(p);
  }
  return parts.join('/');
}

/** lstat of `rel` below `dir`, never through a symlink (a symlinked parent answers undefined). */
async function lstatBelow(dir: FileHandle, rel: string): Promise<Stats | undefined> {
  const parts = rel.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const st = await lstat(fdPath(dir, parts.slice(0, i).join('/'))).catch(() => undefined);
    if (!st) return undefined;
    if (i < parts.length && !st.isDirectory()) return undefined;
    if (i === parts.length) return st;
  }
  return undefined;
}

async function* gunzipIfNeeded(src: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const it = src[Symbol.asyncIterator]();
  let first = await it.next();
  while (!first.done && first.value.length === 0) first = await it.next();
  if (first.done) return;
  const rest = (async function* (): AsyncGenerator<Uint8Array> {
    yield first.value;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  })();
  if (first.value[0] === 0x1f && first.value[1] === 0x8b) yield* Readable.from(rest).pipe(createGunzip());
  else yield* rest;
}

/**
 * The tar as tsunpack gets it: names checked, owners reset unless kept. ".wh." names pass: tsunpack
 * runs with --plain, so they are copied as files rather than turned into overlay whiteouts.
 */
async function* filtered(dir: FileHandle, dirPath: string, input: AsyncIterable<Uint8Array>, opts: ExtractOptions): AsyncGenerator<Uint8Array> {
  for await (const e of readTar(gunzipIfNeeded(input))) {
    if (e.skip) continue;
    const rel = cleanEntryName(e.h.name);
    const h: TarHeader = { ...e.h, name: rel === '' ? './' : e.h.type === 'dir' ? `${rel}/` : rel };
    if (h.type === 'hardlink' && h.linkname) h.linkname = cleanEntryName(h.linkname);
    if (opts.noOverwriteDirNonDir && rel) {
      const cur = await lstatBelow(dir, rel);
      const dest = posix.join(dirPath, rel);
      if (cur?.isDirectory() && h.type !== 'dir') throw new ArchiveError(`cannot overwrite directory "${dest}" with non-directory "${rel}"`, 'EEXIST');
      if (cur && !cur.isDirectory() && h.type === 'dir') throw new ArchiveError(`cannot overwrite non-directory "${dest}" with directory "${rel}"`, 'EEXIST');
    }
    if (!opts.copyUIDGID) Object.assign(h, { uid: 0, gid: 0, uname: '', gname: '' });
    yield encodeHeader(h);
    if (h.type === 'file') {
      for await (const c of e.data()) yield c;
      yield padding(h.size ?? 0);
    }
  }
  yield END_OF_ARCHIVE;
}

/**
 * Extracts a tar (plain or gzip) into the directory `loc` (name ''). tsunpack gets the directory as
 * an inherited fd, so it works below exactly the directory we resolved.
 *
 * All or nothing: the whole archive is read, checked and spooled to a temporary file first, so an
 * entry refused late (a ".." name, a dir/non-dir clash, a truncated tar) leaves the container as it
 * was instead of with the entries before it extracted.
 */
export async function extractInto(loc: Location, input: AsyncIterable<Uint8Array>, opts: ExtractOptions): Promise<void> {
  const spool = await mkdtemp(join(opts.spoolDir ?? tmpdir(), 'tsswarm-put-'));
  try {
    const file = join(spool, 'checked.tar');
    await pipeline(Readable.from(filtered(loc.dir, loc.path, input, opts)), createWriteStream(file, { mode: 0o600 }));
    await unpackChecked(loc, createReadStream(file));
  } finally {
    await rm(spool, { recursive: true, force: true });
  }
}

async function unpackChecked(loc: Location, checked: AsyncIterable<Uint8Array>): Promise<void> {
  const child = spawn(tsunpackPath(), plainUnpackArgs('/proc/self/fd/3'), { stdio: ['pipe', 'ignore', 'pipe', loc.dir.fd] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (t: string) => {
    if (stderr.length < 8192) stderr += t;
  });
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  const stdin = child.stdin!;
  stdin.on('error', () => undefined); // EPIPE when tsunpack stops early; its exit status says why
  let filterErr: unknown;
  try {
    for await (const chunk of checked) {
      if (stdin.destroyed) break;
      if (!stdin.write(chunk)) await new Promise<void>((r) => (stdin.once('drain', r), stdin.once('close', r)));
    }
  } catch (e) {
    filterErr = e;
    child.kill('SIGKILL');
  }
  stdin.end();
  const code = await exited;
  if (filterErr !== undefined) throw filterErr;
  const msg = stderr.trim().replace(/^tsunpack: /, '');
  if (code === 2) throw new ArchiveError(`refused to extract into ${loc.path}: ${msg}`, 'EINVAL');
  if (code !== 0) throw new Error(`extracting into ${loc.path} failed: ${msg || `exit ${code}`}`);
}
