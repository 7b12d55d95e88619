// `tsswarm cp`: copies files between a container and the local file system, with Docker's rules
// (docker/cli cp.go and moby pkg/archive copy.go): the daemon sends or takes a tar of one path
// (/containers/{id}/archive), and the client renames the tar's top entry so that the copy lands
// where `cp -a` would put it (file → file, file → dir, dir → new dir, `SRC/.` → contents).
import { constants as C, type Stats } from 'node:fs';
import { chmod, link, lstat, lutimes, mkdir, open, readdir, readlink, realpath, stat, symlink, unlink, utimes } from 'node:fs/promises';
import { isAbsolute, join, posix } from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { IncomingMessage } from 'node:http';
import { TarWriter, readTar, type TarHeader } from '../../lib/tar/index.js';
import { humanSize } from '../../lib/units.js';
import { DaemonError } from '../client.js';
import { ExitError, body, bool, client, needArgs, parse } from './common.js';

const USAGE = `tsswarm cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-
	tsswarm cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH`;

/** Docker's ContainerPathStat; mode in Go os.FileMode bits. */
interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}
const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 1 << 27;
const MODE_TYPE = (2 ** 31 + (1 << 27) + (1 << 26) + (1 << 25) + (1 << 24) + (1 << 21) + (1 << 19)) >>> 0;
const isDirMode = (m: number): boolean => (m & MODE_DIR) !== 0;
const isLinkMode = (m: number): boolean => (m & MODE_SYMLINK) !== 0;

interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  rebaseName?: string;
}

/** "container:path" → [container, path]; local paths (absolute, or "./x:y") → ['', arg]. */
export function splitCpArg(arg: string): [string, string] {
  if (isAbsolute(arg)) return ['', arg];
  const i = arg.indexOf(':');
  if (i < 0 || arg.slice(0, i).startsWith('.')) return ['', arg];
  return [arg.slice(0, i), arg.slice(i + 1)];
}

const hasTrailingSep = (p: string): boolean => p.length > 0 && p.endsWith('/');
const specifiesCurrentDir = (p: string): boolean => posix.basename(p) === '.';
const assertsDirectory = (p: string): boolean => hasTrailingSep(p) || specifiesCurrentDir(p);

/** moby SplitPathDirEntry: "a/b/" → ["a", "b"], "a/b/." → ["a/b", "."]. */
export function splitPathDirEntry(p: string): [string, string] {
  let cleaned = posix.normalize(p);
  if (cleaned.length > 1) cleaned = cleaned.replace(/\/+$/, '');
  if (specifiesCurrentDir(p)) cleaned += '/.';
  return [posix.dirname(cleaned), posix.basename(cleaned) || '/'];
}

/** Renames the leading `from` component of a tar name to `to` (moby RebaseArchiveEntries). */
export function rebaseName(name: string, from: string, to: string): string {
  const n = name.replace(/^\/+/, '');
  if (from === '.') return n === '.' || n === './' ? `${to}/` : n.startsWith('./') ? `${to}/${n.slice(2)}` : n;
  if (n === from || n === `${from}/`) return n.replace(from, to);
  if (n.startsWith(`${from}/`)) return to + n.slice(from.length);
  return n;
}

/** A local error as Go's os package words it ("lstat /x: no such file or directory"). */
function goError(op: string, path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const words: Record<string, string> = { ENOENT: 'no such file or directory', ENOTDIR: 'not a directory', EACCES: 'permission denied', EEXIST: 'file exists', ELOOP: 'too many levels of symbolic links' };
  return new ExitError(`${op} ${path}: ${(code && words[code]) ?? (err as Error).message}`, 1);
}

