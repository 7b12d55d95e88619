// Engine API: /volumes/*, and /system/df (disk usage, mostly volumes').
import { z } from 'zod';
import { HANDLED, badRequest, sendJson, type Router } from './router.js';
import type { Engine } from '../engine.js';
import { describeIssues } from '../../api/containers.js';
import { parseFilters } from '../../lib/filters.js';
import { listImages } from '../../image/index.js';
import { dirSize } from '../volumes/local-driver.js';

const VolumeCreateSchema = z.object({
  Name: z.string().nullish(),
  Driver: z.string().nullish(),
  DriverOpts: z.record(z.string(), z.string()).nullish(),
  Labels: z.record(z.string(), z.string()).nullish(),
});

export function volumeRoutes(router: Router, e: Engine): void {
  const vs = e.volumes;
  router
    .get('/volumes', async ({ query }) => vs.list(parseFilters(query.get('filters'))))
    .post('/volumes/create', async ({ json, res }) => {
      const r = VolumeCreateSchema.safeParse((await json()) ?? {});
      if (!r.success) throw badRequest(`invalid volume config: ${describeIssues(r.error)}`);
      const v = await vs.create({
        ...(r.data.Name ? { Name: r.data.Name } : {}),
        ...(r.data.Driver ? { Driver: r.data.Driver } : {}),
        ...(r.data.DriverOpts ? { DriverOpts: r.data.DriverOpts } : {}),
        ...(r.data.Labels ? { Labels: r.data.Labels } : {}),
      });
      sendJson(res, 201, v);
      return HANDLED;
    })
    .post('/volumes/prune', async ({ query }) => vs.prune(parseFilters(query.get('filters'))))
    .get('/volumes/{name}', async ({ params }) => vs.inspect(params.name!))
    .delete('/volumes/{name}', async ({ params, query }) => {
      await vs.remove(params.name!, { force: query.get('force') === '1' || query.get('force') === 'true' });
      return undefined;
    });
}

export function diskUsageRoutes(router: Router, e: Engine): void {
  const vs = e.volumes;
  router.get('/system/df', async () => {
    const images = await listImages(e.images);
    const containers = await Promise.all(
      e.containers.list().map(async (c) => ({
        Id: c.Id,
        Names: [`/${c.Name}`],
        Image: c.Config.Image,
        ImageID: c.Image,
        State: c.State.Status,
        Created: Math.floor(Date.parse(c.Created) / 1000),
        SizeRw: await dirSize(`${e.containers.dir(c.Id)}/upper`).catch(() => 0),
      })),
    );
    const volumes = await Promise.all(vs.list().Volumes.map(async (v) => ({ ...v, UsageData: await vs.usage(v.Name) })));
    return { LayersSize: images.reduce((s, i) => s + i.Size, 0), Images: images, Containers: containers, Volumes: volumes, BuildCache: [] };
  });
}
