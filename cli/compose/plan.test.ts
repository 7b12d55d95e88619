import { strict as assert } from 'node:assert';
import { LABELS } from '../../compose-spec/index.js';
import { ANONYMOUS_VOLUME_LABEL, isNoop, planDown, planUp, PlanError, type EngineState, type UpOptions, type UpPlan } from './plan.js';
import { observed, projectFrom } from './testing.js';

const YAML = `
services:
  db:
    image: busybox
    healthcheck: {test: ["CMD", "true"]}
    volumes: [data:/data]
  web:
    image: busybox
    depends_on: {db: {condition: service_healthy, restart: true}}
  worker:
    image: busybox
    depends_on: [web]
    networks: [default, back]
volumes:
  data: {}
networks:
  back: {}
`;

const opts = (o: Partial<UpOptions> = {}): UpOptions => ({ services: [], scale: {}, recreate: 'diverged', removeOrphans: false, ...o });
const empty: EngineState = { containers: [], networks: [], volumes: [] };

/** "service:kind:number" for every container action, level by level. */
function summary(plan: UpPlan): string[][] {
  return plan.levels.map((l) => l.flatMap((s) => s.actions.map((a) => `${s.service}:${a.kind}:${a.number}`)));
}

describe('planUp', () => {
  const p = projectFrom(YAML);
  const net = (key: string, project = 'proj') => ({ id: key, name: `proj_${key}`, labels: { [LABELS.project]: project, [LABELS.network]: key } });
  const vol = (key: string) => ({ name: `proj_${key}`, labels: { [LABELS.project]: 'proj', [LABELS.volume]: key } });
  const upState = (): EngineState => ({
    containers: [observed(p, 'db', 1), observed(p, 'web', 1), observed(p, 'worker', 1)],
    networks: [net('default'), net('back')],
    volumes: [vol('data')],
  });

  it('creates networks, volumes and containers in dependency levels from nothing', () => {
    const plan = planUp(p, empty, opts());
    assert.deepEqual(plan.networks.map((n) => `${n.kind}:${n.name}`), ['create:proj_back', 'create:proj_default']);
    assert.deepEqual(plan.volumes.map((n) => `${n.kind}:${n.name}`), ['create:proj_data']);
    assert.deepEqual(summary(plan), [['db:create:1'], ['web:create:1'], ['worker:create:1']]);
    assert.equal(plan.levels[1]![0]!.actions[0]!.name, 'proj-web-1');
    assert.equal(isNoop(plan), false);
  });

  it('keeps everything on a second up with no change', () => {
    const plan = planUp(p, upState(), opts());
    assert.ok(isNoop(plan));
    assert.deepEqual(summary(plan), [['db:keep:1'], ['web:keep:1'], ['worker:keep:1']]);
  });

  it('recreates only the service whose config changed', () => {
    const changed = projectFrom(YAML.replace('depends_on: [web]', 'depends_on: [web]\n    environment: {A: "1"}'));
    const plan = planUp(changed, upState(), opts());
    assert.deepEqual(summary(plan), [['db:keep:1'], ['web:keep:1'], ['worker:recreate:1']]);
  });

  it('restarts dependants with restart: true when a dependency is recreated', () => {
    const changed = projectFrom(YAML.replace('volumes: [data:/data]', 'volumes: [data:/data]\n    environment: {A: "1"}'));
    assert.deepEqual(summary(planUp(changed, upState(), opts())), [['db:recreate:1'], ['web:restart:1'], ['worker:keep:1']]);
  });

  it('--force-recreate recreates the named services; --no-recreate never does', () => {
    assert.deepEqual(summary(planUp(p, upState(), opts({ recreate: 'force' }))), [['db:recreate:1'], ['web:recreate:1'], ['worker:recreate:1']]);
    const changed = projectFrom(YAML.replace('depends_on: [web]', 'depends_on: [web]\n    environment: {A: "1"}'));
    assert.deepEqual(summary(planUp(changed, upState(), opts({ recreate: 'never' }))), [['db:keep:1'], ['web:keep:1'], ['worker:keep:1']]);
  });

  it('starts stopped containers that are up to date', () => {
    const s = upState();
    s.containers[2] = observed(p, 'worker', 1, { state: 'exited' });
    assert.deepEqual(summary(planUp(p, s, opts())), [['db:keep:1'], ['web:keep:1'], ['worker:start:1']]);
  });

  it('scales up with the next numbers and down by removing the highest', () => {
    const up = planUp(p, upState(), opts({ scale: { web: 3 } }));
    assert.deepEqual(up.levels[1]!.map((s) => s.actions.map((a) => `${a.kind}:${a.name}`)), [['keep:proj-web-1', 'create:proj-web-2', 'create:proj-web-3']]);
    const s = upState();
    s.containers.push(observed(p, 'web', 2), observed(p, 'web', 3));
    assert.deepEqual(summary(planUp(p, s, opts({ scale: { web: 1 } })))[1], ['web:keep:1', 'web:remove:2', 'web:remove:3']);
    assert.deepEqual(summary(planUp(p, s, opts({ scale: { web: 0 } })))[1], ['web:remove:1', 'web:remove:2', 'web:remove:3']);
  });

  it('after a gap, new replicas continue after the highest number', () => {
    const s = upState();
    s.containers.push(observed(p, 'web', 3));
    assert.deepEqual(summary(planUp(p, s, opts({ scale: { web: 3 } })))[1], ['web:keep:1', 'web:keep:3', 'web:create:4']);
  });

  it('rejects container_name with scale > 1 and bad scales', () => {
    const named = projectFrom('services:\n  web: {image: busybox, container_name: front}\n');
    assert.deepEqual(summary(planUp(named, empty, opts())), [['web:create:1']]);
    assert.equal(planUp(named, empty, opts()).levels[0]![0]!.actions[0]!.name, 'front');
    assert.throws(() => planUp(named, empty, opts({ scale: { web: 2 } })), (e: unknown) => e instanceof PlanError && /container_name "front"/.test(e.message));
    assert.throws(() => planUp(p, empty, opts({ scale: { web: -1 } })), PlanError);
  });

  it('a partial up includes dependencies but not other services, and only their resources', () => {
    const plan = planUp(p, empty, opts({ services: ['web'] }));
    assert.deepEqual(summary(plan), [['db:create:1'], ['web:create:1']]);
    assert.deepEqual(plan.networks.map((n) => n.name), ['proj_default']);
    assert.deepEqual(summary(planUp(p, empty, opts({ services: ['web'], noDeps: true }))), [['web:create:1']]);
    assert.throws(() => planUp(p, empty, opts({ services: ['nope'] })), /no such service: nope/);
  });

  it('dependencies are not force-recreated unless asked', () => {
    assert.deepEqual(summary(planUp(p, upState(), opts({ services: ['web'], recreate: 'force' }))), [['db:keep:1'], ['web:recreate:1']]);
  });

  it('independent services share a level', () => {
    const q = projectFrom('services:\n  a: {image: x}\n  b: {image: x}\n  c: {image: x, depends_on: [a, b]}\n');
    assert.deepEqual(summary(planUp(q, empty, opts())), [['a:create:1', 'b:create:1'], ['c:create:1']]);
  });

  it('reports orphans, removes them with --remove-orphans, ignores one-off containers', () => {
    const s = upState();
    s.containers.push(observed(p, 'old', 1), observed(p, 'web', 9, { oneoff: true, name: 'proj-web-run-x' }));
    const plan = planUp(p, s, opts());
    assert.deepEqual(plan.orphans.map((c) => c.name), ['proj-old-1']);
    assert.match(plan.warnings[0]!, /orphan containers \(proj-old-1\)/);
    assert.ok(isNoop(plan));
    const rm = planUp(p, s, opts({ removeOrphans: true }));
    assert.equal(rm.warnings.length, 0);
    assert.equal(isNoop(rm), false);
    assert.deepEqual(summary(rm)[1], ['web:keep:1']);
  });

  it('ignores containers of other projects', () => {
    const other = projectFrom(YAML, 'other');
    const s: EngineState = { containers: [observed(other, 'web', 1)], networks: [], volumes: [] };
    assert.deepEqual(summary(planUp(p, s, opts()))[1], ['web:create:1']);
  });

  it('refuses networks and volumes that belong to another project or key; external ones must exist', () => {
    assert.throws(() => planUp(p, { ...empty, networks: [net('default', 'other')] }, opts()), /incorrect label com\.docker\.compose\.project/);
    assert.throws(() => planUp(p, { ...empty, volumes: [{ name: 'proj_data', labels: { [LABELS.volume]: 'x' } }] }, opts()), /incorrect label com\.docker\.compose\.volume/);
    const ext = projectFrom('services:\n  a: {image: x, networks: [outside]}\nnetworks:\n  outside: {external: true}\n');
    assert.throws(() => planUp(ext, empty, opts()), /network outside declared as external, but could not be found/);
    const plan = planUp(ext, { ...empty, networks: [{ id: 'n', name: 'outside', labels: {} }] }, opts());
    assert.deepEqual(plan.networks, [{ kind: 'exists', key: 'outside', name: 'outside', external: true }]);
  });

  it('is deterministic', () => {
    const s = upState();
    assert.deepEqual(planUp(p, s, opts({ scale: { web: 2 } })), planUp(p, { ...s, containers: [...s.containers].reverse() }, opts({ scale: { web: 2 } })));
  });
});

