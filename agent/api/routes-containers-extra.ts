// Engine API: the container verbs of issue 13 — update, commit, diff (changes), export — and image
// import (POST /images/create?fromSrc=-, reached through importFromSrc from the images route).
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HANDLED, badRequest, type Router, truthy } from './router.js';
import type { Engine } from '../engine.js';
import { parseUpdateBody, UpdateError } from '../containers/update.js';
import { upperChanges } from '../containers/rootfs-changes.js';
import { commitContainer, exportRoot, importTar } from '../containers/snapshot.js';
import { ChangeError, applyChanges, changesOf } from '../containers/image-changes.js';
import { ContainerConfigSchema, type ContainerConfig } from '../../image/schemas.js';
import { describeIssues } from '../../api/containers.js';


/** "repo" + "tag" query values as one reference ("repo:tag"); none when repo is empty. */
function refOf(q: URLSearchParams): string | undefined {
  const repo = q.get('repo');
  if (!repo) return undefined;
  const tag = q.get('tag');
  return tag ? `${repo}:${tag}` : repo;
}

function changesFn(q: URLSearchParams): (c: ContainerConfig) => ContainerConfig {
  const lines = changesOf(q);
  // Checked before anything is written, so a bad change refuses the whole request.
  try {
    applyChanges({}, lines);
  } catch (e) {
    if (e instanceof ChangeError) throw badRequest(e.message);
    throw e;
  }
  return (c) => applyChanges(c, lines);
}

export function containerExtraRoutes(router: Router, e: Engine): void {
  const cs = e.containers;
  router
    .post('/containers/{id}/update', async ({ params, json }) => {
      let body;
      try {
        body = parseUpdateBody(await json());
      } catch (err) {
        if (err instanceof UpdateError) throw badRequest(err.message);
        throw err;
      }
      return cs.update(params.id!, body);
    })
    .get('/containers/{id}/changes', async ({ params }) => {
      const c = cs.resolve(params.id!);
      const changes = await upperChanges(join(cs.dir(c.Id), 'upper'), e.images.lowerDirs(c.Image));
      return changes.length ? changes : null;
    })
    .get('/containers/{id}/export', async ({ params, res }) => {
      const c = cs.resolve(params.id!);
      await exportRoot(e.images, c, join(cs.dir(c.Id), 'upper'), cs.dir(c.Id), async (tar) => {
        res.writeHead(200, { 'Content-Type': 'application/x-tar' });
        await pipeline(Readable.from(tar), res);
      });
      return HANDLED;
    })
    .post('/commit', async ({ query, json }) => {
      const ref = query.get('container');
      if (!ref) throw badRequest('commit: the container query parameter is required');
      const c = cs.resolve(ref);
      const raw = await json();
      let config: ContainerConfig | undefined;
      if (raw !== undefined && raw !== null) {
        const r = ContainerConfigSchema.safeParse(raw);
        if (!r.success) throw badRequest(`commit: invalid config in the body: ${describeIssues(r.error)}`);
        config = Object.fromEntries(Object.entries(r.data).filter(([, v]) => v !== null && v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0)));
      }
      const changes = changesFn(query);
      // Docker pauses by default so the layer is a consistent snapshot.
      const pause = query.get('pause') === null ? true : truthy(query.get('pause'));
      const paused = pause && c.State.Status === 'running';
      if (paused) await cs.pause(c.Id);
      try {
        const tag = refOf(query);
        const id = await commitContainer(e.images, c, join(cs.dir(c.Id), 'upper'), cs.dir(c.Id), {
          ...(tag ? { tag } : {}),
          ...(query.get('comment') ? { comment: query.get('comment')! } : {}),
          ...(query.get('author') ? { author: query.get('author')! } : {}),
          ...(config ? { config } : {}),
          changes,
        });
        cs.bus.publish('container', 'commit', c.Id, { comment: query.get('comment') ?? '', imageID: id, imageRef: tag ?? '', name: c.Name });
        return { Id: id };
      } finally {
        if (paused) await cs.unpause(c.Id).catch(() => undefined);
      }
    });
}

/** POST /images/create?fromSrc=-: the body is the tar; answered as Docker's progress stream. */
export async function importFromSrc(e: Engine, query: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<typeof HANDLED> {
  if (query.get('fromSrc') !== '-') throw badRequest(`import: fromSrc=${query.get('fromSrc')} is not supported; send the archive as the body with fromSrc=-`);
  const changes = changesFn(query);
  const tag = refOf(query);
  const message = query.get('message') ?? '';
  const id = await importTar(e.images, req, { ...(tag ? { tag } : {}), message, config: changes({}) });
  e.containers.bus.publish('image', 'import', id, { ...(tag ? { name: tag } : {}) });
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ status: id }) + '\n');
  return HANDLED;
}
