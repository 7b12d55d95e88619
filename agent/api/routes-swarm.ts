// Engine API: /swarm*, /nodes* — Docker's paths, bodies and answers, over the node's SwarmNode.
import { z } from 'zod';
import { InvalidArgumentError } from '../../lib/errors.js';
import type { SwarmNode } from '../../node/swarm.js';
import { sendJson, HANDLED, type Router, truthy, versionParam } from './router.js';

const InitSchema = z
  .object({
    ListenAddr: z.string().optional(),
    AdvertiseAddr: z.string().optional(),
    DataPathAddr: z.string().optional(),
    DataPathPort: z.number().int().min(0).max(65535).optional(),
    DefaultAddrPool: z.array(z.string()).nullish(),
    ForceNewCluster: z.boolean().optional(),
    SubnetSize: z.number().int().min(0).max(32).optional(),
    Spec: z
      .object({
        Dispatcher: z.object({ HeartbeatPeriod: z.number().nonnegative().optional() }).passthrough().nullish(),
        CAConfig: z.object({ NodeCertExpiry: z.number().nonnegative().optional() }).passthrough().nullish(),
        EncryptionConfig: z.object({ AutoLockManagers: z.boolean().optional() }).passthrough().nullish(),
      })
      .passthrough()
      .optional(),
  })
  .passthrough();

const JoinSchema = z
  .object({
    ListenAddr: z.string().optional(),
    AdvertiseAddr: z.string().optional(),
    RemoteAddrs: z.array(z.string().min(1)).min(1, 'at least one manager address is required'),
    JoinToken: z.string().min(1, 'JoinToken is required'),
    Availability: z.enum(['active', 'pause', 'drain']).optional(),
  })
  .passthrough();

const NodeSpecSchema = z.object({
  Name: z.string().optional(),
  Labels: z.record(z.string(), z.string()).nullish(),
  Role: z.enum(['worker', 'manager']).optional(),
  Availability: z.enum(['active', 'pause', 'drain']).optional(),
});

function parseBody<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw new InvalidArgumentError(`invalid ${what}: ${r.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}`);
  return r.data;
}

export function swarmRoutes(router: Router, swarm: SwarmNode): void {
  router
    .post('/swarm/init', async ({ json, res }) => {
      const b = parseBody(InitSchema, await json(), 'swarm init request');
      const id = await swarm.init({ ...b, DefaultAddrPool: b.DefaultAddrPool ?? undefined, Spec: b.Spec as never });
      sendJson(res, 200, id);
      return HANDLED;
    })
    .post('/swarm/join', async ({ json }) => {
      await swarm.join(parseBody(JoinSchema, await json(), 'swarm join request'));
      return undefined;
    })
    .post('/swarm/leave', async ({ query }) => {
      await swarm.leave(truthy(query.get('force')));
      return undefined;
    })
    .get('/swarm', async () => swarm.control().getSwarm())
    .post('/swarm/update', async ({ json, query }) => {
      const spec = ((await json()) ?? {}) as Record<string, unknown>;
      await swarm.control().updateSwarm(versionParam(query), spec as never, {
        rotateWorkerToken: truthy(query.get('rotateWorkerToken')),
        rotateManagerToken: truthy(query.get('rotateManagerToken')),
        rotateManagerUnlockKey: truthy(query.get('rotateManagerUnlockKey')),
      });
      return undefined;
    })
    .get('/swarm/unlockkey', async () => ({ UnlockKey: await swarm.unlockKey() }))
    .post('/swarm/unlock', async ({ json }) => {
      const b = parseBody(z.object({ UnlockKey: z.string().min(1, 'UnlockKey is required') }), await json(), 'swarm unlock request');
      await swarm.unlock(b.UnlockKey);
      return undefined;
    })
    .get('/nodes', async () => swarm.control().listNodes())
    .get('/nodes/{id}', async ({ params }) => swarm.control().getNode(params.id === 'self' ? (swarm.nodeId() ?? 'self') : params.id!))
    .post('/nodes/{id}/update', async ({ params, query, json }) => {
      const spec = parseBody(NodeSpecSchema, await json(), 'node spec');
      await swarm.control().updateNode(params.id!, versionParam(query), { ...spec, Labels: spec.Labels ?? undefined });
      return undefined;
    })
    .delete('/nodes/{id}', async ({ params, query }) => {
      await swarm.control().removeNode(params.id!, truthy(query.get('force')));
      return undefined;
    });
}