describe('planDown', () => {
  const p = projectFrom(YAML);
  const state: EngineState = {
    containers: [observed(p, 'db', 1), observed(p, 'web', 1), observed(p, 'web', 2), observed(p, 'worker', 1), observed(p, 'gone', 1), observed(p, 'web', 5, { oneoff: true, name: 'proj-web-run-1' })],
    networks: [
      { id: '1', name: 'proj_default', labels: { [LABELS.project]: 'proj' } },
      { id: '2', name: 'proj_back', labels: { [LABELS.project]: 'proj' } },
      { id: '3', name: 'bridge', labels: {} },
    ],
    volumes: [{ name: 'proj_data', labels: { [LABELS.project]: 'proj' } }],
  };
  const names = (l: { name: string }[][]) => l.map((x) => x.map((c) => c.name).sort());

  it('stops dependants first, keeps volumes without -v, warns about orphans', () => {
    const d = planDown(p, state, { removeOrphans: false, volumes: false });
    assert.deepEqual(names(d.levels), [['proj-worker-1'], ['proj-web-1', 'proj-web-2', 'proj-web-run-1'], ['proj-db-1']]);
    assert.deepEqual(d.networks, ['proj_back', 'proj_default']);
    assert.deepEqual(d.volumes, []);
    assert.match(d.warnings[0]!, /proj-gone-1/);
  });

  it('-v removes volumes, --remove-orphans the orphans first, --rmi local only built images', () => {
    const built = projectFrom(YAML.replace('  worker:\n    image: busybox', '  worker:\n    build: .'));
    const d = planDown(built, state, { removeOrphans: true, volumes: true, rmi: 'local' });
    assert.deepEqual(names(d.levels)[0], ['proj-gone-1']);
    assert.deepEqual(d.volumes, ['proj_data']);
    assert.deepEqual(d.images, ['proj-worker']);
    assert.deepEqual(planDown(built, state, { removeOrphans: true, volumes: true, rmi: 'all' }).images, ['busybox', 'proj-worker']);
  });
});

