// Test helpers: load a project from inline YAML, and fake the engine's view of its containers.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LABELS, loadProject, serviceConfigHash, type Project } from '../../compose-spec/index.js';
import type { ObservedContainer } from './plan.js';

export function projectFrom(yaml: string, name = 'proj'): Project {
  const dir = mkdtempSync(join(tmpdir(), 'tscompose-plan-'));
  try {
    writeFileSync(join(dir, 'compose.yaml'), yaml);
    return loadProject({ cwd: dir, environment: {}, projectName: name, home: '/home/u' }).project;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A container as `up` would have made it for that service and number. */
export function observed(project: Project, service: string, n: number, extra: { state?: string; hash?: string; oneoff?: boolean; name?: string } = {}): ObservedContainer {
  const svc = project.services[service];
  return {
    id: `${service}${n}`.padEnd(12, '0'),
    name: extra.name ?? `${project.name}-${service}-${n}`,
    state: extra.state ?? 'running',
    labels: {
      [LABELS.project]: project.name,
      [LABELS.service]: service,
      [LABELS.containerNumber]: String(n),
      [LABELS.oneoff]: extra.oneoff ? 'True' : 'False',
      [LABELS.configHash]: extra.hash ?? (svc ? serviceConfigHash(svc) : 'gone'),
    },
  };
}
