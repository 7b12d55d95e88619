// Engine API: /networks/*.
import { z } from 'zod';
import { HANDLED, badRequest, sendJson, type Router } from './router.js';
import type { Engine } from '../engine.js';
import { toDockerNetwork } from '../../api/networks.js';
import { LABELS } from '../../api/swarm-labels.js';
import { swarmNetworkIdOf } from '../exec/overlay-host.js';
import { describeIssues } from '../../api/containers.js';
import { parseFilters, matchLabels, matchName } from '../../lib/filters.js';
import { errorKind } from '../../lib/errors.js';
import type { SwarmNode } from '../../node/swarm.js';

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


/** The swarm's networks when this node is a manager; none otherwise (a worker or no swarm). */
async function swarmNetworks(swarm: SwarmNode | undefined): Promise<Record<string, unknown>[]> {
  if (!swarm?.isManager()) return [];
  return swarm.control().listNetworks();
}

export function networkRoutes(router: Router, e: Engine, swarm?: SwarmNode): void {
  const nm = e.network;
  router
    .get('/networks', async ({ query }) => {
      const f = parseFilters(query.get('filters'));
      const local = nm
        .listNetworks()
        .filter((n) => (!f.name || matchName(n.name, f.name)) && (!f.label || matchLabels(n.labels, f.label)) && (!f.driver || f.driver.includes(n.driver)) && (!f.id || f.id.some((p) => n.id.startsWith(p))))
        .map(toDockerNetwork);
      const clusterAll = await swarmNetworks(swarm);
      // On a manager the cluster's own record stands for a swarm network; the node's side of it is not listed twice.
      const swarmIds = new Set(clusterAll.map((n) => String(n.Id)));
      const localOnly = local.filter((n) => !swarmIds.has(String((n.Labels as Record<string, string>)[LABELS.networkId] ?? '')));
      const cluster = clusterAll.filter((n) => {
        const name = String(n.Name);
        return (!f.name || matchName(name, f.name)) && (!f.label || matchLabels(n.Labels as Record<string, string>, f.label)) && (!f.driver || f.driver.includes(String(n.Driver))) && (!f.id || f.id.some((p) => String(n.Id).startsWith(p))) && (!f.scope || f.scope.includes('swarm'));
      });
      return [...localOnly.filter((n) => !f.scope || f.scope.includes(String(n.Scope))), ...cluster];
    })
    .get('/networks/{id}', async ({ params }) => {
      try {
        const local = nm.inspectNetwork(params.id!);
        const swarmId = local.labels[LABELS.networkId];
        if (swarmId && swarm?.isManager()) return swarm.control().getNetwork(swarmId);
        return toDockerNetwork(local);
      } catch (err) {
        if (errorKind(err) !== 'not-found' || !swarm?.isManager()) throw err;
        return swarm.control().getNetwork(params.id!);
      }
    })
    .post('/networks/create', async ({ json, res }) => {
      const raw = (await json()) ?? {};
      const r = NetworkCreateSchema.safeParse(raw);
      if (!r.success) throw badRequest(`invalid network config: ${describeIssues(r.error)}`);
      const b = r.data;
      if (b.Driver === 'overlay') {
        // Swarm-scoped: made by the managers (refused with Docker's words on a worker or outside a swarm).
        if (!swarm) throw badRequest('overlay networks need swarm mode');
        sendJson(res, 201, await swarm.control().createNetwork(raw));
        return HANDLED;
      }
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
      try {
        const swarmId = swarmNetworkIdOf(nm, params.id!);
        // The node's side of a swarm network goes with its last task; `network rm` removes the swarm's.
        if (swarmId && swarm?.isManager()) await swarm.control().removeNetwork(swarmId);
        else await nm.removeNetwork(params.id!);
      } catch (err) {
        if (errorKind(err) !== 'not-found' || !swarm?.isManager()) throw err;
        await swarm.control().removeNetwork(params.id!);
      }
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
