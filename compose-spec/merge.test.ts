import { strict as assert } from 'node:assert';
import { applyTags, mergeProjects, mergeService } from './merge.js';
import { parseYaml } from './yaml.js';

describe('merge', () => {
  it('merges mappings recursively and replaces scalars', () => {
    const r = mergeProjects({ services: { web: { image: 'a', restart: 'no' } }, networks: { n: { driver: 'bridge' } } }, { services: { web: { image: 'b' }, db: { image: 'p' } }, networks: { n: { internal: true } } });
    assert.deepEqual(r, { services: { web: { image: 'b', restart: 'no' }, db: { image: 'p' } }, networks: { n: { driver: 'bridge', internal: true } } });
  });
  it('replaces command, entrypoint and healthcheck.test', () => {
    const r = mergeService({ command: ['a', 'b'], entrypoint: 'x', healthcheck: { test: ['CMD', 'a'], retries: 3 } }, { command: ['c'], entrypoint: ['y'], healthcheck: { test: 'b' } });
    assert.deepEqual(r, { command: ['c'], entrypoint: ['y'], healthcheck: { test: 'b', retries: 3 } });
  });
  it('merges environment and labels as mappings whatever the form', () => {
    const r = mergeService({ environment: ['A=1', 'B=2'], labels: { x: 'a' } }, { environment: { B: '3', C: null }, labels: ['y=b'] });
    assert.deepEqual(r, { environment: { A: '1', B: '3', C: null }, labels: { x: 'a', y: 'b' } });
  });
  it('appends sequences without exact duplicates', () => {
    const r = mergeService({ ports: ['80:80'], cap_add: ['A'], dns: '1.1.1.1' }, { ports: ['80:80', '443:443'], cap_add: ['A', 'B'], dns: ['8.8.8.8'] });
    assert.deepEqual(r, { ports: ['80:80', '443:443'], cap_add: ['A', 'B'], dns: ['1.1.1.1', '8.8.8.8'] });
  });
  it('merges depends_on and networks per entry across forms', () => {
    const r = mergeService({ depends_on: ['db'], networks: { front: { aliases: ['w'] } } }, { depends_on: { db: { condition: 'service_healthy' }, cache: { condition: 'service_started' } }, networks: ['front', 'back'] });
    assert.deepEqual(r, {
      depends_on: { db: { condition: 'service_healthy' }, cache: { condition: 'service_started' } },
      networks: { front: { aliases: ['w'] }, back: null },
    });
  });
  it('merges build from the short form', () => {
    assert.deepEqual(mergeService({ build: '/ctx' }, { build: { dockerfile: 'D', args: ['A=1'] } }), { build: { context: '/ctx', dockerfile: 'D', args: ['A=1'] } });
    assert.deepEqual(mergeService({ build: { args: { A: '1' } } }, { build: { args: ['B=2'] } }), { build: { args: { A: '1', B: '2' } } });
  });
  it('replaces logging when the driver changes', () => {
    assert.deepEqual(mergeService({ logging: { driver: 'json-file', options: { a: '1' } } }, { logging: { driver: 'syslog' } }), { logging: { driver: 'syslog' } });
    assert.deepEqual(mergeService({ logging: { driver: 'json-file', options: { a: '1' } } }, { logging: { options: { b: '2' } } }), { logging: { driver: 'json-file', options: { a: '1', b: '2' } } });
  });
  it('applies !reset and !override after merging a file', () => {
    const base = { services: { web: { image: 'a', ports: ['80:80'], environment: { A: '1' } } } };
    const over = parseYaml('services:\n  web:\n    ports: !reset []\n    environment: !override {B: "2"}\n', 'o.yaml');
    const merged = mergeProjects(base, { services: { web: { environment: { B: '2' } } } });
    applyTags(merged, over.value, over.tags);
    assert.deepEqual(merged, { services: { web: { image: 'a', environment: { B: '2' } } } });
  });
  it('does not share structure with its inputs', () => {
    const base = { services: { web: { ports: ['1'] } } };
    const r = mergeProjects(base, {});
    ((r.services as Record<string, Record<string, string[]>>).web!.ports!).push('2');
    assert.deepEqual(base.services.web.ports, ['1']);
  });
});