/** moby PrepareArchiveCopy: where to extract, and how to rename the tar's top entry on the way. */
export function prepareArchiveCopy(src: CopyInfo, dst: CopyInfo): { dstDir: string; rebase?: [string, string] } {
  const [dstDir, dstBase] = splitPathDirEntry(dst.path);
  let srcBase = src.rebaseName ?? splitPathDirEntry(src.path)[1];
  // The root's tar (`cp c:/ dir`) is named "./…", as for "dir/.".
  if (srcBase === '/') srcBase = '.';
  if (dst.exists && dst.isDir) return { dstDir: dst.path };
  if (dst.exists && src.isDir) throw new ExitError('cannot copy directory', 1);
  if (dst.exists || src.isDir) return { dstDir, rebase: [srcBase, dstBase] };
  if (assertsDirectory(dst.path)) throw new ExitError('no such directory', 1);
  return { dstDir, rebase: [srcBase, dstBase] };
}

/** moby CopyInfoDestinationPath: follows symlinks at the destination; its parent must exist. */
async function localDestination(path: string): Promise<CopyInfo> {
  const original = path;
  let st: Stats | undefined = await lstat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw goError('lstat', path, e);
    return undefined;
  });
  for (let n = 0; st?.isSymbolicLink(); n++) {
    if (n > 10) throw new ExitError(`too many symlinks in ${original}`, 1);
    const target = await readlink(path);
    path = isAbsolute(target) ? target : join(splitPathDirEntry(path)[0], target);
    st = await lstat(path).catch(() => undefined);
  }
  if (st) return { path, exists: true, isDir: st.isDirectory() };
  const parent = splitPathDirEntry(path)[0];
  const pst = await stat(parent).catch((e: unknown) => {
    throw goError('stat', parent, e);
  });
  if (!pst.isDirectory()) throw new ExitError('not a directory', 1);
  return { path, exists: false, isDir: false };
}

/** moby CopyInfoSourcePath (with ResolveHostSourcePath and GetRebaseName). */
async function localSource(path: string, followLink: boolean): Promise<CopyInfo> {
  let resolved: string;
  let rebase: string | undefined;
  if (followLink) {
    resolved = await realpath(path).catch((e: unknown) => {
      throw goError('lstat', path, e);
    });
    if (specifiesCurrentDir(path) && !specifiesCurrentDir(resolved)) resolved += '/.';
    if (hasTrailingSep(path) && !hasTrailingSep(resolved)) resolved += '/';
    if (posix.basename(path) !== posix.basename(resolved)) rebase = posix.basename(path);
  } else {
    // Symlinks before the last separator are followed; the last component is taken as it is.
    const cut = path.lastIndexOf('/') + 1;
    const rdir = await realpath(path.slice(0, cut) || '.').catch((e: unknown) => {
      throw goError('lstat', path, e);
    });
    resolved = `${rdir === '/' ? '' : rdir}/${path.slice(cut)}`;
    if (hasTrailingSep(path) && posix.basename(path) !== posix.basename(resolved)) rebase = posix.basename(path);
  }
  const st = await lstat(resolved).catch((e: unknown) => {
    throw goError('lstat', path, e);
  });
  return { path: resolved, exists: true, isDir: st.isDirectory(), ...(rebase ? { rebaseName: rebase } : {}) };
}

