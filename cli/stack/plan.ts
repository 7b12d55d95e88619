// What `stack deploy` will do, decided from the converted stack and what the swarm already holds:
// the ordered steps (prune, networks, secrets, configs, services) with the lines Docker prints. Pure;
// deploy.ts runs the steps against the daemon.
import { LABELS, type ConfigReference, type SecretReference, type Service, type ServiceSpec } from '../../api/swarm.js';
import { compareStrings, type StackNetwork, type StackObjects } from './convert.js';

export type ResolveImage = 'always' | 'changed' | 'never';
export const RESOLVE_IMAGE: readonly ResolveImage[] = ['always', 'changed', 'never'];

/** A secret or config with its content, ready for POST /secrets/create or /configs/create. */
export interface ContentSpec {
  Name: string;
  Labels: Record<string, string>;
  /** base64 */
  Data: string;
  Driver?: { Name: string; Options?: Record<string, string> };
  Templating?: { Name: string };
}

/** The swarm's objects as the daemon lists them, reduced to what the plan needs. */
export interface Existing {
  /** Services labelled with the stack's namespace. */
  services: Pick<Service, 'ID' | 'Version' | 'Spec'>[];
  /** Names of networks labelled with the stack's namespace. */
  networks: string[];
  /** External networks by name: their scope, or undefined when the daemon does not know them. */
  externalNetworks: Record<string, { Scope: string } | undefined>;
  /** Secrets and configs by name (all of the swarm's: a `name:` may point outside the stack). */
  secrets: Record<string, { ID: string; Version: { Index: number } }>;
  /** Configs carry their Data (base64): the API returns it, unlike a secret's. */
  configs: Record<string, { ID: string; Version: { Index: number }; Data?: string }>;
}

export type Step =
  | { kind: 'remove-service'; say: string; id: string; name: string }
  | { kind: 'create-network'; say: string; body: StackNetwork }
  | { kind: 'create-secret'; say: string; spec: ContentSpec }
  | { kind: 'update-secret'; say?: undefined; id: string; version: number; spec: ContentSpec }
  | { kind: 'create-config'; say: string; spec: ContentSpec }
  | { kind: 'update-config'; say?: undefined; id: string; version: number; spec: ContentSpec }
  | { kind: 'create-service'; say: string; spec: ServiceSpec; queryRegistry: boolean }
  | { kind: 'update-service'; say: string; id: string; version: number; spec: ServiceSpec; queryRegistry: boolean };

export class PlanError extends Error {
  override name = 'PlanError';
}

export interface PlanOptions {
  prune: boolean;
  resolveImage: ResolveImage;
}

/** Networks Docker never inspects: they exist on every node. */
const LOCAL_NETWORKS = new Set(['host', 'bridge', 'none', 'default']);

