// The cluster and node objects as stored, and their Docker Engine API views. Internal fields (the
// root CA key, token secrets) live in the stored cluster object and never leave a manager: the views
// drop them.
import { X509Certificate } from 'node:crypto';
import type { NodeDescription } from './protocol.js';
import type { StoredObject } from './store/types.js';
import { formatToken } from './ca/tokens.js';
import type { ClusterSecrets } from './cluster-secrets.js';

export const NS_PER_MS = 1_000_000;

export type ClusterSpec = {
  Name: string;
  Labels: Record<string, string>;
  Orchestration: { TaskHistoryRetentionLimit: number };
  Raft: { SnapshotInterval: number; KeepOldSnapshots: number; LogEntriesForSlowFollowers: number; ElectionTick: number; HeartbeatTick: number };
  Dispatcher: { HeartbeatPeriod: number };
  CAConfig: { NodeCertExpiry: number; ForceRotate?: number };
  EncryptionConfig: { AutoLockManagers: boolean };
  TaskDefaults: Record<string, unknown>;
};

export interface ClusterObject extends StoredObject {
  Spec: ClusterSpec & { Name: string };
  /**
   * The root CA certificate; its key is among the sealed secrets. During a rotation, the next root and
   * its cross-signed certificate (the next root's key, signed by the current root).
   */
  RootCA: { CACert: string; Generation?: number; Rotation?: { NextCert: string; CrossSigned: string } };
  /** Internal: the root CA key, join-token secrets and unlock key, sealed under the data key. */
  Sealed: string;
  DefaultAddrPool: string[];
  SubnetSize: number;
  DataPathPort: number;
}

export interface NodeObject extends StoredObject {
  Spec: { Name?: string; Labels: Record<string, string>; Role: 'worker' | 'manager'; Availability: 'active' | 'pause' | 'drain' };
  Description: NodeDescription;
  Status: { State: 'unknown' | 'down' | 'ready' | 'disconnected'; Message: string; Addr: string };
  /** Managers: the cluster-port address (host:port) peers and agents dial. */
  ManagerStatus?: { Addr: string };
  /** Internal: the address the node advertised at join, its cluster port if it becomes a manager. */
  ClusterAddr?: string;
  /** Internal: the serial of the last certificate issued to it (revoked when it is demoted). */
  CertSerial?: string;
  /** Internal: the root (certificate PEM) that signed its last certificate, to know when a rotation is done. */
  CertRoot?: string;
  /** The node's address on the ingress network (its routing-mesh endpoint), `ip/prefix`. */
  IngressAddr?: string;
}

export function defaultClusterSpec(o: { heartbeatMs: number; certExpiryMs: number; autolock: boolean }): ClusterSpec {
  return {
    Name: 'default',
    Labels: {},
    Orchestration: { TaskHistoryRetentionLimit: 5 },
    Raft: { SnapshotInterval: 10000, KeepOldSnapshots: 0, LogEntriesForSlowFollowers: 500, ElectionTick: 10, HeartbeatTick: 1 },
    Dispatcher: { HeartbeatPeriod: o.heartbeatMs * NS_PER_MS },
    CAConfig: { NodeCertExpiry: o.certExpiryMs * NS_PER_MS },
    EncryptionConfig: { AutoLockManagers: o.autolock },
    TaskDefaults: {},
  };
}

/** Docker's `Swarm` object (GET /swarm) — join tokens included, the CA key not. */
export function swarmView(c: ClusterObject, secrets: ClusterSecrets): Record<string, unknown> {
  const x = new X509Certificate(c.RootCA.CACert);
  return {
    ID: c.ID,
    Version: c.Version,
    CreatedAt: c.CreatedAt,
    UpdatedAt: c.UpdatedAt,
    Spec: c.Spec,
    TLSInfo: {
      TrustRoot: c.RootCA.CACert,
      CertIssuerSubject: Buffer.from(x.subject).toString('base64'),
      CertIssuerPublicKey: x.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    },
    RootRotationInProgress: c.RootCA.Rotation !== undefined,
    DataPathPort: c.DataPathPort,
    DefaultAddrPool: c.DefaultAddrPool,
    SubnetSize: c.SubnetSize,
    JoinTokens: { Worker: formatToken(c.RootCA.CACert, secrets.worker), Manager: formatToken(c.RootCA.CACert, secrets.manager) },
  };
}

export interface RaftView {
  leader: string;
  /** Members raft counts as voters. */
  voters: string[];
}

/** Docker's `Node` object; ManagerStatus from the raft view (leader, reachability). */
export function nodeView(n: NodeObject, raft: RaftView | undefined): Record<string, unknown> {
  const base: Record<string, unknown> = {
    ID: n.ID,
    Version: n.Version,
    CreatedAt: n.CreatedAt,
    UpdatedAt: n.UpdatedAt,
    Spec: n.Spec,
    Description: n.Description,
    Status: n.Status,
  };
  if (n.Spec.Role === 'manager' && n.ManagerStatus) {
    base.ManagerStatus = {
      Leader: raft?.leader === n.ID,
      Reachability: n.Status.State === 'ready' || raft?.leader === n.ID ? 'reachable' : 'unreachable',
      Addr: n.ManagerStatus.Addr,
    };
  }
  return base;
}
