// The deploy runner and `stack rm` over an in-memory swarm that keeps objects the way the manager's
// routes do (IDs, versions, labels, names). The manager's routes are not on main yet; once they are,
// e2e tests against a real manager take over the end-to-end part, and these keep the ordering,
// roll-back and wording.
import { strict as assert } from 'node:assert';
import type { Config, Secret, Service, ServiceSpec } from '../../api/swarm.js';
import type { StackNetwork, StackObjects } from './convert.js';
import type { NetworkSummary, StackApi } from './daemon.js';
import { deployStack, removeStack } from './deploy.js';
import type { ContentSpec } from './plan.js';

const NS = 'com.docker.stack.namespace';

class DaemonError extends Error {
  override name = 'DaemonError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A swarm in memory: enough of the manager's behaviour to watch what deploy asks of it. */
class MemorySwarm implements StackApi {
  services = new Map<string, Service>();
  networks = new Map<string, NetworkSummary>();
  secretsById = new Map<string, Secret>();
  configsById = new Map<string, Config>();
  calls: string[] = [];
  failOn?: string;
  private n = 0;
  private id = (p: string): string => `${p}${++this.n}`;
  private check(call: string): void {
    this.calls.push(call);
    if (this.failOn === call) throw new DaemonError(500, `${call} refused`);
  }
  async stackServices(stack: string) {
    return [...this.services.values()].filter((s) => s.Spec.Labels?.[NS] === stack);
  }
  async stackNetworks(stack: string) {
    return [...this.networks.values()].filter((n) => n.Labels?.[NS] === stack);
  }
  async network(name: string) {
    return [...this.networks.values()].find((n) => n.Name === name);
  }
  async secrets() {
    return [...this.secretsById.values()];
  }
  async configs() {
    return [...this.configsById.values()];
  }
  async createNetwork(body: StackNetwork) {
    this.check(`create network ${body.Name}`);
    const Id = this.id('n');
    this.networks.set(Id, { Id, Name: body.Name, Scope: 'swarm', Labels: body.Labels });
    return { Id };
  }
  async removeNetwork(id: string) {
    this.check(`remove network ${this.networks.get(id)?.Name}`);
    this.networks.delete(id);
  }
  async createObject(kind: 'secret' | 'config', spec: ContentSpec) {
    this.check(`create ${kind} ${spec.Name}`);
    const ID = this.id(kind[0]!);
    const o = { ID, Version: { Index: 1 }, CreatedAt: '', UpdatedAt: '', Spec: kind === 'secret' ? { Name: spec.Name, Labels: spec.Labels } : spec };
    (kind === 'secret' ? this.secretsById : this.configsById).set(ID, o as Secret & Config);
    return { ID };
  }
  async updateObject(kind: 'secret' | 'config', id: string, version: number) {
    this.check(`update ${kind} ${id}@${version}`);
  }
  async removeObject(kind: 'secret' | 'config', id: string) {
    this.check(`remove ${kind} ${id}`);
    (kind === 'secret' ? this.secretsById : this.configsById).delete(id);
  }
  async createService(spec: ServiceSpec) {
    this.check(`create service ${spec.Name}`);
    const ID = this.id('s');
    this.services.set(ID, { ID, Version: { Index: 1 }, CreatedAt: '', UpdatedAt: '', Spec: spec, Endpoint: { Spec: { Mode: 'vip' } } });
    return { ID, Warnings: null };
  }
  async updateService(id: string, version: number, spec: ServiceSpec) {
    this.check(`update service ${spec.Name}@${version}`);
    const s = this.services.get(id)!;
    this.services.set(id, { ...s, Version: { Index: version + 1 }, Spec: spec });
    return { Warnings: ['a warning of the manager'] };
  }
  async removeService(id: string) {
    this.check(`remove service ${this.services.get(id)?.Spec.Name}`);
    this.services.delete(id);
  }
  async digest(image: string) {
    return image.startsWith('nginx') ? 'sha256:feed' : undefined;
  }
}

const spec = (name: string, image: string, secrets: string[] = []): ServiceSpec => ({
  Name: `app_${name}`,
  Labels: { [NS]: 'app', 'com.docker.stack.image': image },
  TaskTemplate: {
    ContainerSpec: {
      Image: image,
      Secrets: secrets.map((s) => ({ File: { Name: `/run/secrets/${s}`, UID: '0', GID: '0', Mode: 0o444 }, SecretID: '', SecretName: s })),
    },
  },
});

const objects = (services: ServiceSpec[]): StackObjects => ({
  stack: 'app',
  services,
  networks: [{ Name: 'app_default', Driver: 'overlay', Labels: { [NS]: 'app' } }],
  externalNetworks: [],
  secrets: [{ key: 'token', name: 'app_token', labels: { [NS]: 'app' }, source: { kind: 'environment', variable: 'TOKEN' } }],
  configs: [],
  externalSecrets: [],
  externalConfigs: [],
});

describe('stack deploy runner', () => {
  let out: string[];
  let err: string[];
  const io = (resolveImage: 'always' | 'never' = 'never', prune = false) => ({
    prune,
    resolveImage,
    out: (l: string) => void out.push(l),
    err: (l: string) => void err.push(l),
  });
  beforeEach(() => {
    out = [];
    err = [];
  });

  it('creates in order, services with the IDs of their secrets and the pinned digest; a second run updates', async () => {
    const swarm = new MemorySwarm();
    const o = objects([spec('web', 'nginx:1', ['app_token']), spec('db', 'redis:7')]);
    await deployStack(swarm, o, { TOKEN: 't' }, io('always'));
    assert.deepEqual(out, ['Creating network app_default', 'Creating secret app_token', 'Creating service app_web', 'Creating service app_db']);
    const web = [...swarm.services.values()].find((s) => s.Spec.Name === 'app_web')!;
    assert.equal(web.Spec.TaskTemplate.ContainerSpec.Image, 'nginx:1@sha256:feed');
    assert.equal(web.Spec.TaskTemplate.ContainerSpec.Secrets![0]!.SecretID, [...swarm.secretsById.keys()][0]);
    // redis has no digest here: Docker's warning, and the deploy goes on.
    assert.match(err.join('\n'), /image redis:7 could not be accessed on a registry to record\nits digest/);

    out = [];
    swarm.calls = [];
    await deployStack(swarm, o, { TOKEN: 't' }, io());
    assert.deepEqual(out, [
      `Updating service app_web (id: ${web.ID})`,
      `Updating service app_db (id: ${[...swarm.services.values()].find((s) => s.Spec.Name === 'app_db')!.ID})`,
    ]);
    assert.deepEqual(swarm.calls, [`update secret ${[...swarm.secretsById.keys()][0]}@1`, 'update service app_web@1', 'update service app_db@1']);
    assert.equal(
      [...swarm.services.values()].find((s) => s.Spec.Name === 'app_web')!.Spec.TaskTemplate.ContainerSpec.Image,
      'nginx:1@sha256:feed',
      'the pinned digest is kept',
    );
    assert.ok(err.includes('a warning of the manager'));
  });

  it('a failure rolls back what the run created and names the object', async () => {
    const swarm = new MemorySwarm();
    swarm.failOn = 'create service app_web';
    await assert.rejects(
      deployStack(swarm, objects([spec('db', 'redis:7'), spec('web', 'nginx:1', ['app_token'])]), { TOKEN: 't' }, io()),
      /^Error: failed to create service app_web: Error response from daemon: create service app_web refused$/,
    );
    assert.deepEqual(swarm.calls.slice(-3), ['remove service app_db', `remove secret ${'s2'}`, 'remove network app_default']);
    assert.equal(swarm.services.size + swarm.networks.size + swarm.secretsById.size, 0);
  });

  it('a missing variable stops the deploy before anything is created', async () => {
    const swarm = new MemorySwarm();
    await assert.rejects(deployStack(swarm, objects([spec('web', 'nginx:1')]), {}, io()), /secrets\.token\.environment: variable TOKEN is not set/);
    assert.deepEqual(swarm.calls, []);
  });

  it('--prune removes the services gone from the file', async () => {
    const swarm = new MemorySwarm();
    await deployStack(swarm, objects([spec('web', 'nginx:1'), spec('old', 'nginx:1')]), { TOKEN: 't' }, io());
    out = [];
    await deployStack(swarm, objects([spec('web', 'nginx:1')]), { TOKEN: 't' }, io('never', true));
    assert.equal(out[0], 'Removing service app_old');
    assert.deepEqual(
      [...swarm.services.values()].map((s) => s.Spec.Name),
      ['app_web'],
    );
  });

  it('stack rm: services by name, then secrets, configs, networks; nothing found is reported', async () => {
    const swarm = new MemorySwarm();
    await deployStack(swarm, objects([spec('web', 'nginx:1'), spec('api', 'nginx:1')]), { TOKEN: 't' }, io());
    out = [];
    assert.deepEqual(
      await removeStack(
        swarm,
        'app',
        (l) => void out.push(l),
        (l) => void err.push(l),
      ),
      { found: true, failed: false },
    );
    assert.deepEqual(out, ['Removing service app_api', 'Removing service app_web', 'Removing secret app_token', 'Removing network app_default']);
    assert.deepEqual(
      await removeStack(
        swarm,
        'app',
        (l) => void out.push(l),
        (l) => void err.push(l),
      ),
      { found: false, failed: false },
    );
  });
});
