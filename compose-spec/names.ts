// Names and labels exactly as docker compose derives them, so that tscompose and docker compose
// agree about which containers, networks and volumes belong to a project.
import type { Project, Service } from './model.js';
import { sha256, stableStringify } from './util.js';

export const LABEL_PREFIX = 'com.docker.compose';
export const LABELS = {
  project: `${LABEL_PREFIX}.project`,
  service: `${LABEL_PREFIX}.service`,
  containerNumber: `${LABEL_PREFIX}.container-number`,
  oneoff: `${LABEL_PREFIX}.oneoff`,
  configHash: `${LABEL_PREFIX}.config-hash`,
  workingDir: `${LABEL_PREFIX}.project.working_dir`,
  configFiles: `${LABEL_PREFIX}.project.config_files`,
  environmentFile: `${LABEL_PREFIX}.project.environment_file`,
  version: `${LABEL_PREFIX}.version`,
  dependsOn: `${LABEL_PREFIX}.depends_on`,
  image: `${LABEL_PREFIX}.image`,
  network: `${LABEL_PREFIX}.network`,
  volume: `${LABEL_PREFIX}.volume`,
} as const;

const VALID_PROJECT_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/** A name given explicitly (-p, COMPOSE_PROJECT_NAME, name:) must already be valid. */
export function isValidProjectName(name: string): boolean {
  return VALID_PROJECT_NAME.test(name);
}

/** What docker compose makes of a directory name: lowercase, only [a-z0-9_-], no leading _ or -. */
export function normaliseProjectName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '')
    .replace(/^[_-]+/, '');
}

export function containerName(project: string, service: string, n: number): string {
  return `${project}-${service}-${n}`;
}

/** Container name of a service replica: container_name when set (scale is then 1), else the pattern. */
export function serviceContainerName(project: string, svc: Service, n: number): string {
  return svc.container_name ?? containerName(project, svc.name, n);
}

export function resourceName(project: string, key: string): string {
  return `${project}_${key}`;
}

/**
 * The config hash docker compose labels containers with, to decide whether to recreate one: a digest
 * of the service without what does not change the container (build, pull policy, scale, replicas,
 * dependencies, profiles).
 */
/** The image a service runs: its image, else the one `build` makes ({project}-{service}). */
export function serviceImage(project: Project, svc: Service): string {
  return svc.image ?? `${project.name}-${svc.name}`;
}

export function serviceConfigHash(svc: Service): string {
  const { build: _b, pull_policy: _p, scale: _s, depends_on: _d, profiles: _pr, ...rest } = svc;
  const copy: Record<string, unknown> = { ...rest };
  if (svc.deploy) {
    const { replicas: _r, ...deploy } = svc.deploy;
    copy.deploy = deploy;
  }
  return sha256(stableStringify(copy));
}

export interface ContainerLabelOptions {
  number: number;
  version: string;
  oneoff?: boolean;
  /** Digest of the image the container runs, when known. */
  imageDigest?: string;
}

export function dependsOnLabel(svc: Service): string {
  return Object.entries(svc.depends_on)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, d]) => `${name}:${d.condition}:${d.restart}`)
    .join(',');
}

/** Labels of a service's container: the service's own labels, then the com.docker.compose.* ones. */
export function containerLabels(project: Project, svc: Service, opts: ContainerLabelOptions): Record<string, string> {
  const labels: Record<string, string> = {
    ...svc.labels,
    [LABELS.project]: project.name,
    [LABELS.service]: svc.name,
    [LABELS.containerNumber]: String(opts.number),
    [LABELS.oneoff]: opts.oneoff ? 'True' : 'False',
    [LABELS.configHash]: serviceConfigHash(svc),
    [LABELS.workingDir]: project.working_dir,
    [LABELS.configFiles]: project.compose_files.join(','),
    [LABELS.version]: opts.version,
    [LABELS.dependsOn]: dependsOnLabel(svc),
  };
  if (opts.imageDigest) labels[LABELS.image] = opts.imageDigest;
  return labels;
}

export function networkLabels(project: string, key: string, version: string, own: Record<string, string> = {}): Record<string, string> {
  return { ...own, [LABELS.project]: project, [LABELS.network]: key, [LABELS.version]: version };
}

export function volumeLabels(project: string, key: string, version: string, own: Record<string, string> = {}): Record<string, string> {
  return { ...own, [LABELS.project]: project, [LABELS.volume]: key, [LABELS.version]: version };
}
