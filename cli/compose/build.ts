// Building service images: each service's build section becomes one POST /build on the daemon (the
// same request `tsswarm build` makes), so RUN, multi-stage builds and the layer cache all work.
import { isAbsolute, resolve } from 'node:path';
import type { Project, Service } from '../../compose-spec/index.js';
import { BuildFailedError, requestBuild, type BuildRequest } from '../commands/build.js';
import type { Api } from './engine.js';
import type { Progress } from './progress.js';
import { CommandError } from './project.js';
import { serviceImage } from '../../compose-spec/index.js';

export interface BuildFlags {
  /** `tscompose build --no-cache`; else the service's build.no_cache. */
  noCache?: boolean;
  /** `tscompose build --pull`; else the service's build.pull. */
  pull?: boolean;
}

/** The daemon request for one service. Pure. */
export function buildRequest(project: Project, svc: Service, flags: BuildFlags = {}): BuildRequest {
  const b = svc.build;
  if (!b) throw new CommandError(`service ${svc.name}: has no build section`);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(b.context)) throw new CommandError(`service ${svc.name}: build: remote contexts (${b.context}) are not supported; use a local directory`);
  const tag = serviceImage(project, svc);
  const noCache = flags.noCache ?? b.no_cache;
  const pull = flags.pull ?? b.pull;
  return {
    context: b.context,
    ...(b.dockerfile_inline !== undefined
      ? { dockerfileText: b.dockerfile_inline }
      : { dockerfile: isAbsolute(b.dockerfile ?? '') ? b.dockerfile! : resolve(b.context, b.dockerfile ?? 'Dockerfile') }),
    tags: [...new Set([tag, ...b.tags])],
    // A null arg is one compose could not resolve from the environment: unset, as with docker compose.
    buildArgs: Object.fromEntries(Object.entries(b.args).filter((e): e is [string, string] => e[1] !== null)),
    labels: b.labels,
    ...(b.target ? { target: b.target } : {}),
    ...(noCache ? { noCache } : {}),
    ...(pull ? { pull } : {}),
  };
}

export async function buildService(api: Api, project: Project, svc: Service, progress: Progress, flags: BuildFlags = {}): Promise<void> {
  const tag = serviceImage(project, svc);
  progress.update('Image', tag, 'Building');
  // The end of the output goes into the error, so a failing RUN shows what it printed.
  const tail: string[] = [];
  try {
    await requestBuild(api.client, buildRequest(project, svc, flags), (text) => {
      for (const line of text.split('\n')) {
        if (!line) continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        // The step headers say how far the build is; RUN output would drown the display.
        if (/^Step \d+\/\d+ : /.test(line)) progress.update('Image', tag, line);
      }
    });
    progress.update('Image', tag, 'Built', 'done');
  } catch (e) {
    progress.update('Image', tag, 'Error', 'error');
    const msg = e instanceof Error ? e.message : String(e);
    const out = e instanceof BuildFailedError && tail.length ? `\n${tail.map((l) => `  ${l}`).join('\n')}` : '';
    throw new CommandError(`service ${svc.name}: build: ${msg}${out}`);
  }
}
