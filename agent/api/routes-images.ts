// Engine API: /images/*. Names may contain "/" (team/app, reg:5000/ns/app:v1): routes take the rest of
// the path as the name ({name*}), as Docker's do.
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ServerResponse } from 'node:http';
import { HANDLED, badRequest, type Router, truthy } from './router.js';
import type { Engine } from '../engine.js';
import { inspectImage, imageHistory, listImages } from '../../image/index.js';
import { parseFilters } from '../../lib/filters.js';
import { registryAuth } from './routes-auth.js';
import { importFromSrc } from './routes-containers-extra.js';


export function imageRoutes(router: Router, e: Engine): void {
  const images = e.images;
  const service = e.imageService;

  const saveImages = async (names: string[], res: ServerResponse): Promise<typeof HANDLED> => {
    if (names.length === 0) throw badRequest('save: give at least one image name (query parameter names)');
    const dir = await images.tempDir('save-');
    const file = join(dir, 'archive.tar');
    try {
      await service.save(names, file);
      res.writeHead(200, { 'Content-Type': 'application/x-tar' });
      await pipeline(createReadStream(file), res);
      return HANDLED;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };

  router
    .get(
      '/images/json',
      async ({ query }) => listImages(images, { all: truthy(query.get('all')), filters: parseFilters(query.get('filters')) }),
    )
    .post(
      '/images/load',
      async ({ req, res }) => {
        const dir = await images.tempDir('load-');
        const file = join(dir, 'archive.tar');
        try {
          await pipeline(req, createWriteStream(file));
          const r = await service.load(file);
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(r.messages.map((m) => JSON.stringify({ stream: `${m}\n` }) + '\n').join(''));
          return HANDLED;
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    )
    .get('/images/get', async ({ query, res }) => saveImages(query.getAll('names'), res))
    // One image: the name may hold slashes, so it is the rest of the path (docker-py's get_image).
    .get('/images/{name*}/get', async ({ params, res }) => saveImages([params.name!], res))
    .post(
      '/images/create',
      async ({ query, req, res }) => {
        if (query.get('fromSrc') !== null) return importFromSrc(e, query, req, res);
        const from = query.get('fromImage');
        if (!from) throw badRequest('pull: fromImage is required');
        const tag = query.get('tag');
        const ref = tag ? (tag.startsWith('sha256:') ? `${from}@${tag}` : `${from}:${tag}`) : from;
        const credentials = registryAuth(req.headers['x-registry-auth']);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        try {
          const r = await service.pull(ref, {
            ...(credentials ? { credentials } : {}),
            insecureRegistries: (process.env.TSSWARM_INSECURE_REGISTRIES ?? '').split(',').filter(Boolean),
            onProgress: (ev) => res.write(JSON.stringify({ status: ev.status, id: ev.id, progressDetail: ev.total !== undefined ? { current: ev.current, total: ev.total } : {} }) + '\n'),
          });
          res.write(JSON.stringify({ status: `Digest: ${r.digest}` }) + '\n');
          res.write(JSON.stringify({ status: r.upToDate ? `Status: Image is up to date for ${ref}` : `Status: Downloaded newer image for ${ref}` }) + '\n');
        } catch (err) {
          res.write(JSON.stringify({ error: (err as Error).message, errorDetail: { message: (err as Error).message } }) + '\n');
        }
        res.end();
        return HANDLED;
      },
    )
    .post(
      '/images/{name*}/push',
      async ({ params, query, req, res }) => {
        const tag = query.get('tag');
        const ref = tag ? `${params.name!}:${tag}` : params.name!;
        // Refuse an unknown image with a 404 before the streamed 200 begins.
        images.get(ref);
        const credentials = registryAuth(req.headers['x-registry-auth']);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        try {
          const r = await service.push(ref, {
            ...(credentials ? { credentials } : {}),
            insecureRegistries: (process.env.TSSWARM_INSECURE_REGISTRIES ?? '').split(',').filter(Boolean),
            onProgress: (ev) => res.write(JSON.stringify({ status: ev.status, id: ev.id }) + '\n'),
          });
          res.write(JSON.stringify({ status: `${tag ?? 'latest'}: digest: ${r.digest} size: ${r.size}`, aux: { Digest: r.digest, Size: r.size } }) + '\n');
        } catch (err) {
          res.write(JSON.stringify({ error: (err as Error).message, errorDetail: { message: (err as Error).message } }) + '\n');
        }
        res.end();
        return HANDLED;
      },
    )
    .post(
      '/images/prune',
      async ({ query }) => {
        const f = parseFilters(query.get('filters'));
        const all = (f.dangling ?? []).includes('false');
        return images.prune({ all });
      },
    )
    .get('/images/{name*}/json', async ({ params }) => inspectImage(images, params.name!))
    .get('/images/{name*}/history', async ({ params }) => imageHistory(images, params.name!))
    .post(
      '/images/{name*}/tag',
      async ({ params, query, res }) => {
        const repo = query.get('repo');
        if (!repo) throw badRequest('tag: repo is required');
        const tag = query.get('tag');
        await service.tag(params.name!, tag ? `${repo}:${tag}` : repo);
        res.writeHead(201).end();
        return HANDLED;
      },
    )
    .delete(
      '/images/{name*}',
      async ({ params, query }) => {
        return service.remove(params.name!, { force: truthy(query.get('force')) });
      },
    );
}
