// Who may call what on the cluster port: the verified peer certificate's cluster, role and revocation
// state. Applied to every connection and request, not only at expiry.
import { ForbiddenError } from '../../lib/errors.js';
import type { Role } from './certs.js';

export interface Peer {
  nodeId: string;
  /** OU as written in the certificate. */
  role: string;
  clusterId: string;
  serial: string;
}

export interface Revocations {
  /** A removed node's certificates are all refused; a demoted manager's manager certificate too. */
  isRevoked(nodeId: string, serial: string): boolean;
}

export class MemoryRevocations implements Revocations {
  private readonly nodes = new Set<string>();
  private readonly serials = new Set<string>();
  revokeNode(id: string): void {
    this.nodes.add(id);
  }
  revokeSerial(serial: string): void {
    this.serials.add(serial.toLowerCase());
  }
  isRevoked(nodeId: string, serial: string): boolean {
    return this.nodes.has(nodeId) || this.serials.has(serial.toLowerCase());
  }
}

const OU: Record<Role, string> = { manager: 'swarm-manager', worker: 'swarm-worker' };

/**
 * Throws ForbiddenError with the reason unless `peer` is a node of `clusterId`, not revoked, and of a
 * role in `allowed`. Returns the peer's role.
 */
export function authorize(peer: Peer | undefined, clusterId: string, allowed: readonly Role[], revocations: Revocations): Role {
  if (!peer) throw new ForbiddenError('a node certificate of this swarm is required');
  if (peer.clusterId !== clusterId) throw new ForbiddenError(`certificate of node ${peer.nodeId} belongs to another swarm (${peer.clusterId})`);
  if (revocations.isRevoked(peer.nodeId, peer.serial)) throw new ForbiddenError(`node ${peer.nodeId} was removed from the swarm: its certificate is revoked`);
  const role = (Object.keys(OU) as Role[]).find((r) => OU[r] === peer.role);
  if (!role) throw new ForbiddenError(`certificate of node ${peer.nodeId} has no swarm role`);
  if (!allowed.includes(role)) throw new ForbiddenError(`a ${role} node (${peer.nodeId}) may not call this: ${allowed.join(' or ')} only`);
  return role;
}
