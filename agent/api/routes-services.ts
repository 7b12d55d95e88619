// Engine API: /services, /tasks, /secrets, /configs — Docker's paths, bodies and answers, over the
// swarm's control API (forwarded to the leader when this manager is not it). Service logs come from
// the nodes that ran the tasks (routes-service-logs.ts).
import { parseFilters, checkFilterKeys } from '../../lib/filters.js';
import type { SwarmNode } from '../../node/swarm.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Task } from '../../api/swarm.js';
import { frame } from '../containers/logs.js';
import { logQuery, streamHead } from './routes-containers.js';
import { sendJson, HANDLED, type Router, truthy, versionParam } from './router.js';

function filtersOf(q: URLSearchParams, allowed: readonly string[]): Record<string, string[]> {
  const f = parseFilters(q.get('filters'));
  checkFilterKeys(f, allowed);
  return f;
}

/** --with-registry-auth: the client's credentials travel with the spec to the nodes that pull. */
function withAuth(spec: unknown, header: string | string[] | undefined): unknown {
  const h = Array.isArray(header) ? header[0] : header;
  if (!h || !spec || typeof spec !== 'object') return spec;
  const s = spec as { TaskTemplate?: { ContainerSpec?: Record<string, unknown> } };
  if (!s.TaskTemplate?.ContainerSpec) return spec;
  s.TaskTemplate.ContainerSpec.PullOptions = { RegistryAuth: h };
  return spec;
}

/**
 * GET /services/{id}/logs and /tasks/{id}/logs: Docker's multiplexed stream, each line (with
 * details=1, as Docker's CLI asks) prefixed by the task's node, service and task IDs.
 */
async function serviceLogs(swarm: SwarmNode, tasks: Task[], q: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<symbol> {
  const lq = logQuery(q);
  const details = truthy(q.get('details'));
  const byId = new Map(tasks.map((t) => [t.ID, t]));
  streamHead(res);
  await new Promise<void>((resolve) => {
    const cancel = swarm.logs(
      { taskIds: tasks.map((t) => t.ID), follow: truthy(q.get('follow')), stdout: lq.stdout, stderr: lq.stderr, ...(lq.tail !== undefined ? { tail: lq.tail } : {}), ...(lq.since !== undefined ? { since: lq.since } : {}) },
      (entries) => {
        for (const e of entries) {
          const t = byId.get(e.taskId);
          const attrs = details && t ? `com.docker.swarm.node.id=${t.NodeID ?? ''},com.docker.swarm.service.id=${t.ServiceID},com.docker.swarm.task.id=${t.ID} ` : '';
          res.write(frame(e.stream, Buffer.from(`${lq.timestamps ? `${e.time} ` : ''}${attrs}${e.log}`)));
        }
      },
      () => resolve(),
    );
    req.on('close', cancel);
    res.on('close', cancel);
  });
  res.end();
  return HANDLED;
}

export function serviceRoutes(router: Router, swarm: SwarmNode): void {
  const c = () => swarm.control();
  router
    .get('/services/{id}/logs', async ({ params, query, req, res }) => {
      const s = await c().getService(params.id!, false);
      return serviceLogs(swarm, await c().listTasks({ service: [s.ID] }), query, req, res);
    })
    .get('/tasks/{id}/logs', async ({ params, query, req, res }) => serviceLogs(swarm, [await c().getTask(params.id!)], query, req, res))
    .get('/services', async ({ query }) => c().listServices(filtersOf(query, ['id', 'label', 'mode', 'name']), truthy(query.get('status'))))
    .post('/services/create', async ({ json, req, res }) => {
      const r = await c().createService(withAuth(await json(), req.headers['x-registry-auth']));
      sendJson(res, 201, r);
      return HANDLED;
    })
    .get('/services/{id}', async ({ params }) => c().getService(params.id!, false))
    .post('/services/{id}/update', async ({ params, query, json, req }) => {
      const rollback = query.get('rollback') === 'previous';
      return c().updateService(params.id!, versionParam(query), withAuth(await json(), req.headers['x-registry-auth']), rollback);
    })
    .delete('/services/{id}', async ({ params }) => {
      await c().removeService(params.id!);
      return undefined;
    })
    .get('/tasks', async ({ query }) => c().listTasks(filtersOf(query, ['desired-state', 'id', 'label', 'name', 'node', 'service', '_up-to-date'])))
    .get('/tasks/{id}', async ({ params }) => c().getTask(params.id!))
    .get('/secrets', async ({ query }) => c().listSecrets(filtersOf(query, ['id', 'label', 'name', 'names'])))
    .post('/secrets/create', async ({ json, res }) => {
      sendJson(res, 201, await c().createSecret(await json()));
      return HANDLED;
    })
    .get('/secrets/{id}', async ({ params }) => c().getSecret(params.id!))
    .post('/secrets/{id}/update', async ({ params, query, json }) => {
      await c().updateSecret(params.id!, versionParam(query), await json());
      return undefined;
    })
    .delete('/secrets/{id}', async ({ params }) => {
      await c().removeSecret(params.id!);
      return undefined;
    })
    .get('/configs', async ({ query }) => c().listConfigs(filtersOf(query, ['id', 'label', 'name', 'names'])))
    .post('/configs/create', async ({ json, res }) => {
      sendJson(res, 201, await c().createConfig(await json()));
      return HANDLED;
    })
    .get('/configs/{id}', async ({ params }) => c().getConfig(params.id!))
    .post('/configs/{id}/update', async ({ params, query, json }) => {
      await c().updateConfig(params.id!, versionParam(query), await json());
      return undefined;
    })
    .delete('/configs/{id}', async ({ params }) => {
      await c().removeConfig(params.id!);
      return undefined;
    });
}
