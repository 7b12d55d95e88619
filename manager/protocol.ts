// The cluster-internal wire protocol (manager/README.md): join, renewal, forwarded control calls and
// the agent session. Both ends parse with these schemas, so a malformed or foreign message is refused
// at the boundary with the field that is wrong, never half-applied.
import { z } from 'zod';

/** The ALPN names on the cluster port. */
export const ALPN_RAFT = 'tsswarm-raft/1';
export const ALPN_HTTP = 'http/1.1';
export const DEFAULT_CLUSTER_PORT = 2377;

export const ROUTES = {
  ca: '/swarm/v1/ca',
  join: '/swarm/v1/join',
  renew: '/swarm/v1/renew',
  control: '/swarm/v1/control',
  session: '/swarm/v1/session',
  logs: '/swarm/v1/logs',
} as const;

export const NodeRoleSchema = z.enum(['worker', 'manager']);
export type NodeRole = z.infer<typeof NodeRoleSchema>;

export const PeerSchema = z.object({ nodeId: z.string().min(1), addr: z.string().min(1) });
export type Peer = z.infer<typeof PeerSchema>;

export const CaResponseSchema = z.object({ rootCA: z.string().min(1) });
export type CaResponse = z.infer<typeof CaResponseSchema>;

export const JoinRequestSchema = z.object({
  token: z.string().min(1),
  /** PEM certificate signing request made by the joining node with its own key. */
  csr: z.string().min(1),
  /** host:port other nodes reach this node at (managers: the cluster port). */
  advertiseAddr: z.string().min(1),
  listenAddr: z.string().min(1),
  availability: z.enum(['active', 'pause', 'drain']).default('active'),
  hostname: z.string().default(''),
});
export type JoinRequest = z.infer<typeof JoinRequestSchema>;

export const JoinResponseSchema = z.object({
  nodeId: z.string().min(1),
  clusterId: z.string().min(1),
  role: NodeRoleSchema,
  /** PEM: the node certificate, then any intermediate (during a root rotation). */
  certificate: z.string().min(1),
  rootCA: z.string().min(1),
  managers: z.array(PeerSchema),
  /** Raft peers, for a joining manager: it starts raft as a learner knowing these. */
  raftPeers: z.array(PeerSchema).optional(),
  heartbeatPeriodMs: z.number().int().positive(),
  /** Managers only: the cluster's data key (base64), which opens the sealed cluster secrets. */
  dataKey: z.string().optional(),
  /** Managers only: whether managers keep their keys sealed under the unlock key, and that key. */
  autolock: z.boolean().optional(),
  unlockKey: z.string().optional(),
});
export type JoinResponse = z.infer<typeof JoinResponseSchema>;

export const RenewRequestSchema = z.object({ csr: z.string().min(1) });
export const RenewResponseSchema = z.object({
  certificate: z.string().min(1),
  rootCA: z.string().min(1),
  role: NodeRoleSchema,
  /** For a manager (e.g. just promoted): the data key and autolock setting, as in a manager's join. */
  dataKey: z.string().optional(),
  autolock: z.boolean().optional(),
  unlockKey: z.string().optional(),
});
export type RenewResponse = z.infer<typeof RenewResponseSchema>;

export const ControlRequestSchema = z.object({ method: z.string().min(1), args: z.array(z.unknown()) });
export type ControlRequest = z.infer<typeof ControlRequestSchema>;

export const WireErrorSchema = z.object({
  kind: z.enum(['not-found', 'conflict', 'invalid', 'forbidden', 'unavailable', 'not-modified', 'internal']),
  message: z.string(),
});
export const ControlResponseSchema = z.union([
  z.object({ result: z.unknown() }),
  z.object({ error: WireErrorSchema }),
]);
export type ControlResponse = z.infer<typeof ControlResponseSchema>;

export const NodeDescriptionSchema = z.object({
  Hostname: z.string(),
  Platform: z.object({ Architecture: z.string(), OS: z.string() }),
  Resources: z.object({ NanoCPUs: z.number(), MemoryBytes: z.number() }),
  Engine: z.object({ EngineVersion: z.string(), Labels: z.record(z.string(), z.string()).default({}) }),
});
export type NodeDescription = z.infer<typeof NodeDescriptionSchema>;

/** A task's status as its agent reports it (Docker's TaskStatus). */
export const TaskStatusUpdateSchema = z.object({
  taskId: z.string().min(1),
  status: z.object({
    Timestamp: z.string(),
    State: z.enum(['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running', 'complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned']),
    Message: z.string(),
    Err: z.string().optional(),
    ContainerStatus: z.object({ ContainerID: z.string(), PID: z.number().int(), ExitCode: z.number().int() }).optional(),
    PortStatus: z.object({ Ports: z.array(z.unknown()).optional() }).passthrough().optional(),
  }),
});
export type TaskStatusUpdate = z.infer<typeof TaskStatusUpdateSchema>;

/**
 * One change to what a node must run: a task (as stored, with its service's name), or the data of a
 * secret or config one of its tasks uses. Secrets travel only to nodes that run a task using them.
 */
