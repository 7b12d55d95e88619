// Engine API: /containers/{id}/archive (what `cp` uses), Docker's shape:
//   HEAD ?path=  stat only, in the X-Docker-Container-Path-Stat header (base64 JSON)
//   GET  ?path=  a tar of the path, with the same header
//   PUT  ?path=&noOverwriteDirNonDir=&copyUIDGID=  extracts the tar body into the directory at path
// A running container is reached through /proc/PID/root; a stopped one through a temporary overlay
// mount of its layers and upper dir, made for the request and always unmounted after.
import { execFile } from 'node:child_process';
import { mkdtemp, rmdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { ApiError, HANDLED, badRequest, conflict, notFound, type RequestContext, type Router } from './router.js';
import { ArchiveError, ContainerFs, extractInto, goFileMode, type Location, type PathStat } from '../containers/archive.js';
import type { ContainerRecord } from '../containers/record.js';
import type { Engine } from '../engine.js';

const run = promisify(execFile);
const truthy = (v: string | null): boolean => v === '1' || v === 'true' || v === 'True';

/** One mount per stopped container at a time: two overlays over one upper dir are undefined behaviour. */
const mountLocks = new Map<string, Promise<unknown>>();
function withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
  const prev = mountLocks.get(id) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const tail = next.catch(() => undefined);
  mountLocks.set(id, tail);
  void tail.then(() => {
    if (mountLocks.get(id) === tail) mountLocks.delete(id);
  });
  return next;
}

const running = (c: ContainerRecord): boolean => (c.State.Status === 'running' || c.State.Status === 'paused' || c.State.Status === 'restarting') && c.State.Pid > 0;

/** Runs `fn` with the container's root file system opened. */
async function withRootfs<T>(e: Engine, c: ContainerRecord, fn: (fs: ContainerFs) => Promise<T>): Promise<T> {
  if (c.State.Status === 'removing') throw conflict(`container ${c.Name.replace(/^\//, '')} is marked for removal`);
  if (running(c)) {
    const fs = await ContainerFs.open(`/proc/${c.State.Pid}/root`).catch((err: Error) => {
      throw new ApiError(409, `container ${c.Id.slice(0, 12)} is not reachable (did it just exit?): ${err.message}`);
    });
    try {
      return await fn(fs);
    } finally {
      await fs.close();
    }
  }
  return withLock(c.Id, async () => {
    const dir = e.containers.dir(c.Id);
    const lower = e.images.lowerDirs(c.Image);
    if (lower.length === 0) throw new ApiError(500, `container ${c.Id.slice(0, 12)}: its image has no layers to mount`);
    const mnt = await mkdtemp(join(dir, 'cp-'));
    try {
      // The same overlay the runtime mounts at start (runtime/plan.ts), read-write so PUT lands in upper.
      const data = `lowerdir=${lower.join(':')},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`;
      await run('mount', ['-t', 'overlay', 'overlay', '-o', data, mnt]).catch((err: Error & { stderr?: string }) => {
        throw new Error(`mounting the file system of stopped container ${c.Id.slice(0, 12)} failed: ${(err.stderr ?? err.message).trim()}`);
      });
      try {
        const fs = await ContainerFs.open(mnt);
        try {
          return await fn(fs);
        } finally {
          await fs.close();
        }
      } finally {
        await run('umount', [mnt]).catch(async () => {
          // Busy (should not be: every fd was closed): detach it so the directory can go.
          await run('umount', ['-l', mnt]).catch(() => undefined);
        });
      }
    } finally {
      await rmdir(mnt).catch(() => undefined);
    }
  });
}

function archiveError(err: unknown, path: string, name: string): never {
  if (err instanceof ApiError) throw err;
  if (err instanceof ArchiveError) {
    if (err.code === 'ENOENT') throw notFound(`Could not find the file ${path} in container ${name}`);
    throw badRequest(err.message);
  }
  throw err;
}

/** Docker's PreserveTrailingDotOrSeparator(Join("/", path), path). */
function absPath(p: string): string {
  let abs = posix.join('/', p);
  if ((p.endsWith('/.') || p === '.') && !abs.endsWith('/.')) abs = abs === '/' ? '/.' : `${abs}/.`;
  else if (p.endsWith('/') && !abs.endsWith('/')) abs += '/';
  return abs;
}

