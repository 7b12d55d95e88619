import { strict as assert } from 'node:assert';
import { normalise, ModelError, type NormaliseContext } from './normalise.js';
import type { Dict } from './util.js';

const files: Record<string, string> = {
  '/p/a.env': 'A=from-file\nB=from-file\nREF=${OS_VAR}\n',
  '/p/labels.txt': 'l1=v1\n',
};
const env: Record<string, string> = { OS_VAR: 'os', FROM_OS: 'yes' };

function ctx(over: Partial<NormaliseContext> = {}): NormaliseContext {
  return { projectName: 'demo', projectDir: '/p', composeFiles: ['/p/compose.yaml'], lookup: (n) => env[n], readFile: (p) => files[p], profiles: [], ...over };
}
const run = (raw: Dict, c?: Partial<NormaliseContext>) => normalise(raw, ctx(c));
const problems = (raw: Dict, c?: Partial<NormaliseContext>): string[] => {
  try {
    run(raw, c);
  } catch (e) {
    if (e instanceof ModelError) return e.problems.map((p) => `${p.path.join('.')}: ${p.message}`);
    throw e;
  }
  return [];
};

describe('normalise', () => {
  it('adds the implicit default network to services and to the project', () => {
    const { project } = run({ services: { web: { image: 'nginx' } } });
    assert.deepEqual(project.services.web!.networks, { default: { aliases: [] } });
    assert.equal(project.networks.default!.name, 'demo_default');
    assert.equal(project.services.web!.scale, 1);
  });
  it('names networks and volumes {project}_{key} unless named or external', () => {
    const { project } = run({
      services: { web: { image: 'x', networks: ['a', 'b', 'c'], volumes: ['v1:/1', 'v2:/2', 'v3:/3'] } },
      networks: { a: null, b: { name: 'custom' }, c: { external: true } },
      volumes: { v1: null, v2: { name: 'custom-vol' }, v3: { external: { name: 'legacy' } } },
    });
    assert.deepEqual(Object.values(project.networks).map((n) => n.name), ['demo_a', 'custom', 'c']);
    assert.deepEqual(Object.values(project.volumes).map((v) => v.name), ['demo_v1', 'custom-vol', 'legacy']);
    assert.equal(project.networks.default, undefined, 'default is not used');
  });
  it('keeps only resources that enabled services use', () => {
    const { project } = run({ services: { web: { image: 'x' } }, volumes: { unused: null }, networks: { unused: null } });
    assert.deepEqual(Object.keys(project.volumes), []);
    assert.deepEqual(Object.keys(project.networks), ['default']);
  });
  it('resolves environment: env_file, then environment, bare names from the project env', () => {
    const { project } = run({ services: { web: { image: 'x', env_file: '/p/a.env', environment: { B: 'own', FROM_OS: null, UNSET: null, N: 1 } } } });
    assert.deepEqual(project.services.web!.environment, { A: 'from-file', B: 'own', REF: 'os', FROM_OS: 'yes', UNSET: null, N: '1' });
  });
  it('env_file: a missing required file is an error, an optional one is skipped', () => {
    assert.deepEqual(problems({ services: { web: { image: 'x', env_file: ['/p/none.env'] } } }), ['services.web.env_file.0: env file /p/none.env not found']);
    assert.deepEqual(run({ services: { web: { image: 'x', env_file: [{ path: '/p/none.env', required: false }] } } }).project.services.web!.environment, {});
  });
  it('labels from label_file and labels', () => {
    assert.deepEqual(run({ services: { web: { image: 'x', label_file: '/p/labels.txt', labels: ['l2=v2', 'l3'] } } }).project.services.web!.labels, { l1: 'v1', l2: 'v2', l3: '' });
  });
  it('expands long forms of depends_on, healthcheck, secrets, configs, ulimits, resources', () => {
    const { project } = run({
      services: {
        web: {
          image: 'x',
          depends_on: ['db'],
          healthcheck: { test: 'curl -f localhost', interval: '90s', retries: '3' },
          secrets: ['s', { source: 's', target: 'other' }],
          configs: [{ source: 'c', mode: '0440' }],
          ulimits: { nofile: 1024, nproc: { soft: '10', hard: 20 } },
          deploy: { resources: { limits: { cpus: '0.5', memory: '1g' } }, restart_policy: { condition: 'on-failure', max_attempts: '3' } },
          stop_grace_period: '1m30s',
          command: 'sh -c "echo hi"',
        },
        db: { image: 'pg' },
      },
      secrets: { s: { file: '/p/s' } },
      configs: { c: { content: 'x' } },
    });
    const web = project.services.web!;
    assert.deepEqual(web.depends_on, { db: { condition: 'service_started', required: true, restart: false } });
    assert.deepEqual(web.healthcheck, { test: ['CMD-SHELL', 'curl -f localhost'], interval: '1m30s', retries: 3 });
    assert.deepEqual(web.secrets, [{ source: 's', target: '/run/secrets/s' }, { source: 's', target: '/run/secrets/other' }]);
    assert.deepEqual(web.configs, [{ source: 'c', target: '/c', mode: 0o440 }]);
    assert.deepEqual(web.ulimits, { nofile: { soft: 1024, hard: 1024 }, nproc: { soft: 10, hard: 20 } });
    assert.deepEqual(web.deploy!.resources.limits, { cpus: 0.5, memory: 1024 ** 3 });
    assert.deepEqual(web.deploy!.restart_policy, { condition: 'on-failure', max_attempts: 3 });
    assert.equal(web.stop_grace_period, '1m30s');
    assert.deepEqual(web.command, ['sh', '-c', 'echo hi']);
    assert.equal(project.secrets.s!.name, 'demo_s');
  });
  it('healthcheck disable becomes test NONE', () => {
    assert.deepEqual(run({ services: { web: { image: 'x', healthcheck: { disable: true } } } }).project.services.web!.healthcheck, { test: ['NONE'], disable: true });
  });
  it('later port and volume entries for the same binding or target win', () => {
    const web = run({ services: { web: { image: 'x', ports: ['8080:80', { target: 80, published: '8080' }], volumes: ['/a:/data', '/b:/data'] } } }).project.services.web!;
    assert.equal(web.ports.length, 1);
    assert.deepEqual(web.volumes.map((v) => v.source), ['/b']);
  });
  it('adds implicit dependencies for links, volumes_from and network_mode service:', () => {
    const { project } = run({ services: { a: { image: 'x' }, b: { image: 'x', links: ['a:alias'], volumes_from: ['c'], network_mode: 'service:a' }, c: { image: 'x' } } });
    assert.deepEqual(Object.keys(project.services.b!.depends_on).sort(), ['a', 'c']);
    assert.deepEqual(project.services.b!.networks, {});
  });
  it('applies profiles; a required dependency on a disabled service is an error', () => {
    assert.deepEqual(Object.keys(run({ services: { a: { image: 'x' }, b: { image: 'x', profiles: ['p'] } } }).project.services), ['a']);
    assert.deepEqual(Object.keys(run({ services: { a: { image: 'x' }, b: { image: 'x', profiles: ['p'] } } }, { profiles: ['p'] }).project.services), ['a', 'b']);
    assert.match(problems({ services: { a: { image: 'x', depends_on: ['b'] }, b: { image: 'x', profiles: ['p'] } } })[0]!, /depends on service 'b', which is disabled/);
    const r = run({ services: { a: { image: 'x', depends_on: { b: { condition: 'service_started', required: false } } }, b: { image: 'x', profiles: ['p'] } } });
    assert.deepEqual(r.project.services.a!.depends_on, {});
    assert.match(r.warnings.join('\n'), /optional dependency 'b'/);
  });
  it('targets select services with their dependencies', () => {
    const { project } = run({ services: { a: { image: 'x', depends_on: ['b'] }, b: { image: 'x', profiles: ['p'] }, c: { image: 'x' } } }, { targets: ['a'] });
    assert.deepEqual(Object.keys(project.services).sort(), ['a', 'b']);
  });
  it('reports every reference and consistency problem at once', () => {
    const p = problems({
      services: {
        web: { image: 'x', networks: ['nope'], volumes: ['nov:/d'], secrets: ['nos'], configs: ['noc'], depends_on: ['ghost'], container_name: 'c', scale: 2 },
        cyc1: { image: 'x', depends_on: ['cyc2'] },
        cyc2: { image: 'x', depends_on: ['cyc1'] },
      },
    });
    assert.deepEqual(p.sort(), [
      'services.web.configs.0: refers to undefined config \'noc\'',
      "services.web.container_name: 'c' cannot be used with scale 2: container names must be unique",
      "services.web.depends_on: depends on undefined service 'ghost'",
      "services.web.networks: refers to undefined network 'nope'",
      "services.web.secrets.0: refers to undefined secret 'nos'",
      "services.web.volumes.0: refers to undefined volume 'nov'",
      'services: dependency cycle: cyc1 -> cyc2 -> cyc1',
    ].sort());
  });
  it('warns about unsupported keys and leaves them out', () => {
    const r = run({ services: { web: { image: 'x', blkio_config: { weight: 10 }, gpus: 'all' } }, version: '3' });
    assert.deepEqual(r.warnings, [
      'version: the attribute `version` is obsolete, it will be ignored',
      'services.web.blkio_config: not supported by tscompose, ignored',
      'services.web.gpus: not supported by tscompose, ignored',
    ]);
    assert.equal(Object.hasOwn(r.project.services.web!, 'blkio_config'), false);
  });
  it('converts string values of boolean and numeric keys', () => {
    const web = run({ services: { web: { image: 'x', privileged: 'true', read_only: 'false', cpus: '1.5', mem_limit: '64m', shm_size: 1024, oom_score_adj: '-10' } } }).project.services.web!;
    assert.deepEqual([web.privileged, web.read_only, web.cpus, web.mem_limit, web.shm_size, web.oom_score_adj], [true, false, 1.5, 64 * 1024 ** 2, 1024, -10]);
  });
});
