// Making sure every service's image is there before containers are created: pull by policy, or build
// services that have a build section (on the daemon, through build.ts).
import type { Project, Service } from '../../compose-spec/index.js';
import type { Api } from './engine.js';
import { serviceImage } from '../../compose-spec/index.js';
import type { Progress } from './progress.js';
import { CommandError } from './project.js';

export type PullPolicy = 'always' | 'missing' | 'never' | 'build';

export interface ImageOptions {
  /** --pull; else each service's pull_policy; else missing. */
  pull?: PullPolicy;
  /** --build: build even when the image exists. */
  build?: boolean;
  /** --no-build: never build; a missing built image is an error. */
  noBuild?: boolean;
}

export type Builder = (project: Project, svc: Service, progress: Progress) => Promise<void>;

/** What to do for one service's image. Pure. */
export function imageAction(svc: Service, exists: boolean, o: ImageOptions): 'none' | 'pull' | 'build' | 'missing' {
  const policy = o.pull ?? (svc.pull_policy as PullPolicy | undefined) ?? 'missing';
  if (svc.build && !o.noBuild) {
    if (o.build || policy === 'build') return 'build';
    if (exists && policy !== 'always') return 'none';
    // With both image and build, compose pulls first and builds when the pull fails.
    if (svc.image && policy !== 'never') return 'pull';
    return 'build';
  }
  if (!svc.image) return exists ? 'none' : 'missing';
  if (policy === 'always') return 'pull';
  if (exists) return 'none';
  return policy === 'never' ? 'missing' : 'pull';
}

export async function ensureImages(api: Api, project: Project, services: string[], o: ImageOptions, progress: Progress, build: Builder): Promise<void> {
  const byImage = new Map<string, Service[]>();
  for (const n of services) {
    const svc = project.services[n]!;
    const ref = serviceImage(project, svc);
    byImage.set(ref, [...(byImage.get(ref) ?? []), svc]);
  }
  await Promise.all(
    [...byImage.entries()].map(async ([ref, svcs]) => {
      const svc = svcs.find((s) => s.build) ?? svcs[0]!;
      const exists = await api.imageExists(ref);
      const action = imageAction(svc, exists, o);
      if (action === 'none') return;
      if (action === 'missing') {
        throw new CommandError(`service ${svc.name}: image ${ref} is not present${svc.build ? ' (build it with: tscompose build)' : ' and the pull policy is never (pull it with: tscompose pull)'}`);
      }
      if (action === 'build') {
        await build(project, svc, progress);
        return;
      }
      progress.update('Image', ref, 'Pulling');
      try {
        await api.pull(ref, (s) => progress.update('Image', ref, s));
      } catch (e) {
        progress.update('Image', ref, 'Error', 'error');
        if (svc.build && !o.noBuild) {
          await build(project, svc, progress);
          return;
        }
        throw new CommandError(`service ${svc.name}: ${(e as Error).message}`);
      }
      progress.update('Image', ref, 'Pulled', 'done');
    }),
  );
}