/** The stat and the Location of `path`; the last component is followed only for "dir/" and "dir/.". */
async function statPath(fs: ContainerFs, path: string, ref: string): Promise<{ loc: Location; stat: PathStat; isDir: boolean; st: import('node:fs').Stats }> {
  const abs = absPath(path);
  const follow = abs.endsWith('/') || abs.endsWith('/.');
  const loc = await fs.resolve(abs, follow);
  const st = await fs.lstat(loc);
  if (!st) {
    await fs.done(loc);
    throw notFound(`Could not find the file ${path} in container ${ref}`);
  }
  if (follow && !st.isDirectory()) {
    // "file/" or "file/.": the path asserts a directory, as in Docker (ENOTDIR from the lookup).
    await fs.done(loc);
    throw badRequest(`lstat ${path}: not a directory`);
  }
  const base = abs === '/' || abs === '/.' ? '/' : posix.basename(abs.replace(/\/$/, ''));
  const stat: PathStat = { name: base, size: st.size, mode: goFileMode(st), mtime: st.mtime.toISOString(), linkTarget: await fs.linkTarget(loc, st) };
  return { loc, stat, isDir: st.isDirectory(), st };
}

const statHeader = (s: PathStat): string => Buffer.from(JSON.stringify(s)).toString('base64');

export function archiveRoutes(router: Router, e: Engine): void {
  const target = (ctx: RequestContext): { c: ContainerRecord; path: string } => {
    const path = ctx.query.get('path');
    if (!path) throw badRequest('path is required (query parameter path)');
    return { c: e.containers.resolve(ctx.params.id!), path };
  };

  router
    .head('/containers/{id}/archive', async (ctx) => {
      const { c, path } = target(ctx);
      try {
        const stat = await withRootfs(e, c, async (fs) => {
          const r = await statPath(fs, path, ctx.params.id!);
          await fs.done(r.loc);
          return r.stat;
        });
        ctx.res.writeHead(200, { 'X-Docker-Container-Path-Stat': statHeader(stat), 'Content-Type': 'application/json' }).end();
        return HANDLED;
      } catch (err) {
        // A HEAD answer has no body: the status is all a client sees.
        return archiveError(err, path, ctx.params.id!);
      }
    })
    .get('/containers/{id}/archive', async (ctx) => {
      const { c, path } = target(ctx);
      try {
        await withRootfs(e, c, async (fs) => {
          const r = await statPath(fs, path, ctx.params.id!);
          try {
            // Docker's rebase: entries start with the requested name, not the resolved one.
            const abs = absPath(path);
            const top = abs.endsWith('/.') ? '.' : abs === '/' ? '.' : posix.basename(abs.replace(/\/$/, ''));
            ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar', 'X-Docker-Container-Path-Stat': statHeader(r.stat) });
            await fs.writeTar(r.loc, r.st, top, ctx.res);
          } finally {
            await fs.done(r.loc);
          }
        });
        return HANDLED;
      } catch (err) {
        if (ctx.res.headersSent) {
          // Mid-stream: the only way to tell the client is to cut the stream short.
          ctx.res.destroy(err instanceof Error ? err : new Error(String(err)));
          return HANDLED;
        }
        return archiveError(err, path, ctx.params.id!);
      }
    })
    .add('PUT', '/containers/{id}/archive', async (ctx) => {
      const { c, path } = target(ctx);
      if (c.HostConfig.ReadonlyRootfs) throw new ApiError(403, 'container rootfs is marked read-only');
      try {
        await withRootfs(e, c, async (fs) => {
          // The destination's last component is followed too: extracting "into" a symlink to a dir works.
          const loc = await fs.resolve(absPath(path), true);
          try {
            const st = await fs.lstat(loc);
            if (!st) throw notFound(`Could not find the file ${path} in container ${ctx.params.id!}`);
            if (loc.name !== '' || !st.isDirectory()) throw badRequest(`extraction point is not a directory: ${path} in container ${ctx.params.id!}`);
            await extractInto(loc, ctx.req, { copyUIDGID: truthy(ctx.query.get('copyUIDGID')), noOverwriteDirNonDir: truthy(ctx.query.get('noOverwriteDirNonDir')) });
          } finally {
            await fs.done(loc);
          }
        });
      } catch (err) {
        // The body may be unread (an early refusal): drain it so the client sees the answer.
        ctx.req.resume();
        return archiveError(err, path, ctx.params.id!);
      }
      ctx.res.writeHead(200, { 'Content-Length': 0 }).end();
      return HANDLED;
    });
}
