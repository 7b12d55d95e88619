// The cluster's verbs over the store. Runs on the leader (a follower's daemon forwards the same calls
// as `{ method, args }` to the leader: see RemoteControl); every argument and result is plain JSON.
// Errors are lib/errors kinds with Docker's wording where Docker has one.
import { ConflictError, ForbiddenError, InvalidArgumentError, NotFoundError } from '../../lib/errors.js';
import { newSecret } from '../ca/tokens.js';
import { newUnlockKey } from '../ca/kek.js';
import { createNextRootCA, crossSign } from '../ca/certs.js';
import { nodeView, swarmView, type ClusterObject, type ClusterSpec, type NodeObject, type RaftView } from '../objects.js';
import type { ClusterSecrets } from '../cluster-secrets.js';
import type { ReplicatedStore } from '../store/replicated.js';

export interface NodeSpecUpdate {
  Name?: string;
  Labels?: Record<string, string>;
  Role?: 'worker' | 'manager';
  Availability?: 'active' | 'pause' | 'drain';
}

export interface SwarmUpdateFlags {
  rotateWorkerToken?: boolean;
  rotateManagerToken?: boolean;
  rotateManagerUnlockKey?: boolean;
}

/** What the control API may not decide alone: raft membership. */
export interface Membership {
  raftView(): RaftView;
  /** Removes a manager from raft (demote, rm --force of a down manager). Refuses a quorum loss. */
  removeManager(nodeId: string): Promise<void>;
  /** Adds a promoted node to raft as a learner at its cluster address (promoted to voter when caught up). */
  addManager(nodeId: string, addr: string): Promise<void>;
  /** Tells the node's agent its new role (it renews its certificate, then starts or stops its manager). */
  pushRole(nodeId: string, role: 'worker' | 'manager'): void;
  /** Tells every agent to renew its certificate now (root rotation). */
  pushRenewAll(): void;
}

/** Opens and seals the cluster object's secrets (the manager holds the data key). */
export interface SecretsBox {
  open(c: ClusterObject): ClusterSecrets;
  seal(s: ClusterSecrets): string;
}

export interface ControlApi {
  getSwarm(): Promise<Record<string, unknown>>;
  getUnlockKey(): Promise<string>;
  updateSwarm(version: number, spec: Partial<ClusterSpec>, flags: SwarmUpdateFlags): Promise<void>;
  listNodes(): Promise<Record<string, unknown>[]>;
  getNode(ref: string): Promise<Record<string, unknown>>;
  updateNode(ref: string, version: number, spec: NodeSpecUpdate): Promise<void>;
  removeNode(ref: string, force: boolean): Promise<void>;
}

export const CONTROL_METHODS = ['getSwarm', 'getUnlockKey', 'updateSwarm', 'listNodes', 'getNode', 'updateNode', 'removeNode'] as const;

const ROLES = new Set(['worker', 'manager']);
const AVAILABILITY = new Set(['active', 'pause', 'drain']);

export class LocalControl implements ControlApi {
  constructor(
    private readonly store: ReplicatedStore,
    private readonly clusterId: string,
    private readonly membership: Membership,
    private readonly box: SecretsBox,
  ) {}

  private cluster(): ClusterObject {
    const c = this.store.view.get('cluster', this.clusterId);
    if (!c) throw new NotFoundError('the swarm has no cluster object yet');
    return c as ClusterObject;
  }

  private node(ref: string): NodeObject {
    return this.store.view.resolve('nodes', ref, 'node') as NodeObject;
  }

  async getSwarm(): Promise<Record<string, unknown>> {
    const c = this.cluster();
    return swarmView(c, this.box.open(c));
  }

  async getUnlockKey(): Promise<string> {
    const c = this.cluster();
    if (!c.Spec.EncryptionConfig.AutoLockManagers) throw new NotFoundError('no unlock key is set');
    return this.box.open(c).unlockKey;
  }

