// Labels Docker puts on stack objects and on task containers. Apart from api/swarm.ts (which
// re-exports them) so that listing commands need not build that module's zod schemas.
export const LABELS = {
  stackNamespace: 'com.docker.stack.namespace',
  stackImage: 'com.docker.stack.image',
  serviceId: 'com.docker.swarm.service.id',
  serviceName: 'com.docker.swarm.service.name',
  taskId: 'com.docker.swarm.task.id',
  taskName: 'com.docker.swarm.task.name',
  nodeId: 'com.docker.swarm.node.id',
  /** On a node's side of a swarm network: the swarm network's ID. */
  networkId: 'com.docker.swarm.network.id',
} as const;
