import { strict as assert } from 'node:assert';
import type { ServiceSpec } from '../../api/swarm.js';
import type { StackObjects } from './convert.js';
import { contentSpec, ContentError } from './content.js';
import { pinImage, planDeploy, PlanError, resolveReferences, type ContentSpec, type Existing } from './plan.js';

const NS = { 'com.docker.stack.namespace': 'app' };

function svc(name: string, image = 'nginx:1'): ServiceSpec {
  return {
    Name: `app_${name}`,
    Labels: { ...NS, 'com.docker.stack.image': image },
    TaskTemplate: { ContainerSpec: { Image: image } },
    Mode: { Replicated: {} },
  };
}

const objects = (over: Partial<StackObjects> = {}): StackObjects => ({
  stack: 'app',
  services: [svc('db', 'redis:7'), svc('web')],
  networks: [{ Name: 'app_default', Driver: 'overlay', Labels: NS }],
  externalNetworks: [],
  secrets: [],
  configs: [],
  externalSecrets: [],
  externalConfigs: [],
  ...over,
});
const none: Existing = { services: [], networks: [], externalNetworks: {}, secrets: {}, configs: {} };
const noContent = { secrets: [] as ContentSpec[], configs: [] as ContentSpec[] };
const says = (steps: { say?: string }[]): string[] => steps.flatMap((s) => (s.say ? [s.say] : []));