  async updateSwarm(version: number, spec: Partial<ClusterSpec>, flags: SwarmUpdateFlags): Promise<void> {
    const c = this.cluster();
    if (version !== c.Version.Index) throw new ConflictError(`update out of sequence: the swarm is at version ${c.Version.Index}, the update was made from version ${version}`);
    const next: ClusterObject = { ...c, Spec: { ...c.Spec, ...spec, Name: 'default' } };
    // Autolock on or off, and the unlock key, change here; each manager then seals its own keys under
    // the key in force (or keeps them in the clear) as it applies the entry (Manager onLock).
    next.Spec.EncryptionConfig = { AutoLockManagers: next.Spec.EncryptionConfig?.AutoLockManagers === true };
    const lockingNow = next.Spec.EncryptionConfig.AutoLockManagers && !c.Spec.EncryptionConfig.AutoLockManagers;
    const hb = next.Spec.Dispatcher.HeartbeatPeriod;
    if (!Number.isFinite(hb) || hb < 100 * 1_000_000) throw new InvalidArgumentError(`Spec.Dispatcher.HeartbeatPeriod ${hb} ns is under the minimum of 100ms`);
    const exp = next.Spec.CAConfig.NodeCertExpiry;
    if (!Number.isFinite(exp) || exp < 3600 * 1e9) throw new InvalidArgumentError(`Spec.CAConfig.NodeCertExpiry ${exp} ns is under the minimum of 1h`);
    const rotateRoot = (next.Spec.CAConfig.ForceRotate ?? 0) > (c.Spec.CAConfig.ForceRotate ?? 0);
    if (rotateRoot && c.RootCA.Rotation) throw new ConflictError('a root CA rotation is already in progress');
    if (flags.rotateWorkerToken || flags.rotateManagerToken || flags.rotateManagerUnlockKey || lockingNow || rotateRoot) {
      const s = this.box.open(c);
      if (flags.rotateWorkerToken) s.worker = newSecret();
      if (flags.rotateManagerToken) s.manager = newSecret();
      // Turning autolock on gives a fresh key, never one that existed while nothing was locked by it.
      if (flags.rotateManagerUnlockKey || lockingNow) s.unlockKey = newUnlockKey();
      if (rotateRoot) {
        // A new root, and the bridge that lets nodes still trusting only the old one verify it.
        const generation = (c.RootCA.Generation ?? 0) + 1;
        const root = createNextRootCA(generation);
        const cross = crossSign({ certPem: c.RootCA.CACert, keyPem: s.caKey }, root.certPem);
        next.RootCA = { ...c.RootCA, Generation: generation, Rotation: { NextCert: root.certPem, CrossSigned: cross } };
        s.nextCaKey = root.keyPem;
      }
      next.Sealed = this.box.seal(s);
    }
    await this.store.update((tx) => tx.update('cluster', next));
    if (rotateRoot) this.membership.pushRenewAll();
  }

  async listNodes(): Promise<Record<string, unknown>[]> {
    const raft = this.membership.raftView();
    return this.store.view
      .list('nodes')
      .map((n) => nodeView(n as NodeObject, raft))
      .sort((a, b) => String((a.Description as { Hostname?: string }).Hostname).localeCompare(String((b.Description as { Hostname?: string }).Hostname)));
  }

  async getNode(ref: string): Promise<Record<string, unknown>> {
    return nodeView(this.node(ref), this.membership.raftView());
  }

  async updateNode(ref: string, version: number, spec: NodeSpecUpdate): Promise<void> {
    const n = this.node(ref);
    if (version !== n.Version.Index) throw new ConflictError(`update out of sequence: node ${n.ID} is at version ${n.Version.Index}, the update was made from version ${version}`);
    if (spec.Role !== undefined && !ROLES.has(spec.Role)) throw new InvalidArgumentError(`invalid role "${spec.Role}": want worker or manager`);
    if (spec.Availability !== undefined && !AVAILABILITY.has(spec.Availability)) {
      throw new InvalidArgumentError(`invalid availability "${spec.Availability}": want active, pause or drain`);
    }
    const next: NodeObject = { ...n, Spec: { ...n.Spec, ...spec, Labels: spec.Labels ?? n.Spec.Labels } };
    const demote = n.Spec.Role === 'manager' && next.Spec.Role === 'worker';
    const promote = n.Spec.Role === 'worker' && next.Spec.Role === 'manager';
    if (demote) {
      const raft = this.membership.raftView();
      if (raft.voters.length === 1 && raft.voters[0] === n.ID) {
        throw new ForbiddenError(`attempting to demote the last manager of the swarm`);
      }
      await this.membership.removeManager(n.ID);
      delete next.ManagerStatus;
    }
    if (promote) {
      if (!n.ClusterAddr) throw new ConflictError(`node ${n.ID} joined without a cluster address and cannot be promoted`);
      next.ManagerStatus = { Addr: n.ClusterAddr };
    }
    if (demote && n.CertSerial) {
      // Its manager certificate stops working at once; the node renews as a worker.
      const c = this.cluster();
      const revoked = { ...c, RevokedSerials: [...((c.RevokedSerials as string[] | undefined) ?? []), n.CertSerial] };
      await this.store.update((tx) => {
        tx.update('nodes', next);
        tx.update('cluster', revoked);
      });
    } else {
      await this.store.update((tx) => tx.update('nodes', next));
    }
    if (promote) await this.membership.addManager(n.ID, n.ClusterAddr!);
    if (promote || demote) this.membership.pushRole(n.ID, next.Spec.Role);
  }

  async removeNode(ref: string, force: boolean): Promise<void> {
    const n = this.node(ref);
    if (n.Spec.Role === 'manager' && !force) {
      throw new ConflictError(`rpc error: code = FailedPrecondition desc = node ${n.ID} is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal`);
    }
    if (n.Status.State === 'ready' && !force) {
      throw new ConflictError(`rpc error: code = FailedPrecondition desc = node ${n.ID} is not down and can't be removed`);
    }
    if (n.Spec.Role === 'manager') await this.membership.removeManager(n.ID);
    const c = this.cluster();
    // The revocation takes effect with the same entry that removes the node.
    const next: ClusterObject = { ...c, RemovedNodes: [...((c.RemovedNodes as string[] | undefined) ?? []), n.ID] };
    await this.store.update((tx) => {
      tx.delete('nodes', n.ID);
      tx.update('cluster', next);
    });
  }
}
