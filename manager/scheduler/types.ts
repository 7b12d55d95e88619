// The scheduler's input and output: plain objects, nothing of the store. The runner builds them with
// the adapters (adapters.ts) from stored nodes and tasks, calls `schedule`, and writes the result.

export type NodeRole = 'worker' | 'manager';
export type NodeAvailability = 'active' | 'pause' | 'drain';
export type NodeState = 'unknown' | 'down' | 'ready' | 'disconnected';

export interface SchedResources {
  nanoCPUs: number;
  memoryBytes: number;
}

export interface SchedNode {
  id: string;
  hostname: string;
  /** Status.Addr: the address the node's agent connects from (for `node.ip` constraints); "" when unknown. */
  addr: string;
  role: NodeRole;
  availability: NodeAvailability;
  state: NodeState;
  /** Spec.Labels (set with `node update --label-add`). */
  labels: Record<string, string>;
  /** Description.Engine.Labels (the daemon's own `--label`s). */
  engineLabels: Record<string, string>;
  platform: { os: string; arch: string };
  /** What the node has in all (Description.Resources). */
  resources: SchedResources;
}

export type PortProtocol = 'tcp' | 'udp' | 'sctp';

/** A host-mode published port: at most one task per node may hold a protocol+port. */
export interface HostPort {
  protocol: PortProtocol;
  port: number;
}

export interface SchedTask {
  id: string;
  serviceId: string;
  /**
   * Tasks already placed: their node. Pending tasks: normally absent; set when the orchestrator has
   * chosen the node itself (global services), and then the scheduler only checks that node.
   */
  nodeId?: string;
  /** Placement.Constraints, as written (`node.labels.zone==a`). */
  constraints: string[];
  /** Placement.Preferences' spread descriptors, outermost first (`node.labels.zone`). */
  spread: string[];
  /** Placement.MaxReplicas: at most this many tasks of the service on one node; 0 = no limit. */
  maxReplicas: number;
  /** Placement.Platforms: the task runs on a node matching any of them; empty = any node. */
  platforms: { os?: string; arch?: string }[];
  /** Resources.Reservations (zero when none). */
  reservations: SchedResources;
  hostPorts: HostPort[];
}

export interface SchedInput {
  nodes: SchedNode[];
  /** Tasks that occupy nodes now (assigned or running, not terminal). Their placement fields are unused. */
  placed: SchedTask[];
  /** Tasks to place. */
  pending: SchedTask[];
}

export interface Assignment {
  taskId: string;
  nodeId: string;
}

export interface Unassigned {
  taskId: string;
  /** Docker's text, e.g. `no suitable node (insufficient resources on 2 nodes)`. */
  reason: string;
}

export interface SchedResult {
  assigned: Assignment[];
  unassigned: Unassigned[];
}
