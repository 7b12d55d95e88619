// The cluster's secrets — the root CA key, the join-token secrets, the unlock key — are kept in the
// replicated cluster object only sealed (AES-256-GCM) under the cluster's data key (DEK), so the raft
// log and snapshots on every manager's disk never hold them in the clear. Each manager keeps the DEK
// on its own disk: as is, or, with autolock, sealed under the unlock key the user holds.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { open, seal } from './ca/kek.js';

const SecretsSchema = z.object({ caKey: z.string(), worker: z.string(), manager: z.string(), unlockKey: z.string(), nextCaKey: z.string().optional() });
export type ClusterSecrets = z.infer<typeof SecretsSchema>;

export function newDataKey(): Buffer {
  return randomBytes(32);
}

/** Sealed secrets as stored in the cluster object, bound to the cluster's ID. */
export function sealSecrets(dek: Buffer, clusterId: string, s: ClusterSecrets): string {
  return seal(dek, Buffer.from(JSON.stringify(s)), `cluster-secrets:${clusterId}`).toString('base64');
}

export function openSecrets(dek: Buffer, clusterId: string, sealed: string): ClusterSecrets {
  return SecretsSchema.parse(JSON.parse(open(dek, Buffer.from(sealed, 'base64'), `cluster-secrets:${clusterId}`).toString('utf8')));
}
