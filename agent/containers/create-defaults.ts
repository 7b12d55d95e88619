// What a container inherits from its image at create: its Config, with ENV, HEALTHCHECK, labels,
// ports and volumes merged under the create body's own values. Pure.
import type { RunConfig } from '../../image/index.js';
import type { ContainerCreateBody, HealthConfig } from './create-config.js';
import type { ContainerConfig } from './record.js';

/** What create has resolved already (and refused if wrong) before the config is assembled. */
export interface ResolvedCreate {
  hostname: string;
  user: string;
  env: string[];
  cmd: string[];
  entrypoint: string[] | null;
  healthcheck: HealthConfig | undefined;
}

/** The container's Config: the body's values over the image's (labels, ports, volumes merged). */
export function containerConfig(body: ContainerCreateBody, rc: RunConfig, r: ResolvedCreate): ContainerConfig {
  const config: ContainerConfig = {
    Hostname: r.hostname,
    Domainname: body.Domainname ?? '',
    User: r.user,
    Env: r.env,
    Cmd: r.cmd,
    Entrypoint: r.entrypoint,
    Image: body.Image!,
    WorkingDir: body.WorkingDir || rc.WorkingDir || '/',
    Labels: { ...rc.Labels, ...(body.Labels ?? {}) },
    ExposedPorts: { ...Object.fromEntries(rc.ExposedPorts.map((p) => [p.includes('/') ? p : `${p}/tcp`, {}])), ...(body.ExposedPorts as ContainerConfig['ExposedPorts'] | undefined) },
    Volumes: { ...Object.fromEntries(rc.Volumes.map((v) => [v, {}])), ...(body.Volumes as ContainerConfig['Volumes'] | undefined) },
    StopSignal: body.StopSignal || rc.StopSignal || 'SIGTERM',
    ...(body.StopTimeout !== undefined ? { StopTimeout: body.StopTimeout } : {}),
    ...(r.healthcheck ? { Healthcheck: r.healthcheck } : {}),
    Tty: body.Tty ?? false,
    OpenStdin: body.OpenStdin ?? false,
  };
  if (body.StdinOnce) config.StdinOnce = true;
  return config;
}

/** The image's ENV under the container's: a name set by both keeps the container's value. */
export function mergeEnv(image: string[], mine: string[]): string[] {
  const out = new Map<string, string>();
  for (const e of [...image, ...mine]) {
    const i = e.indexOf('=');
    out.set(i < 0 ? e : e.slice(0, i), e);
  }
  return [...out.values()];
}

/** The container's healthcheck over the image's, field by field (Docker's merge: unset or zero takes the image's). */
export function mergeHealth(c: HealthConfig | undefined, img: HealthConfig | undefined): HealthConfig | undefined {
  if (!c && !img) return undefined;
  if (!img) return c;
  if (!c) return img;
  return {
    Test: c.Test && c.Test.length ? c.Test : img.Test,
    Interval: c.Interval || img.Interval,
    Timeout: c.Timeout || img.Timeout,
    Retries: c.Retries || img.Retries,
    StartPeriod: c.StartPeriod || img.StartPeriod,
    StartInterval: c.StartInterval || img.StartInterval,
  };
}

/** The image's HEALTHCHECK in the API's shape (the image schema allows a null Test). */
export function imageHealth(h: { Test?: string[] | null; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number; StartInterval?: number } | null): HealthConfig | undefined {
  if (!h) return undefined;
  const out: HealthConfig = {};
  if (h.Test) out.Test = h.Test;
  for (const k of ['Interval', 'Timeout', 'Retries', 'StartPeriod', 'StartInterval'] as const) if (h[k] !== undefined) out[k] = h[k];
  return out;
}

