import { strict as assert } from 'node:assert';
import { containerLabels, containerName, isValidProjectName, normaliseProjectName, resourceName, serviceConfigHash, serviceImage, LABELS } from './names.js';
import { normalise } from './normalise.js';
import type { Project, Service } from './model.js';

function project(services: Record<string, unknown>): Project {
  return normalise({ services }, { projectName: 'demo', projectDir: '/p', composeFiles: ['/p/compose.yaml'], lookup: () => undefined, readFile: () => undefined, profiles: [] }).project;
}

describe('names and labels', () => {
  it('normalises project names like docker compose', () => {
    assert.equal(normaliseProjectName('My App.v2'), 'myappv2');
    assert.equal(normaliseProjectName('__x-Y_z'), 'x-y_z');
    assert.equal(isValidProjectName('my_app-1'), true);
    assert.equal(isValidProjectName('MyApp'), false);
    assert.equal(isValidProjectName('-x'), false);
  });
  it('derives container and resource names', () => {
    assert.equal(containerName('demo', 'web', 1), 'demo-web-1');
    assert.equal(resourceName('demo', 'default'), 'demo_default');
  });
  it('names the image a service runs: its own, else the one build makes', () => {
    const p = project({ web: { image: 'nginx:1' }, app: { build: '.' } });
    assert.equal(serviceImage(p, p.services.web!), 'nginx:1');
    assert.equal(serviceImage(p, p.services.app!), 'demo-app');
  });

  it('hashes the service config stably, ignoring what does not change the container', () => {
    const a = project({ web: { image: 'nginx', environment: { A: '1', B: '2' }, depends_on: [] } }).services.web!;
    const b = project({ web: { environment: ['B=2', 'A=1'], image: 'nginx', scale: 3, profiles: [] } }).services.web!;
    assert.equal(serviceConfigHash(a), serviceConfigHash(b));
    assert.match(serviceConfigHash(a), /^[0-9a-f]{64}$/);
    const c: Service = { ...a, environment: { A: '1', B: '3' } };
    assert.notEqual(serviceConfigHash(a), serviceConfigHash(c));
  });
  it('labels containers with the com.docker.compose set', () => {
    const p = project({ web: { image: 'nginx', labels: { own: 'x' }, depends_on: { db: { condition: 'service_healthy' } } }, db: { image: 'pg' } });
    const l = containerLabels(p, p.services.web!, { number: 2, version: '2.0.0' });
    assert.equal(l.own, 'x');
    assert.equal(l[LABELS.project], 'demo');
    assert.equal(l[LABELS.service], 'web');
    assert.equal(l[LABELS.containerNumber], '2');
    assert.equal(l[LABELS.oneoff], 'False');
    assert.equal(l[LABELS.configFiles], '/p/compose.yaml');
    assert.equal(l[LABELS.workingDir], '/p');
    assert.equal(l[LABELS.dependsOn], 'db:service_healthy:false');
    assert.equal(l[LABELS.configHash], serviceConfigHash(p.services.web!));
  });
});