export const AssignmentSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('task'), action: z.enum(['update', 'remove']), id: z.string().min(1), task: z.record(z.string(), z.unknown()).optional() }),
  z.object({ kind: z.literal('secret'), action: z.enum(['update', 'remove']), id: z.string().min(1), data: z.string().optional(), name: z.string().optional() }),
  z.object({ kind: z.literal('config'), action: z.enum(['update', 'remove']), id: z.string().min(1), data: z.string().optional(), name: z.string().optional(), templating: z.string().optional() }),
  /** An overlay network the node's tasks use: its remote endpoints, DNS records and VIPs (see OverlayState). */
  z.object({ kind: z.literal('network'), action: z.enum(['update', 'remove']), id: z.string().min(1), network: z.record(z.string(), z.unknown()).optional() }),
]);

export const OverlayStateSchema = z.object({
  name: z.string(),
  peers: z.array(z.object({ ip: z.string(), mac: z.string(), nodeAddr: z.string() })),
  records: z.array(z.object({ id: z.string(), ip: z.string(), names: z.array(z.string()) })),
  vips: z.array(z.object({ vip: z.string(), backends: z.array(z.string()) })),
  /** How the node makes its side of the network when no task of it runs there (the ingress network). */
  network: z.record(z.string(), z.unknown()).optional(),
  /** The routing mesh (ingress network only): this node's address on it and the published ports. */
  ingress: z
    .object({
      nodeAddr: z.string(),
      ports: z.array(z.object({ protocol: z.enum(['tcp', 'udp', 'sctp']), port: z.number().int(), targetPort: z.number().int(), backends: z.array(z.string()), local: z.boolean().optional() })),
    })
    .optional(),
});
export type OverlayState = z.infer<typeof OverlayStateSchema>;
export type Assignment = z.infer<typeof AssignmentSchema>;

/** What `service logs` asks of the nodes that ran the tasks. */
export const LogsRequestSchema = z.object({
  taskIds: z.array(z.string().min(1)),
  follow: z.boolean(),
  stdout: z.boolean(),
  stderr: z.boolean(),
  tail: z.number().int().nonnegative().optional(),
  /** Unix seconds. */
  since: z.number().optional(),
});
export type LogsRequest = z.infer<typeof LogsRequestSchema>;

export const LogEntrySchema = z.object({ taskId: z.string(), stream: z.enum(['stdout', 'stderr']), time: z.string(), log: z.string() });
export type TaskLogEntry = z.infer<typeof LogEntrySchema>;

/** Messages an agent sends on its session. */
export const AgentMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('register'), description: NodeDescriptionSchema, addr: z.string() }),
  z.object({ type: z.literal('heartbeat'), sessionId: z.string() }),
  z.object({ type: z.literal('status'), sessionId: z.string(), updates: z.array(TaskStatusUpdateSchema) }),
  z.object({ type: z.literal('logs'), sessionId: z.string(), requestId: z.string(), entries: z.array(LogEntrySchema) }),
  z.object({ type: z.literal('logs-end'), sessionId: z.string(), requestId: z.string(), error: z.string().optional() }),
  /** A standalone container on this node joins an attachable overlay (`run --network NAME`): its address. */
  z.object({ type: z.literal('attach'), sessionId: z.string(), requestId: z.string(), network: z.string().min(1), containerId: z.string().min(1), containerName: z.string() }),
  z.object({ type: z.literal('detach'), sessionId: z.string(), containerId: z.string().min(1) }),
]);
export type AgentMessage = z.infer<typeof AgentMessageSchema>;

/** Messages a manager sends on a session. */
export const ManagerMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('session'),
    sessionId: z.string(),
    nodeId: z.string(),
    heartbeatPeriodMs: z.number().int().positive(),
    managers: z.array(PeerSchema),
  }),
  z.object({ type: z.literal('heartbeat'), heartbeatPeriodMs: z.number().int().positive() }),
  z.object({ type: z.literal('managers'), managers: z.array(PeerSchema) }),
  z.object({ type: z.literal('role'), role: NodeRoleSchema }),
  /** Root rotation: renew the certificate now (from the next root, with the new trust bundle). */
  z.object({ type: z.literal('renew') }),
  z.object({ type: z.literal('assignments'), kind: z.enum(['complete', 'incremental']), changes: z.array(AssignmentSchema) }),
  z.object({ type: z.literal('logs'), requestId: z.string(), request: LogsRequestSchema }),
  z.object({ type: z.literal('logs-cancel'), requestId: z.string() }),
  /** The answer to `attach`: the container's network attachment (Docker's NetworkAttachment shape), or why not. */
  z.object({ type: z.literal('attached'), requestId: z.string(), attachment: z.record(z.string(), z.unknown()).optional(), error: z.string().optional() }),
]);
export type ManagerMessage = z.infer<typeof ManagerMessageSchema>;

/** Close code a follower uses to send an agent to the leader; the close reason is the leader's address. */
export const CLOSE_NOT_LEADER = 4001;
/** Close code for a node that was removed from the cluster: the agent must stop, not retry. */
export const CLOSE_REMOVED = 4003;

/** Default heartbeat period: short enough that a dead node is marked down within about 3–4 s. */
export const DEFAULT_HEARTBEAT_MS = 1000;
/** Missed periods before a node is marked down. */
export const HEARTBEAT_MISSES = 3;