/** A tar of a local path, its top entry named `top`; counts the file bytes for the summary line. */
function localTar(path: string, top: string, counter: { bytes: number }): PassThrough {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  const w = new TarWriter(out);
  const seen = new Map<string, string>();
  const add = async (p: string, name: string, st: Stats): Promise<void> => {
    const h: TarHeader = { name, type: 'file', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
    if (st.isDirectory()) {
      await w.add({ ...h, type: 'dir', name: name.endsWith('/') ? name : `${name}/` });
      for (const n of (await readdir(p)).sort()) {
        const cst = await lstat(join(p, n)).catch(() => undefined);
        if (cst) await add(join(p, n), `${name.replace(/\/$/, '')}/${n}`, cst);
      }
      return;
    }
    if (st.nlink > 1) {
      const first = seen.get(`${st.dev}:${st.ino}`);
      if (first) return w.add({ ...h, type: 'hardlink', linkname: first });
      seen.set(`${st.dev}:${st.ino}`, name);
    }
    if (st.isSymbolicLink()) return w.add({ ...h, type: 'symlink', linkname: await readlink(p) });
    if (st.isFIFO()) return w.add({ ...h, type: 'fifo' });
    if (!st.isFile()) return; // devices and sockets are not copied from the client side
    const fh = await open(p, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
    try {
      const fst = await fh.stat();
      counter.bytes += fst.size;
      await w.add({ ...h, size: fst.size }, readAll(fh, fst.size));
    } finally {
      await fh.close();
    }
  };
  void (async () => {
    try {
      const base = path.endsWith('/.') ? path.slice(0, -2) || '/' : path.replace(/\/+$/, '') || '/';
      await add(base, top === '.' ? '.' : top, await lstat(base));
      await w.finish();
    } catch (err) {
      out.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  })();
  return out;
}

async function* readAll(fh: import('node:fs/promises').FileHandle, size: number): AsyncGenerator<Uint8Array> {
  let pos = 0;
  while (pos < size) {
    const buf = Buffer.alloc(Math.min(1 << 20, size - pos));
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) {
      yield Buffer.alloc(size - pos); // shrank while being read: keep the tar well-formed
      return;
    }
    pos += bytesRead;
    yield buf.subarray(0, bytesRead);
  }
}

/** Normalises a tar name; refuses names that climb out of the destination. */
function cleanName(name: string): string {
  const parts: string[] = [];
  for (const p of name.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') throw new ExitError(`refusing to extract "${name}": it would land outside the destination`, 1);
    parts.push(p);
  }
  return parts.join('/');
}

/** Makes the parents of `rel` below `dir`, refusing to pass through a symlink (the tar may have made it). */
async function parentsOf(dir: string, rel: string): Promise<void> {
  const parts = rel.split('/').slice(0, -1);
  let p = dir;
  for (const part of parts) {
    p = join(p, part);
    const st = await lstat(p).catch(() => undefined);
    if (!st) await mkdir(p, { mode: 0o755 });
    else if (st.isSymbolicLink()) throw new ExitError(`refusing to extract below ${p}: it is a symbolic link`, 1);
    else if (!st.isDirectory()) throw goError('mkdir', p, Object.assign(new Error(), { code: 'ENOTDIR' }));
  }
}

/** Extracts a tar into a local directory like moby's Untar with NoLchown and NoOverwriteDirNonDir. */
async function extractLocal(input: AsyncIterable<Uint8Array>, dstDir: string, rebase: [string, string] | undefined, counter: { bytes: number }): Promise<void> {
  const dirTimes: Array<[string, number]> = [];
  for await (const e of readTar(input)) {
    if (e.skip || e.h.type === 'char' || e.h.type === 'block' || e.h.type === 'fifo') continue;
    const rel = cleanName(rebase ? rebaseName(e.h.name, rebase[0], rebase[1]) : e.h.name);
    const target = rel ? join(dstDir, rel) : dstDir;
    if (rel) await parentsOf(dstDir, rel);
    const cur = await lstat(target).catch(() => undefined);
    const mode = e.h.mode ?? 0o644;
    const mtime = e.h.mtime ?? 0;
    if (e.h.type === 'dir') {
      if (cur && !cur.isDirectory()) throw new ExitError(`cannot overwrite non-directory "${target}" with directory "${rel}"`, 1);
      if (!cur) await mkdir(target, { mode: 0o700 });
      await chmod(target, mode);
      dirTimes.push([target, mtime]);
      continue;
    }
    if (cur?.isDirectory()) throw new ExitError(`cannot overwrite directory "${target}" with non-directory "${rel}"`, 1);
    if (cur) await unlink(target);
    if (e.h.type === 'symlink') {
      await symlink(e.h.linkname ?? '', target);
      await lutimes(target, mtime, mtime).catch(() => undefined);
    } else if (e.h.type === 'hardlink') {
      const from = cleanName(rebase ? rebaseName(e.h.linkname ?? '', rebase[0], rebase[1]) : (e.h.linkname ?? ''));
      await parentsOf(dstDir, from);
      await link(join(dstDir, from), target);
    } else {
      const fh = await open(target, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
      try {
        for await (const c of e.data()) {
          await fh.write(c);
          counter.bytes += c.length;
        }
        await fh.chmod(mode);
        await fh.utimes(mtime, mtime);
      } finally {
        await fh.close();
      }
    }
  }
  // Directory times last: extracting into a directory changes its mtime.
  for (const [p, t] of dirTimes.reverse()) await utimes(p, t, t).catch(() => undefined);
}

/** HEAD /containers/{id}/archive: the path's stat, or undefined when it does not exist. */
async function statPath(container: string, path: string): Promise<PathStat | undefined> {
  const res = await client().raw(`/containers/${encodeURIComponent(container)}/archive`, { method: 'HEAD', query: { path } });
  res.resume();
  const status = res.statusCode ?? 0;
  if (status === 404) {
    // No body on a HEAD: a missing container and a missing path both answer 404; ask which.
    await client().call(`/containers/${encodeURIComponent(container)}/json`);
    return undefined;
  }
  if (status >= 400) throw new DaemonError(status, `stat ${container}:${path}: HTTP ${status}`);
  const h = res.headers['x-docker-container-path-stat'];
  if (typeof h !== 'string') throw new Error(`stat ${container}:${path}: the daemon sent no X-Docker-Container-Path-Stat header`);
  return JSON.parse(Buffer.from(h, 'base64').toString('utf8')) as PathStat;
}

async function copyFromContainer(container: string, srcPath: string, dstPath: string, followLink: boolean, counter: { bytes: number }): Promise<void> {
  let rebase: string | undefined;
  let path = srcPath;
  if (followLink) {
    const st = await statPath(container, srcPath);
    if (st && isLinkMode(st.mode)) {
      const target = posix.isAbsolute(st.linkTarget) ? st.linkTarget : posix.join(splitPathDirEntry(srcPath)[0], st.linkTarget);
      if (posix.basename(srcPath) !== posix.basename(target)) rebase = posix.basename(srcPath);
      path = target;
    }
  }
  const res = await client().raw(`/containers/${encodeURIComponent(container)}/archive`, { query: { path } });
  if ((res.statusCode ?? 0) >= 400) await body(res);
  if (dstPath === '-') {
    await pipeline(res, process.stdout);
    return;
  }
  const h = res.headers['x-docker-container-path-stat'];
  const st = typeof h === 'string' ? (JSON.parse(Buffer.from(h, 'base64').toString('utf8')) as PathStat) : undefined;
  const src: CopyInfo = { path, exists: true, isDir: st ? isDirMode(st.mode) : false };
  let input: AsyncIterable<Uint8Array> = res;
  // -L: the tar is named after the link's target; give it the name that was asked for first.
  const [, srcBase] = splitPathDirEntry(path);
  if (rebase) input = renamed(res, srcBase, rebase);
  if (rebase) src.rebaseName = rebase;
  const dst = await localDestination(dstPath).catch((e: unknown) => {
    res.destroy();
    throw e;
  });
  let plan: ReturnType<typeof prepareArchiveCopy>;
  try {
    plan = prepareArchiveCopy(src, dst);
  } catch (e) {
    res.destroy();
    throw e;
  }
  await extractLocal(input, plan.dstDir, plan.rebase, counter);
}

/** Renames the top entry of a tar stream as it passes (for -L). */
async function* renamed(src: IncomingMessage, from: string, to: string): AsyncGenerator<Uint8Array> {
  const { encodeHeader, padding, END_OF_ARCHIVE } = await import('../../lib/tar/index.js');
  for await (const e of readTar(src)) {
    if (e.skip) continue;
    const h = { ...e.h, name: rebaseName(e.h.name, from, to) };
    if (h.type === 'hardlink' && h.linkname) h.linkname = rebaseName(h.linkname, from, to);
    yield encodeHeader(h);
    if (h.type === 'file') {
      for await (const c of e.data()) yield c;
      yield padding(h.size ?? 0);
    }
  }
  yield END_OF_ARCHIVE;
}

async function copyToContainer(srcPath: string, container: string, dstPath: string, opts: { followLink: boolean; copyUIDGID: boolean }, counter: { bytes: number }): Promise<void> {
  const dst: CopyInfo = { path: dstPath, exists: false, isDir: false };
  // As Docker: a failed stat is not fatal (the parent may exist); the PUT then tells what is wrong.
  let st = await statPath(container, dstPath).catch((e: unknown) => {
    if (e instanceof DaemonError && e.status === 404) throw e; // no such container
    return undefined;
  });
  if (st && isLinkMode(st.mode)) {
    const target = posix.isAbsolute(st.linkTarget) ? st.linkTarget : posix.join(splitPathDirEntry(dstPath)[0], st.linkTarget);
    dst.path = target;
    st = await statPath(container, target).catch((e: unknown) => {
      if (e instanceof DaemonError && e.status === 404) throw e;
      return undefined;
    });
  }
  if (st) {
    // Only directories and regular files can be written to (Docker's ValidateOutputPathFileMode).
    if ((st.mode & MODE_TYPE) !== 0 && !isDirMode(st.mode)) throw new ExitError(`destination "${container}:${dstPath}" must be a directory or a regular file`, 1);
    dst.exists = true;
    dst.isDir = isDirMode(st.mode);
  }
  let content: NodeJS.ReadableStream;
  let dstDir: string;
  if (srcPath === '-') {
    if (!dst.isDir) throw new ExitError(`destination "${container}:${dstPath}" must be a directory`, 1);
    content = process.stdin;
    dstDir = dst.path;
  } else {
    const src = await localSource(srcPath, opts.followLink);
    const plan = prepareArchiveCopy(src, dst);
    const top = plan.rebase ? plan.rebase[1] : (src.rebaseName ?? splitPathDirEntry(src.path)[1]);
    content = localTar(src.path, top, counter);
    dstDir = plan.dstDir;
  }
  const res = await client().rawStream(
    `/containers/${encodeURIComponent(container)}/archive`,
    content,
    { path: dstDir, noOverwriteDirNonDir: 'true', copyUIDGID: opts.copyUIDGID ? 'true' : undefined },
    { method: 'PUT', contentType: 'application/x-tar' },
  );
  await body(res);
}

export default async function cp(argv: string[]): Promise<number> {
  const p = parse(argv, USAGE, [
    { name: 'archive', short: 'a', type: 'bool', description: 'Archive mode (copy all uid/gid information)' },
    { name: 'follow-link', short: 'L', type: 'bool', description: 'Always follow symbol link in SRC_PATH' },
    { name: 'quiet', short: 'q', type: 'bool', description: 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached' },
  ]);
  if (!p) return 0;
  needArgs(p, 2, 'cp', USAGE);
  if (p.args.length > 2) throw new ExitError(`"tsswarm cp" requires exactly 2 arguments.\nSee 'tsswarm cp --help'.\n\nUsage:  ${USAGE}`, 1);
  const [srcArg, dstArg] = p.args as [string, string];
  const [srcContainer, srcPath] = splitCpArg(srcArg);
  const [dstContainer, dstPath] = splitCpArg(dstArg);
  if (srcContainer && dstContainer) throw new ExitError('copying between containers is not supported', 1);
  if (!srcContainer && !dstContainer) throw new ExitError('must specify at least one container source', 1);
  if (srcContainer && srcPath === '') throw new ExitError('filepath can not be empty', 1);
  if (dstContainer && dstPath === '') throw new ExitError('filepath can not be empty', 1);
  const counter = { bytes: 0 };
  try {
    if (srcContainer) await copyFromContainer(srcContainer, srcPath, dstPath, bool(p, 'follow-link'), counter);
    else await copyToContainer(srcPath, dstContainer, dstPath, { followLink: bool(p, 'follow-link'), copyUIDGID: bool(p, 'archive') }, counter);
  } catch (e) {
    if (e instanceof DaemonError) {
      process.stderr.write(`Error response from daemon: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  if (!bool(p, 'quiet') && process.stderr.isTTY && srcPath !== '-' && dstPath !== '-') {
    process.stderr.write(`Successfully copied ${humanSize(counter.bytes)} to ${dstContainer ? `${dstContainer}:${dstPath}` : dstPath}\n`);
  }
  return 0;
}

