// Engine API: /networks/*.
import { z } from 'zod';
import { HANDLED, badRequest, sendJson, type Router } from './router.js';
import type { Engine } from '../engine.js';
import { toDockerNetwork } from '../../api/networks.js';
import { describeIssues } from '../containers/create-config.js';
import { parseFilters, matchLabels, matchName } from '../../lib/filters.js';

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


export function networkRoutes(router: Router, e: Engine): void {
  const nm = e.network;
  router
    .get('/networks', async ({ query }) => {
      const f = parseFilters(query.get('filters'));
      return nm
        .listNetworks()
        .filter((n) => (!f.name || matchName(n.name, f.name)) && (!f.label || matchLabels(n.labels, f.label)) && (!f.driver || f.driver.includes(n.driver)) && (!f.id || f.id.some((p) => n.id.startsWith(p))))
        .map(toDockerNetwork);
    })
    .get('/networks/{id}', async ({ params }) => toDockerNetwork(nm.inspectNetwork(params.id!)))
    .post('/networks/create', async ({ json, res }) => {
      const r = NetworkCreateSchema.safeParse((await json()) ?? {});
      if (!r.success) throw badRequest(`invalid network config: ${describeIssues(r.error)}`);
      const b = r.data;
      const ipam = b.IPAM?.Config?.[0];
      const info = await nm.createNetwork({
          name: b.Name,
          ...(b.Driver ? { driver: b.Driver } : {}),
          ...(ipam?.Subnet ? { subnet: ipam.Subnet } : {}),
          ...(ipam?.Gateway ? { gateway: ipam.Gateway } : {}),
          internal: b.Internal ?? false,
          labels: b.Labels ?? {},
          options: b.Options ?? {},
        });
      sendJson(res, 201, { Id: info.id, Warning: '' });
      return HANDLED;
    })
    .delete('/networks/{id}', async ({ params }) => {
      await nm.removeNetwork(params.id!);
      return undefined;
    })
    .post('/networks/prune', async () => ({ NetworksDeleted: await nm.pruneNetworks() }))
    .post('/networks/{id}/connect', async ({ params, json }) => {
      const r = ConnectSchema.safeParse((await json()) ?? {});
      if (!r.success) throw badRequest(`invalid connect request: ${describeIssues(r.error)}`);
      const c = e.containers.resolve(r.data.Container);
      const aliases = r.data.EndpointConfig?.Aliases ?? [];
      const ip = r.data.EndpointConfig?.IPAMConfig?.IPv4Address ?? undefined;
      const running = c.State.Status === 'running' || c.State.Status === 'paused';
      const info = await nm.connectContainer({ network: params.id!, containerId: c.Id, containerName: c.Name, ...(running ? { netns: { pid: c.State.Pid } } : {}), aliases, ...(ip ? { ip } : {}) });
      await e.containers.setNetwork(c.Id, info.name, { Aliases: aliases, ...(ip ? { IPv4Address: ip } : {}) });
      return undefined;
    })
    .post('/networks/{id}/disconnect', async ({ params, json }) => {
      const body = (await json()) as { Container?: string; Force?: boolean } | undefined;
      if (!body?.Container) throw badRequest('disconnect: Container is required');
      const c = e.containers.resolve(body.Container);
      const running = c.State.Status === 'running' || c.State.Status === 'paused';
      const info = await nm.disconnectContainer(params.id!, c.Id, running);
      await e.containers.setNetwork(c.Id, info.name, undefined);
      return undefined;
    });
}
