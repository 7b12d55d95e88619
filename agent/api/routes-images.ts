// Engine API: /images/*. Names may contain "/", so clients send them URL-encoded in one segment.
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ApiError, HANDLED, badRequest, conflict, notFound, type Router } from './router.js';
import type { Engine } from '../engine.js';
import {
  ImageConflictError,
  InvalidImageError,
  InvalidReferenceError,
  NoSuchImageError,
  inspectImage,
  imageHistory,
  listImages,
  loadArchive,
  saveArchive,
} from '../../image/index.js';
import { pullImage } from '../../image/registry/pull.js';
import { pushImage } from '../../image/registry/push.js';
import { FilterError, parseFilters } from '../../lib/filters.js';
import { registryAuth } from './routes-auth.js';

/** Maps the image library's errors to API statuses. */
export function imageError(err: unknown): never {
  if (err instanceof ApiError) throw err;
  if (err instanceof NoSuchImageError) throw notFound(err.message);
  if (err instanceof ImageConflictError) throw conflict(err.message);
  if (err instanceof InvalidImageError || err instanceof InvalidReferenceError || err instanceof FilterError) throw badRequest(err.message);
  throw err;
}

const truthy = (v: string | null): boolean => v === '1' || v === 'true';

export function imageRoutes(router: Router, e: Engine): void {
  const images = e.images;
  const guard =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      try {
        return await fn(...a);
      } catch (err) {
        imageError(err);
      }
    };

  router
    .get(
      '/images/json',
      guard(async ({ query }) => listImages(images, { all: truthy(query.get('all')), filters: parseFilters(query.get('filters')) })),
    )
    .post(
      '/images/load',
      guard(async ({ req, res }) => {
        const dir = await images.tempDir('load-');
        const file = join(dir, 'archive.tar');
        try {
          await pipeline(req, createWriteStream(file));
          const r = await loadArchive(images, file);
          for (const m of r.messages) e.events.publish('image', 'load', m.replace(/^Loaded image(?: ID)?: /, ''));
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(r.messages.map((m) => JSON.stringify({ stream: `${m}\n` }) + '\n').join(''));
          return HANDLED;
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }),
    )
    .get(
      '/images/get',
      guard(async ({ query, res }) => {
        const names = query.getAll('names');
        if (names.length === 0) throw badRequest('save: give at least one image name (query parameter names)');
        const dir = await images.tempDir('save-');
        const file = join(dir, 'archive.tar');
        try {
          await saveArchive(images, names, file);
          for (const n of names) e.events.publish('image', 'save', n);
          res.writeHead(200, { 'Content-Type': 'application/x-tar' });
          await pipeline(createReadStream(file), res);
          return HANDLED;
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }),
    )
    .post(
      '/images/create',
      guard(async ({ query, req, res }) => {
        const from = query.get('fromImage');
        if (!from) throw badRequest('pull: fromImage is required');
        const tag = query.get('tag');
        const ref = tag ? (tag.startsWith('sha256:') ? `${from}@${tag}` : `${from}:${tag}`) : from;
        const credentials = registryAuth(req.headers['x-registry-auth']);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        try {
          const r = await pullImage(images, ref, {
            ...(credentials ? { credentials } : {}),
            insecureRegistries: (process.env.TSSWARM_INSECURE_REGISTRIES ?? '').split(',').filter(Boolean),
            onProgress: (ev) => res.write(JSON.stringify({ status: ev.status, id: ev.id, progressDetail: ev.total !== undefined ? { current: ev.current, total: ev.total } : {} }) + '\n'),
          });
          e.events.publish('image', 'pull', ref);
          res.write(JSON.stringify({ status: `Digest: ${r.digest}` }) + '\n');
          res.write(JSON.stringify({ status: r.upToDate ? `Status: Image is up to date for ${ref}` : `Status: Downloaded newer image for ${ref}` }) + '\n');
        } catch (err) {
          res.write(JSON.stringify({ error: (err as Error).message, errorDetail: { message: (err as Error).message } }) + '\n');
        }
        res.end();
        return HANDLED;
      }),
    )
    .post(
      '/images/{name}/push',
      guard(async ({ params, query, req, res }) => {
        const tag = query.get('tag');
        const ref = tag ? `${params.name!}:${tag}` : params.name!;
        images.get(ref);
        const credentials = registryAuth(req.headers['x-registry-auth']);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        try {
          const r = await pushImage(images, ref, {
            ...(credentials ? { credentials } : {}),
            insecureRegistries: (process.env.TSSWARM_INSECURE_REGISTRIES ?? '').split(',').filter(Boolean),
            onProgress: (ev) => res.write(JSON.stringify({ status: ev.status, id: ev.id }) + '\n'),
          });
          e.events.publish('image', 'push', ref);
          res.write(JSON.stringify({ status: `${tag ?? 'latest'}: digest: ${r.digest} size: ${r.size}`, aux: { Digest: r.digest, Size: r.size } }) + '\n');
        } catch (err) {
          res.write(JSON.stringify({ error: (err as Error).message, errorDetail: { message: (err as Error).message } }) + '\n');
        }
        res.end();
        return HANDLED;
      }),
    )
    .post(
      '/images/prune',
      guard(async ({ query }) => {
        const f = parseFilters(query.get('filters'));
        const all = (f.dangling ?? []).includes('false');
        return images.prune({ all });
      }),
    )
    .get('/images/{name}/json', guard(async ({ params }) => inspectImage(images, params.name!)))
    .get('/images/{name}/history', guard(async ({ params }) => imageHistory(images, params.name!)))
    .post(
      '/images/{name}/tag',
      guard(async ({ params, query, res }) => {
        const repo = query.get('repo');
        if (!repo) throw badRequest('tag: repo is required');
        const tag = query.get('tag');
        await images.tag(params.name!, tag ? `${repo}:${tag}` : repo);
        e.events.publish('image', 'tag', images.get(params.name!).id, { name: tag ? `${repo}:${tag}` : repo });
        res.writeHead(201).end();
        return HANDLED;
      }),
    )
    .delete(
      '/images/{name}',
      guard(async ({ params, query }) => {
        const name = params.name!;
        const rec = images.get(name);
        const users = images.containersUsing(rec.id).filter((id) => e.containers.tryGet(id));
        const force = truthy(query.get('force'));
        if (users.length && !force) {
          const running = users.find((id) => e.containers.isRunning(id));
          throw conflict(`conflict: unable to remove repository reference "${name}" (must force) - container ${(running ?? users[0]!).slice(0, 12)} is using its referenced image ${rec.id.slice(7, 19)}`);
        }
        const out = await images.remove(name, { force });
        for (const r of out as { Untagged?: string; Deleted?: string }[]) e.events.publish('image', r.Untagged ? 'untag' : 'delete', r.Untagged ? rec.id : r.Deleted!, r.Untagged ? { name: r.Untagged } : { name });
        return out;
      }),
    );
}