describe('stack deploy plan', () => {
  it("a first deploy: networks, secrets, configs, then services, with Docker's lines", () => {
    const secret: ContentSpec = { Name: 'app_token', Labels: NS, Data: 'eA==' };
    const config: ContentSpec = { Name: 'app_site', Labels: NS, Data: 'eQ==' };
    const steps = planDeploy(objects(), { secrets: [secret], configs: [config] }, none, { prune: false, resolveImage: 'always' });
    assert.deepEqual(says(steps), [
      'Creating network app_default',
      'Creating secret app_token',
      'Creating config app_site',
      'Creating service app_db',
      'Creating service app_web',
    ]);
    assert.deepEqual(
      steps.filter((s) => s.kind === 'create-service').map((s) => s.kind === 'create-service' && s.queryRegistry),
      [true, true],
    );
  });

  it('a second deploy: existing networks skipped, secrets updated in place, services updated at their version', () => {
    const existing: Existing = {
      ...none,
      networks: ['app_default'],
      secrets: { app_token: { ID: 's1', Version: { Index: 4 } } },
      services: [
        { ID: 'w1', Version: { Index: 9 }, Spec: { ...svc('web'), TaskTemplate: { ContainerSpec: { Image: 'nginx:1@sha256:abc' }, ForceUpdate: 2 } } },
      ],
    };
    const steps = planDeploy(objects(), { secrets: [{ Name: 'app_token', Labels: NS, Data: 'eA==' }], configs: [] }, existing, {
      prune: false,
      resolveImage: 'changed',
    });
    assert.deepEqual(says(steps), ['Creating service app_db', 'Updating service app_web (id: w1)']);
    const upd = steps.find((s) => s.kind === 'update-service');
    assert.ok(upd && upd.kind === 'update-service');
    assert.equal(upd.version, 9);
    // Same image as last time: the pinned digest is kept, the registry not asked, ForceUpdate preserved.
    assert.equal(upd.spec.TaskTemplate.ContainerSpec.Image, 'nginx:1@sha256:abc');
    assert.equal(upd.queryRegistry, false);
    assert.equal(upd.spec.TaskTemplate.ForceUpdate, 2);
    const sec = steps.find((s) => s.kind === 'update-secret');
    assert.ok(sec && sec.kind === 'update-secret');
    assert.equal(sec.id, 's1');
    assert.equal(sec.version, 4);
  });

  it('resolve-image: always asks the registry on update, never keeps the old image, changed asks only for a new image', () => {
    const existing: Existing = {
      ...none,
      networks: ['app_default'],
      services: [{ ID: 'w1', Version: { Index: 1 }, Spec: { ...svc('web', 'nginx:1'), TaskTemplate: { ContainerSpec: { Image: 'nginx:1@sha256:abc' } } } }],
    };
    const web = (resolveImage: 'always' | 'changed' | 'never', image = 'nginx:1') => {
      const steps = planDeploy(objects({ services: [svc('web', image)] }), noContent, existing, { prune: false, resolveImage });
      const s = steps.find((x) => x.kind === 'update-service');
      assert.ok(s && s.kind === 'update-service');
      return [s.spec.TaskTemplate.ContainerSpec.Image, s.queryRegistry];
    };
    assert.deepEqual(web('always'), ['nginx:1', true]);
    assert.deepEqual(web('never'), ['nginx:1@sha256:abc', false]);
    assert.deepEqual(web('changed', 'nginx:2'), ['nginx:2', true]);
    assert.deepEqual(web('never', 'nginx:2'), ['nginx:2', false]);
  });

  it("--prune removes the stack's services no longer in the file, first", () => {
    const existing: Existing = {
      ...none,
      services: [
        { ID: 'o1', Version: { Index: 1 }, Spec: svc('old') },
        { ID: 'w1', Version: { Index: 1 }, Spec: svc('web') },
      ],
    };
    assert.deepEqual(says(planDeploy(objects(), noContent, existing, { prune: true, resolveImage: 'never' })).slice(0, 2), [
      'Removing service app_old',
      'Creating network app_default',
    ]);
    assert.ok(!says(planDeploy(objects(), noContent, existing, { prune: false, resolveImage: 'never' })).some((l) => l.startsWith('Removing')));
  });

  it('external networks must exist and be swarm-scoped; host and bridge are not checked', () => {
    const o = objects({ externalNetworks: ['corp', 'host'] });
    assert.throws(
      () => planDeploy(o, noContent, none, { prune: false, resolveImage: 'never' }),
      (e: Error) => e instanceof PlanError && /network "corp" is declared as external, but could not be found/.test(e.message),
    );
    assert.throws(
      () => planDeploy(o, noContent, { ...none, externalNetworks: { corp: { Scope: 'local' } } }, { prune: false, resolveImage: 'never' }),
      /not in the right scope: "local" instead of "swarm"/,
    );
    assert.doesNotThrow(() => planDeploy(o, noContent, { ...none, externalNetworks: { corp: { Scope: 'swarm' } } }, { prune: false, resolveImage: 'never' }));
  });

  it('external secrets and configs must exist; a config whose content changed is refused before anything is done', () => {
    assert.throws(() => planDeploy(objects({ externalSecrets: ['corp'] }), noContent, none, { prune: false, resolveImage: 'never' }), /secret not found: corp/);
    assert.throws(() => planDeploy(objects({ externalConfigs: ['corp'] }), noContent, none, { prune: false, resolveImage: 'never' }), /config not found: corp/);
    assert.doesNotThrow(() =>
      planDeploy(
        objects({ externalSecrets: ['corp'] }),
        noContent,
        { ...none, secrets: { corp: { ID: 'x', Version: { Index: 1 } } } },
        { prune: false, resolveImage: 'never' },
      ),
    );
    const site: ContentSpec = { Name: 'app_site', Labels: NS, Data: 'bmV3' };
    const old = { ...none, configs: { app_site: { ID: 'c1', Version: { Index: 2 }, Data: 'b2xk' } } };
    assert.throws(
      () => planDeploy(objects(), { secrets: [], configs: [site] }, old, { prune: false, resolveImage: 'never' }),
      /failed to update config app_site: its content changed, and configs are immutable/,
    );
    const same = planDeploy(objects(), { secrets: [], configs: [{ ...site, Data: 'b2xk' }] }, old, { prune: false, resolveImage: 'never' });
    assert.ok(same.some((s) => s.kind === 'update-config' && s.id === 'c1' && s.version === 2));
  });

  it('references get the IDs of the secrets and configs by name; a missing one is named', () => {
    const spec: ServiceSpec = {
      ...svc('web'),
      TaskTemplate: {
        ContainerSpec: {
          Image: 'x',
          Secrets: [{ File: { Name: '/run/secrets/t', UID: '0', GID: '0', Mode: 0o444 }, SecretID: '', SecretName: 'app_token' }],
          Configs: [{ File: { Name: '/c', UID: '0', GID: '0', Mode: 0o444 }, ConfigID: '', ConfigName: 'app_c' }],
        },
      },
    };
    const r = resolveReferences(spec, { app_token: 'S1' }, { app_c: 'C1' });
    assert.equal(r.TaskTemplate.ContainerSpec.Secrets![0]!.SecretID, 'S1');
    assert.equal(r.TaskTemplate.ContainerSpec.Configs![0]!.ConfigID, 'C1');
    assert.equal(spec.TaskTemplate.ContainerSpec.Secrets![0]!.SecretID, '', 'the input is left alone');
    assert.throws(() => resolveReferences(spec, {}, { app_c: 'C1' }), /service app_web: secret not found: app_token/);
  });

  it('content: environment and inline as base64, a missing variable or file named by key path', () => {
    const base = { key: 'k', name: 'app_k', labels: NS };
    assert.equal(contentSpec('secret', { ...base, source: { kind: 'environment', variable: 'V' } }, { V: 'hi' }).Data, Buffer.from('hi').toString('base64'));
    assert.deepEqual(contentSpec('config', { ...base, source: { kind: 'inline', content: 'x' }, templateDriver: 'golang' }, {}), {
      Name: 'app_k',
      Labels: NS,
      Data: 'eA==',
      Templating: { Name: 'golang' },
    });
    assert.throws(
      () => contentSpec('secret', { ...base, source: { kind: 'environment', variable: 'NOPE' } }, {}),
      (e: Error) => e instanceof ContentError && e.message === 'secrets.k.environment: variable NOPE is not set',
    );
    assert.throws(
      () => contentSpec('config', { ...base, source: { kind: 'file', path: '/nonexistent/tsswarm-test' } }, {}),
      /configs\.k\.file: cannot read \/nonexistent\/tsswarm-test: no such file or directory/,
    );
  });

  it('pins an image to its digest unless it already is', () => {
    assert.equal(pinImage('nginx:1', 'sha256:abc'), 'nginx:1@sha256:abc');
    assert.equal(pinImage('nginx@sha256:def', 'sha256:abc'), 'nginx@sha256:def');
  });
});
