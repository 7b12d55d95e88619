// `stack deploy`: reads what the swarm holds, plans (plan.ts), and runs the steps in order, printing
// Docker's lines. Each failure names the object it was about.
import { LABELS } from '../../api/swarm.js';
import type { StackObjects } from './convert.js';
import { contentSpec } from './content.js';
import { isNotFound, type StackApi } from './daemon.js';
import { pinImage, planDeploy, resolveReferences, type Existing, type ResolveImage, type Step } from './plan.js';

export interface DeployOptions {
  prune: boolean;
  resolveImage: ResolveImage;
  /** X-Registry-Auth for an image, when --with-registry-auth. */
  registryAuth?: (image: string) => Promise<Record<string, string>>;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** An error of one step, as Docker words it ("failed to create service app_web: …"). */
function failed(what: string, e: unknown): Error {
  const name = (e as { name?: string }).name;
  const msg = (e as Error).message ?? String(e);
  return new Error(`failed to ${what}: ${name === 'DaemonError' ? `Error response from daemon: ${msg}` : msg}`);
}

async function existingState(d: StackApi, objects: StackObjects): Promise<Existing> {
  const [services, networks, secrets, configs] = await Promise.all([d.stackServices(objects.stack), d.stackNetworks(objects.stack), d.secrets(), d.configs()]);
  const externalNetworks: Existing['externalNetworks'] = {};
  for (const name of objects.externalNetworks) {
    const n = await d.network(name);
    externalNetworks[name] = n ? { Scope: n.Scope } : undefined;
  }
  return {
    services,
    networks: networks.map((n) => n.Name),
    externalNetworks,
    secrets: Object.fromEntries(secrets.map((s) => [s.Spec.Name, { ID: s.ID, Version: s.Version }])),
    configs: Object.fromEntries(configs.map((c) => [c.Spec.Name, { ID: c.ID, Version: c.Version, Data: c.Spec.Data }])),
  };
}

/** Deploys; returns the IDs of the services created or updated (for --detach=false to wait on). */
export async function deployStack(d: StackApi, objects: StackObjects, environment: Record<string, string | undefined>, opts: DeployOptions): Promise<string[]> {
  // Content first: a missing file or variable stops the deploy before anything is changed.
  const contents = {
    secrets: objects.secrets.map((s) => contentSpec('secret', s, environment)),
    configs: objects.configs.map((c) => contentSpec('config', c, environment)),
  };
  const steps = planDeploy(objects, contents, await existingState(d, objects), { prune: opts.prune, resolveImage: opts.resolveImage });
  const ids: string[] = [];
  // What this run created, undone newest first if a later step fails, so a failed deploy leaves no
  // half-made stack behind. Updates of existing objects stay (the swarm keeps their previous spec).
  const undo: Array<() => Promise<void>> = [];
  let refs: { secrets: Record<string, string>; configs: Record<string, string> } | undefined;
  try {
    for (const step of steps) {
      if (step.say) opts.out(step.say);
      if (step.kind === 'create-service' || step.kind === 'update-service') {
        // Secrets and configs are all in place by now: the references get their IDs once.
        refs ??= await referenceIds(d);
        const id = await runServiceStep(d, step, refs, opts);
        if (step.kind === 'create-service') undo.push(() => d.removeService(id));
        ids.push(id);
      } else {
        const created = await runStep(d, step, opts);
        if (created) undo.push(created);
      }
    }
  } catch (e) {
    for (const u of undo.reverse()) await u().catch((ue: unknown) => opts.err(`rolling back: ${(ue as Error).message}`));
    throw e;
  }
  return ids;
}

async function referenceIds(d: StackApi): Promise<{ secrets: Record<string, string>; configs: Record<string, string> }> {
  const [secrets, configs] = await Promise.all([d.secrets(), d.configs()]);
  return { secrets: Object.fromEntries(secrets.map((s) => [s.Spec.Name, s.ID])), configs: Object.fromEntries(configs.map((c) => [c.Spec.Name, c.ID])) };
}

/** Runs one step; for a creation, returns how to undo it. */
async function runStep(
  d: StackApi,
  step: Exclude<Step, { kind: 'create-service' | 'update-service' }>,
  opts: DeployOptions,
): Promise<(() => Promise<void>) | undefined> {
  switch (step.kind) {
    case 'remove-service':
      try {
        await d.removeService(step.id);
      } catch (e) {
        // As Docker's prune: reported, and the deploy goes on.
        opts.err(`Failed to remove service ${step.id}: ${(e as Error).message}`);
      }
      return undefined;
    case 'create-network': {
      const r = await d.createNetwork(step.body).catch((e: unknown) => {
        throw failed(`create network ${step.body.Name}`, e);
      });
      return () => d.removeNetwork(r.Id);
    }
    case 'create-secret':
    case 'create-config': {
      const kind = step.kind === 'create-secret' ? 'secret' : 'config';
      const r = await d.createObject(kind, step.spec).catch((e: unknown) => {
        throw failed(`create ${kind} ${step.spec.Name}`, e);
      });
      return () => d.removeObject(kind, r.ID);
    }
    case 'update-secret':
    case 'update-config': {
      const kind = step.kind === 'update-secret' ? 'secret' : 'config';
      await d.updateObject(kind, step.id, step.version, step.spec).catch((e: unknown) => {
        throw failed(`update ${kind} ${step.spec.Name}`, e);
      });
      return undefined;
    }
  }
}

async function runServiceStep(
  d: StackApi,
  step: Extract<Step, { kind: 'create-service' | 'update-service' }>,
  refs: { secrets: Record<string, string>; configs: Record<string, string> },
  opts: DeployOptions,
): Promise<string> {
  const name = step.spec.Name!;
  const verb = step.kind === 'create-service' ? 'create' : 'update';
  const spec = resolveReferences(step.spec, refs.secrets, refs.configs);
  const image = spec.Labels?.[LABELS.stackImage] ?? spec.TaskTemplate.ContainerSpec.Image;
  const headers = opts.registryAuth ? await opts.registryAuth(image) : {};
  if (step.queryRegistry) {
    // Pin the digest the registry serves now, so every node runs the same image.
    const digest = await d.digest(spec.TaskTemplate.ContainerSpec.Image, headers).catch(() => undefined);
    if (digest) spec.TaskTemplate.ContainerSpec.Image = pinImage(spec.TaskTemplate.ContainerSpec.Image, digest);
    else
      opts.err(
        `image ${image} could not be accessed on a registry to record\nits digest. Each node will access ${image} independently,\npossibly leading to different nodes running different\nversions of the image.\n`,
      );
  }
  try {
    if (step.kind === 'create-service') {
      const r = await d.createService(spec, headers);
      for (const w of r.Warnings ?? []) opts.err(w);
      return r.ID;
    }
    const r = await d.updateService(step.id, step.version, spec, headers);
    for (const w of r?.Warnings ?? []) opts.err(w);
    return step.id;
  } catch (e) {
    throw failed(`${verb} service ${name}`, e);
  }
}

export interface RemoveResult {
  found: boolean;
  failed: boolean;
}

/** `stack rm`: services (by name), secrets, configs, then networks of the stack. */
export async function removeStack(d: StackApi, stack: string, out: (l: string) => void, err: (l: string) => void): Promise<RemoveResult> {
  const ns = { label: [`${LABELS.stackNamespace}=${stack}`] };
  const mine = <T extends { Spec: { Labels?: Record<string, string> | null } }>(xs: T[]): T[] =>
    xs.filter((x) => x.Spec.Labels?.[LABELS.stackNamespace] === stack);
  const [services, networks, secrets, configs] = await Promise.all([
    d.stackServices(stack),
    d.stackNetworks(stack),
    d.secrets(ns).then(mine),
    d.configs(ns).then(mine),
  ]);
  if (services.length + networks.length + secrets.length + configs.length === 0) return { found: false, failed: false };
  let bad = false;
  const attempt = async (say: string, what: string, id: string, fn: () => Promise<void>): Promise<void> => {
    out(say);
    try {
      await fn();
    } catch (e) {
      if (isNotFound(e)) return;
      bad = true;
      err(`Failed to remove ${what} ${id}: ${(e as Error).message}`);
    }
  };
  for (const s of [...services].sort((a, b) => ((a.Spec.Name ?? '') < (b.Spec.Name ?? '') ? -1 : 1)))
    await attempt(`Removing service ${s.Spec.Name}`, 'service', s.ID, () => d.removeService(s.ID));
  for (const s of secrets) await attempt(`Removing secret ${s.Spec.Name}`, 'secret', s.ID, () => d.removeObject('secret', s.ID));
  for (const c of configs) await attempt(`Removing config ${c.Spec.Name}`, 'config', c.ID, () => d.removeObject('config', c.ID));
  for (const n of networks) await attempt(`Removing network ${n.Name}`, 'network', n.Id, () => d.removeNetwork(n.Id));
  return { found: true, failed: bad };
}