describe('planUp: network and volume configuration against the engine', () => {
  const p = projectFrom(`
services:
  app: {image: busybox, networks: [back], volumes: [data:/data]}
networks:
  back: {internal: true, driver_opts: {com.docker.network.driver.mtu: "1400"}, ipam: {config: [{subnet: 10.9.0.0/24}]}, labels: {tier: back}}
volumes:
  data: {driver_opts: {type: tmpfs, device: tmpfs}, labels: {keep: "yes"}}
`);
  const netState = (o: { internal?: boolean; subnet?: string; labels?: Record<string, string>; options?: Record<string, string> } = {}): EngineState['networks'][number] => ({
    id: 'n1',
    name: 'proj_back',
    labels: { [LABELS.project]: 'proj', [LABELS.network]: 'back', [LABELS.version]: '0.1.0', ...(o.labels ?? { tier: 'back' }) },
    config: { driver: 'bridge', internal: o.internal ?? true, options: o.options ?? { 'com.docker.network.driver.mtu': '1400' }, ipam: [{ subnet: o.subnet ?? '10.9.0.0/24', gateway: '10.9.0.1' }] },
  });
  const volState = (options: Record<string, string> = { type: 'tmpfs', device: 'tmpfs' }, labels: Record<string, string> = { keep: 'yes' }): EngineState['volumes'][number] => ({
    name: 'proj_data',
    labels: { [LABELS.project]: 'proj', [LABELS.volume]: 'data', ...labels },
    config: { driver: 'local', options },
  });
  const state = (n = netState(), v = volState()): EngineState => ({ containers: [], networks: [n], volumes: [v] });

  it('uses them when they match (an unpinned gateway is the engine\'s choice)', () => {
    const plan = planUp(p, state(), opts());
    assert.deepEqual(plan.networks.map((n) => n.kind), ['exists']);
    assert.deepEqual(plan.volumes.map((n) => n.kind), ['exists']);
  });

  it('refuses a network whose internal flag, subnet, driver options or labels differ, naming the difference and down', () => {
    const cases: Array<[EngineState['networks'][number], RegExp]> = [
      [netState({ internal: false }), /internal: true in the file, false on the engine/],
      [netState({ subnet: '10.8.0.0/24' }), /ipam\.config\[0\]\.subnet: "10\.9\.0\.0\/24" in the file, "10\.8\.0\.0\/24" on the engine/],
      [netState({ options: {} }), /driver_opts\.com\.docker\.network\.driver\.mtu: "1400" in the file, \(unset\) on the engine/],
      [netState({ labels: { tier: 'front' } }), /labels\.tier: "back" in the file, "front" on the engine/],
    ];
    for (const [n, re] of cases) {
      assert.throws(() => planUp(p, state(n), opts()), (e: Error) => e instanceof PlanError && /^network proj_back exists but doesn't match/.test(e.message) && re.test(e.message) && /tscompose down/.test(e.message));
    }
  });

  it('refuses a volume whose driver options or labels differ, suggesting down -v', () => {
    assert.throws(() => planUp(p, state(netState(), volState({ type: 'none' })), opts()), /volume proj_data exists but doesn't match .*driver_opts\.device: "tmpfs" in the file, \(unset\) on the engine.*driver_opts\.type: "tmpfs" in the file, "none" on the engine.*down -v/);
    assert.throws(() => planUp(p, state(netState(), volState(undefined, {})), opts()), /labels\.keep: "yes" in the file, \(unset\) on the engine/);
  });
});

describe('planUp: network_mode service:', () => {
  const p = projectFrom(`
services:
  sidecar: {image: busybox, network_mode: "service:app"}
  app: {image: busybox}
`);

  it('is a dependency: the target service is in an earlier level, and is pulled in when the sidecar is named', () => {
    assert.deepEqual(summary(planUp(p, empty, opts())), [['app:create:1'], ['sidecar:create:1']]);
    assert.deepEqual(summary(planUp(p, empty, opts({ services: ['sidecar'] }))), [['app:create:1'], ['sidecar:create:1']]);
  });

  it('recreates the sidecar when the target is recreated, or its namespace is another container\'s', () => {
    const app = observed(p, 'app', 1);
    const side = { ...observed(p, 'sidecar', 1), networkMode: `container:${app.id}` };
    const networks = [{ id: 'n', name: 'proj_default', labels: { [LABELS.project]: 'proj', [LABELS.network]: 'default' } }];
    assert.ok(isNoop(planUp(p, { containers: [app, side], networks, volumes: [] }, opts())));
    const changed = projectFrom(`
services:
  sidecar: {image: busybox, network_mode: "service:app"}
  app: {image: busybox, environment: {A: "1"}}
`);
    const plan = planUp(changed, { containers: [app, side], networks, volumes: [] }, opts());
    assert.deepEqual(summary(plan), [['app:recreate:1'], ['sidecar:recreate:1']]);
    const stale = { ...side, networkMode: 'container:0123456789ab' };
    const again = planUp(p, { containers: [app, stale], networks, volumes: [] }, opts());
    assert.deepEqual(summary(again), [['app:keep:1'], ['sidecar:recreate:1']]);
    assert.equal(planUp(p, { containers: [app, stale], networks, volumes: [] }, opts({ recreate: 'never' })).levels[1]![0]!.actions[0]!.kind, 'keep');
  });
});

describe('planDown: anonymous volumes', () => {
  it('-v removes the anonymous volumes the containers mount (carried over ones are mounted by name)', () => {
    const p = projectFrom(`
services:
  db: {image: busybox, volumes: [/var/lib/db]}
`);
    const c = { ...observed(p, 'db', 1), mounts: [{ type: 'volume', name: 'a'.repeat(64), destination: '/var/lib/db', rw: true }, { type: 'bind', name: '', destination: '/x', rw: true }] };
    const state: EngineState = { containers: [c], networks: [], volumes: [{ name: 'a'.repeat(64), labels: { [ANONYMOUS_VOLUME_LABEL]: '' } }, { name: 'other', labels: { [ANONYMOUS_VOLUME_LABEL]: '' } }] };
    assert.deepEqual(planDown(p, state, { removeOrphans: false, volumes: true }).volumes, ['a'.repeat(64)]);
    assert.deepEqual(planDown(p, state, { removeOrphans: false, volumes: false }).volumes, []);
  });
});
