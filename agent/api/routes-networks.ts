// Engine API: /networks/*, /volumes/*, /system/df.
import { z } from 'zod';
import { ApiError, HANDLED, badRequest, sendJson, type Router } from './router.js';
import type { Engine } from '../engine.js';
import { NetworkError, toDockerNetwork } from '../../network/manager.js';
import { describeIssues } from '../containers/create-config.js';
import { FilterError, parseFilters, matchLabels, matchName } from '../../lib/filters.js';
import { listImages } from '../../image/index.js';
import { dirSize } from '../volumes/local-driver.js';

const NetworkCreateSchema = z.object({
  Name: z.string().min(1),
  Driver: z.string().nullish(),
  Internal: z.boolean().nullish(),
  Labels: z.record(z.string(), z.string()).nullish(),
  Options: z.record(z.string(), z.string()).nullish(),
  IPAM: z
    .object({ Config: z.array(z.object({ Subnet: z.string().nullish(), Gateway: z.string().nullish() })).nullish() })
    .nullish(),
});

const ConnectSchema = z.object({
  Container: z.string().min(1),
  EndpointConfig: z.object({ Aliases: z.array(z.string()).nullish(), IPAMConfig: z.object({ IPv4Address: z.string().nullish() }).nullish() }).nullish(),
});

const VolumeCreateSchema = z.object({
  Name: z.string().nullish(),
  Driver: z.string().nullish(),
  DriverOpts: z.record(z.string(), z.string()).nullish(),
  Labels: z.record(z.string(), z.string()).nullish(),
});

async function net<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof NetworkError) throw new ApiError(err.status, err.message);
    if (err instanceof FilterError) throw badRequest(err.message);
    throw err;
  }
}

export function networkRoutes(router: Router, e: Engine): void {
  const nm = e.network;
  router
    .get('/networks', ({ query }) =>
      net(() => {
        const f = parseFilters(query.get('filters'));
        return nm
          .listNetworks()
          .filter((n) => (!f.name || matchName(n.name, f.name)) && (!f.label || matchLabels(n.labels, f.label)) && (!f.driver || f.driver.includes(n.driver)) && (!f.id || f.id.some((p) => n.id.startsWith(p))))
          .map(toDockerNetwork);
      }),
    )
    .get('/networks/{id}', ({ params }) => net(() => toDockerNetwork(nm.inspectNetwork(params.id!))))
    .post('/networks/create', async ({ json, res }) => {
      const r = NetworkCreateSchema.safeParse((await json()) ?? {});
      if (!r.success) throw badRequest(`invalid network config: ${describeIssues(r.error)}`);
      const b = r.data;
      const ipam = b.IPAM?.Config?.[0];
      const info = await net(() =>
        nm.createNetwork({
          name: b.Name,
          ...(b.Driver ? { driver: b.Driver } : {}),
          ...(ipam?.Subnet ? { subnet: ipam.Subnet } : {}),
          ...(ipam?.Gateway ? { gateway: ipam.Gateway } : {}),
          internal: b.Internal ?? false,
          labels: b.Labels ?? {},
          options: b.Options ?? {},
        }),
      );
      e.events.publish('network', 'create', info.id, { name: info.name, type: info.driver });
      sendJson(res, 201, { Id: info.id, Warning: '' });
      return HANDLED;
    })
    .delete('/networks/{id}', async ({ params }) => {
      const gone = await net(() => nm.inspectNetwork(params.id!));
      await net(() => nm.removeNetwork(params.id!));
      e.events.publish('network', 'destroy', gone.id, { name: gone.name, type: gone.driver });
      return undefined;
    })
    .post('/networks/prune', async () => ({ NetworksDeleted: await net(() => nm.pruneNetworks()) }))
    .post('/networks/{id}/connect', async ({ params, json }) => {
      const r = ConnectSchema.safeParse((await json()) ?? {});
      if (!r.success) throw badRequest(`invalid connect request: ${describeIssues(r.error)}`);
      const c = e.containers.resolve(r.data.Container);
      const info = await net(() => nm.inspectNetwork(params.id!));
      const aliases = r.data.EndpointConfig?.Aliases ?? [];
      const ip = r.data.EndpointConfig?.IPAMConfig?.IPv4Address ?? undefined;
      if (c.State.Status === 'running' || c.State.Status === 'paused') {
        await net(() => nm.connect({ network: info.id, containerId: c.Id, containerName: c.Name, netns: { pid: c.State.Pid }, aliases, ...(ip ? { ip } : {}) }));
      }
      await e.containers.setNetwork(c.Id, info.name, { Aliases: aliases, ...(ip ? { IPv4Address: ip } : {}) });
      e.events.publish('network', 'connect', info.id, { container: c.Id, name: info.name, type: info.driver });
      return undefined;
    })
    .post('/networks/{id}/disconnect', async ({ params, json }) => {
      const body = (await json()) as { Container?: string; Force?: boolean } | undefined;
      if (!body?.Container) throw badRequest('disconnect: Container is required');
      const c = e.containers.resolve(body.Container);
      const info = await net(() => nm.inspectNetwork(params.id!));
      if (c.State.Status === 'running' || c.State.Status === 'paused') await net(() => nm.disconnect(info.id, c.Id));
      await e.containers.setNetwork(c.Id, info.name, undefined);
      e.events.publish('network', 'disconnect', info.id, { container: c.Id, name: info.name, type: info.driver });
      return undefined;
    });

  const vs = e.volumes;
  router
    .get('/volumes', async ({ query }) => {
      try {
        return vs.list(parseFilters(query.get('filters')));
      } catch (err) {
        if (err instanceof FilterError) throw badRequest(err.message);
        throw err;
      }
    })
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
    .post('/volumes/prune', async ({ query }) => {
      try {
        return await vs.prune(parseFilters(query.get('filters')));
      } catch (err) {
        if (err instanceof FilterError) throw badRequest(err.message);
        throw err;
      }
    })
    .get('/volumes/{name}', async ({ params }) => vs.inspect(params.name!))
    .delete('/volumes/{name}', async ({ params, query }) => {
      await vs.remove(params.name!, { force: query.get('force') === '1' || query.get('force') === 'true' });
      return undefined;
    });

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