export function planDeploy(objects: StackObjects, contents: { secrets: ContentSpec[]; configs: ContentSpec[] }, existing: Existing, opts: PlanOptions): Step[] {
  const steps: Step[] = [];
  const wanted = new Set(objects.services.map((s) => s.Name));
  if (opts.prune) {
    for (const s of [...existing.services].sort((a, b) => compareStrings(a.Spec.Name ?? '', b.Spec.Name ?? ''))) {
      if (!wanted.has(s.Spec.Name)) steps.push({ kind: 'remove-service', say: `Removing service ${s.Spec.Name}`, id: s.ID, name: s.Spec.Name ?? s.ID });
    }
  }
  for (const name of objects.externalNetworks) {
    if (LOCAL_NETWORKS.has(name)) continue;
    const n = existing.externalNetworks[name];
    if (!n)
      throw new PlanError(
        `network "${name}" is declared as external, but could not be found. You need to create a swarm-scoped network before the stack is deployed`,
      );
    if (n.Scope !== 'swarm')
      throw new PlanError(`network "${name}" is declared as external, but it is not in the right scope: "${n.Scope}" instead of "swarm"`);
  }
  for (const name of objects.externalSecrets)
    if (!existing.secrets[name]) throw new PlanError(`secret not found: ${name} (declared external: create it first with tsswarm secret create)`);
  for (const name of objects.externalConfigs)
    if (!existing.configs[name]) throw new PlanError(`config not found: ${name} (declared external: create it first with tsswarm config create)`);
  // A config's content can be compared here, before anything changes; a secret's only the manager sees.
  for (const spec of contents.configs) {
    const e = existing.configs[spec.Name];
    if (e?.Data !== undefined && e.Data !== spec.Data)
      throw new PlanError(
        `failed to update config ${spec.Name}: its content changed, and configs are immutable (only labels can be updated); give it a new name to roll it out`,
      );
  }
  const haveNetworks = new Set(existing.networks);
  for (const n of objects.networks) if (!haveNetworks.has(n.Name)) steps.push({ kind: 'create-network', say: `Creating network ${n.Name}`, body: n });
  // Existing secrets and configs are updated in place; the swarm refuses a change of content (they are
  // immutable), and that refusal names the object.
  for (const spec of contents.secrets) {
    const e = existing.secrets[spec.Name];
    steps.push(e ? { kind: 'update-secret', id: e.ID, version: e.Version.Index, spec } : { kind: 'create-secret', say: `Creating secret ${spec.Name}`, spec });
  }
  for (const spec of contents.configs) {
    const e = existing.configs[spec.Name];
    steps.push(e ? { kind: 'update-config', id: e.ID, version: e.Version.Index, spec } : { kind: 'create-config', say: `Creating config ${spec.Name}`, spec });
  }
  const current = new Map(existing.services.map((s) => [s.Spec.Name, s]));
  for (const wantedSpec of objects.services) {
    const name = wantedSpec.Name!;
    const old = current.get(name);
    if (!old) {
      steps.push({ kind: 'create-service', say: `Creating service ${name}`, spec: wantedSpec, queryRegistry: opts.resolveImage !== 'never' });
      continue;
    }
    const spec = structuredClone(wantedSpec);
    const image = spec.TaskTemplate.ContainerSpec.Image;
    const sameImage = image === old.Spec.Labels?.[LABELS.stackImage];
    // An unchanged image keeps the digest an earlier deploy pinned, so the service is not updated for nothing.
    if (opts.resolveImage !== 'always' && sameImage) spec.TaskTemplate.ContainerSpec.Image = old.Spec.TaskTemplate.ContainerSpec.Image;
    // stack deploy has no --force: keep the counter so tasks are not redeployed for nothing.
    if (old.Spec.TaskTemplate.ForceUpdate !== undefined) spec.TaskTemplate.ForceUpdate = old.Spec.TaskTemplate.ForceUpdate;
    const queryRegistry = opts.resolveImage === 'always' || (opts.resolveImage === 'changed' && !sameImage);
    steps.push({ kind: 'update-service', say: `Updating service ${name} (id: ${old.ID})`, id: old.ID, version: old.Version.Index, spec, queryRegistry });
  }
  return steps;
}

/** Fills the SecretID/ConfigID of a spec's references from the swarm's objects by name. */
export function resolveReferences(spec: ServiceSpec, secrets: Record<string, string>, configs: Record<string, string>): ServiceSpec {
  const out = structuredClone(spec);
  const c = out.TaskTemplate.ContainerSpec;
  if (c.Secrets) {
    c.Secrets = c.Secrets.map((r: SecretReference) => {
      const id = secrets[r.SecretName];
      if (!id) throw new PlanError(`service ${spec.Name}: secret not found: ${r.SecretName}`);
      return { ...r, SecretID: id };
    });
  }
  if (c.Configs) {
    c.Configs = c.Configs.map((r: ConfigReference) => {
      const id = configs[r.ConfigName];
      if (!id) throw new PlanError(`service ${spec.Name}: config not found: ${r.ConfigName}`);
      return { ...r, ConfigID: id };
    });
  }
  return out;
}

/** image@sha256:… as the daemon's registry lookup pins it; an image already pinned stays as it is. */
export function pinImage(image: string, digest: string): string {
  return image.includes('@') ? image : `${image}@${digest}`;
}
