import assert from 'node:assert/strict';
import { parseFlags, FlagError } from '../../lib/flags.js';
import type { RunFlagsIo } from '../run-flags.js';
import type { Config, Secret, ServiceSpec } from '../../api/swarm.js';
import { ServiceSpecSchema } from '../../api/swarm.js';
import { addedNetworks, applyUpdate, buildCreateSpec, parseScaleArg, CREATE_FLAGS, parsePortFlag, UPDATE_FLAGS, type References } from './flags.js';

const io = (files: Record<string, string> = {}, env: Record<string, string> = {}): RunFlagsIo => ({
  readFile: (p) => {
    if (!(p in files)) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
    return files[p]!;
  },
  lookupEnv: (k) => env[k],
  cwd: '/home/u',
});

const secret = (id: string, name: string): Secret => ({ ID: id, Version: { Index: 1 }, CreatedAt: '', UpdatedAt: '', Spec: { Name: name } });
const config = (id: string, name: string): Config => ({ ID: id, Version: { Index: 1 }, CreatedAt: '', UpdatedAt: '', Spec: { Name: name } });
const REFS: References = { secrets: [secret('sid1', 'db_pass'), secret('sid2', 'api_key')], configs: [config('cid1', 'nginx_conf')] };

const create = (argv: string[], refs: References = REFS, x: RunFlagsIo = io()): ServiceSpec =>
  buildCreateSpec(parseFlags(argv, CREATE_FLAGS, { stopAtPositional: true }), x, refs);
const update = (spec: ServiceSpec, argv: string[], refs: References = REFS, x: RunFlagsIo = io()): ServiceSpec =>
  applyUpdate(spec, parseFlags(argv, UPDATE_FLAGS), x, refs);

/** Asserts a FlagError whose message matches. */
const flagError = (fn: () => unknown, re: RegExp): void => assert.throws(fn, (e: unknown) => e instanceof FlagError && re.test((e as Error).message));

describe('cli/service/flags: create', () => {
  it('gives Docker defaults: 1 replica, restart any, parallelism 1, pause, stop-first, monitor 5s', () => {
    const s = create(['nginx:1']);
    assert.deepEqual(s.Mode, { Replicated: { Replicas: 1 } });
    assert.equal(s.TaskTemplate.ContainerSpec.Image, 'nginx:1');
    assert.deepEqual(s.TaskTemplate.RestartPolicy, { Condition: 'any', Delay: 5e9, MaxAttempts: 0 });
    assert.deepEqual(s.UpdateConfig, { Parallelism: 1, FailureAction: 'pause', Monitor: 5e9, MaxFailureRatio: 0, Order: 'stop-first' });
    assert.deepEqual(s.RollbackConfig, s.UpdateConfig);
    assert.equal(s.Name, undefined);
    // What the CLI sends is what the manager's schema accepts.
    assert.equal(ServiceSpecSchema.safeParse(s).success, true);
  });

  it('takes the command and its own flags after the image untouched', () => {
    const s = create(['--name', 'web', 'busybox', 'sh', '-c', 'echo hi --name x']);
    assert.equal(s.Name, 'web');
    assert.deepEqual(s.TaskTemplate.ContainerSpec.Args, ['sh', '-c', 'echo hi --name x']);
    assert.deepEqual(create(['--entrypoint', 'sh -c', 'busybox', 'true']).TaskTemplate.ContainerSpec.Command, ['sh', '-c']);
  });

  it('requires an image', () => {
    flagError(() => create(['--name', 'x']), /"tsswarm service create" requires at least 1 argument/);
  });

  it('builds every mode and refuses the flags a mode does not take', () => {
    assert.deepEqual(create(['--mode', 'global', 'x']).Mode, { Global: {} });
    assert.deepEqual(create(['--mode', 'global-job', 'x']).Mode, { GlobalJob: {} });
    assert.deepEqual(create(['--mode', 'replicated-job', '--replicas', '5', 'x']).Mode, { ReplicatedJob: { MaxConcurrent: 5, TotalCompletions: 5 } });
    assert.deepEqual(create(['--mode', 'replicated-job', '--replicas', '5', '--max-concurrent', '2', 'x']).Mode, {
      ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 5 },
    });
    assert.equal(create(['--mode', 'replicated-job', 'x']).TaskTemplate.RestartPolicy?.Condition, 'on-failure');
    assert.deepEqual(create(['--replicas', '3', 'x']).Mode, { Replicated: { Replicas: 3 } });
    flagError(() => create(['--mode', 'global', '--replicas', '2', 'x']), /^replicas can only be used with replicated or replicated-job mode$/);
    flagError(() => create(['--max-concurrent', '2', 'x']), /max-concurrent can only be used with replicated-job mode/);
    flagError(
      () => create(['--mode', 'daemonset', 'x']),
      /^invalid argument "daemonset" for "--mode" flag: expected "replicated", "global", "replicated-job" or "global-job"$/,
    );
    flagError(() => create(['--replicas', '-1', 'x']), /^invalid argument "-1" for "--replicas" flag: expected a non-negative integer$/);
    flagError(() => create(['--replicas', 'two', 'x']), /invalid argument "two" for "--replicas" flag/);
  });

  it('reads env from -e and --env-file, a bare name taking the client value', () => {
    const s = create(
      ['-e', 'A=1', '-e', 'HOME', '-e', 'UNSET', '--env-file', '/e', 'x'],
      REFS,
      io({ '/e': '# c\nB=2\n\nPATHX\n' }, { HOME: '/root', PATHX: '/p' }),
    );
    assert.deepEqual(s.TaskTemplate.ContainerSpec.Env, ['B=2', 'PATHX=/p', 'A=1', 'HOME=/root']);
    flagError(() => create(['--env-file', '/missing', 'x']), /^invalid argument "\/missing" for "--env-file" flag: cannot read the file/);
    flagError(() => create(['-e', '=v', 'x']), /invalid argument "=v" for "-e, --env" flag/);
  });

  it('puts -l on the service and --container-label on the containers', () => {
    const s = create(['-l', 'a=1', '-l', 'flag', '--container-label', 'c=2', 'x']);
    assert.deepEqual(s.Labels, { a: '1', flag: '' });
    assert.deepEqual(s.TaskTemplate.ContainerSpec.Labels, { c: '2' });
    flagError(() => create(['-l', '=x', 'x']), /invalid argument "=x" for "-l, --label" flag: empty label name/);
  });

  it('parses placement: constraints, spread preferences, max per node', () => {
    const s = create([
      '--constraint',
      'node.role==manager',
      '--constraint',
      'node.labels.zone != a',
      '--placement-pref',
      'spread=node.labels.zone',
      '--replicas-max-per-node',
      '2',
      'x',
    ]);
    assert.deepEqual(s.TaskTemplate.Placement, {
      Constraints: ['node.role==manager', 'node.labels.zone != a'],
      Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }],
      MaxReplicas: 2,
    });
    flagError(
      () => create(['--constraint', 'node.role=manager', 'x']),
      /^invalid argument "node.role=manager" for "--constraint" flag: expected ATTRIBUTE==VALUE/,
    );
    flagError(() => create(['--placement-pref', 'pack=node.id', 'x']), /only spread strategy is supported/);
    flagError(() => create(['--placement-pref', 'spread', 'x']), /placement preference must be of the format "<strategy>=<arg>"/);
  });

  it('parses resources in Docker units', () => {
    const s = create(['--reserve-cpu', '0.5', '--reserve-memory', '64m', '--limit-cpu', '1.5', '--limit-memory', '1g', '--limit-pids', '100', 'x']);
    assert.deepEqual(s.TaskTemplate.Resources, {
      Limits: { NanoCPUs: 1.5e9, MemoryBytes: 1024 ** 3, Pids: 100 },
      Reservations: { NanoCPUs: 5e8, MemoryBytes: 64 * 1024 ** 2 },
    });
    flagError(() => create(['--limit-cpu', 'lots', 'x']), /^invalid argument "lots" for "--limit-cpu" flag/);
    flagError(() => create(['--reserve-memory', '12q', 'x']), /^invalid argument "12q" for "--reserve-memory" flag/);
  });

  it('parses mounts with the run parser, naming --mount in errors', () => {
    const s = create(['--mount', 'type=volume,source=data,target=/data', '--mount', 'type=bind,src=./conf,dst=/etc/app,ro', 'x']);
    assert.deepEqual(s.TaskTemplate.ContainerSpec.Mounts, [
      { Type: 'volume', Source: 'data', Target: '/data' },
      { Type: 'bind', Source: '/home/u/conf', Target: '/etc/app', ReadOnly: true },
    ]);
    flagError(() => create(['--mount', 'type=volume,source=x', 'x']), /invalid argument "type=volume,source=x" for "--mount" flag: target is required/);
  });

  it('parses -p short and long forms into ingress or host ports', () => {
    const s = create(['-p', '8080:80', '-p', '53:53/udp', '-p', 'published=9000,target=90,mode=host,protocol=sctp', '-p', '7000', 'x']);
    assert.deepEqual(s.EndpointSpec?.Ports, [
      { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' },
      { Protocol: 'udp', TargetPort: 53, PublishedPort: 53, PublishMode: 'ingress' },
      { Protocol: 'sctp', TargetPort: 90, PublishedPort: 9000, PublishMode: 'host' },
      { Protocol: 'tcp', TargetPort: 7000, PublishMode: 'ingress' },
    ]);
    assert.deepEqual(parsePortFlag('8000-8001:80-81'), [
      { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8000, PublishMode: 'ingress' },
      { Protocol: 'tcp', TargetPort: 81, PublishedPort: 8001, PublishMode: 'ingress' },
    ]);
    flagError(() => parsePortFlag('published=80'), /^invalid argument "published=80" for "-p, --publish" flag: missing mandatory field "target"$/);
    flagError(() => parsePortFlag('target=80,mode=bridge'), /invalid publish mode value 'bridge'/);
    flagError(() => parsePortFlag('target=80,proto=tcp'), /invalid field key 'proto'/);
    flagError(() => parsePortFlag('target=99999'), /invalid target port '99999'/);
    flagError(() => parsePortFlag('127.0.0.1:80:80'), /drop the host IP 127.0.0.1/);
    flagError(() => parsePortFlag('80:80/xyz'), /invalid argument "80:80\/xyz" for "-p, --publish" flag: unknown protocol "xyz"/);
  });

  it('resolves --secret and --config names to IDs, with Docker defaults and checks', () => {
    const s = create([
      '--secret',
      'db_pass',
      '--secret',
      'source=api_key,target=key,uid=100,gid=101,mode=0400',
      '--config',
      'src=nginx_conf,target=/etc/nginx/nginx.conf',
      'x',
    ]);
    assert.deepEqual(s.TaskTemplate.ContainerSpec.Secrets, [
      { SecretID: 'sid1', SecretName: 'db_pass', File: { Name: 'db_pass', UID: '0', GID: '0', Mode: 0o444 } },
      { SecretID: 'sid2', SecretName: 'api_key', File: { Name: 'key', UID: '100', GID: '101', Mode: 0o400 } },
    ]);
    assert.deepEqual(s.TaskTemplate.ContainerSpec.Configs, [
      { ConfigID: 'cid1', ConfigName: 'nginx_conf', File: { Name: '/etc/nginx/nginx.conf', UID: '0', GID: '0', Mode: 0o444 } },
    ]);
    flagError(() => create(['--secret', 'nope', 'x']), /^secret not found: nope/);
    flagError(() => create(['--config', 'nope', 'x']), /^config not found: nope/);
    flagError(() => create(['--secret', 'db_pass', '--secret', 'source=api_key,target=db_pass', 'x']), /^duplicate secret target for api_key not allowed$/);
    flagError(() => create(['--secret', 'source=db_pass,mode=999', 'x']), /invalid mode '999'/);
    flagError(() => create(['--secret', 'target=x', 'x']), /invalid argument "target=x" for "--secret" flag: source is required/);
  });

  it('parses networks, short and long', () => {
    const s = create(['--network', 'front', '--network', 'name=back,alias=db,alias=pg,driver-opt=mtu=1400', 'x']);
    assert.deepEqual(s.TaskTemplate.Networks, [{ Target: 'front' }, { Target: 'back', Aliases: ['db', 'pg'], DriverOpts: { mtu: '1400' } }]);
    flagError(() => create(['--network', 'alias=x', 'x']), /network name is required/);
  });

  it('parses the healthcheck flags and refuses them with --no-healthcheck', () => {
    const s = create([
      '--health-cmd',
      'curl -f localhost',
      '--health-interval',
      '10s',
      '--health-timeout',
      '2s',
      '--health-retries',
      '3',
      '--health-start-period',
      '1m',
      'x',
    ]);
    assert.deepEqual(s.TaskTemplate.ContainerSpec.HealthCheck, {
      Test: ['CMD-SHELL', 'curl -f localhost'],
      Interval: 10e9,
      Timeout: 2e9,
      StartPeriod: 60e9,
      Retries: 3,
    });
    assert.deepEqual(create(['--no-healthcheck', 'x']).TaskTemplate.ContainerSpec.HealthCheck, { Test: ['NONE'] });
    flagError(() => create(['--no-healthcheck', '--health-cmd', 'true', 'x']), /^--no-healthcheck conflicts with --health-\* options$/);
    flagError(() => create(['--health-interval', '10', 'x']), /^invalid argument "10" for "--health-interval" flag: expected a duration/);
  });

  it('parses restart, update and rollback policies with their allowed values', () => {
    const s = create([
      ...['--restart-condition', 'on-failure', '--restart-delay', '1s', '--restart-max-attempts', '3', '--restart-window', '1m'],
      ...[
        '--update-parallelism',
        '2',
        '--update-delay',
        '10s',
        '--update-failure-action',
        'rollback',
        '--update-monitor',
        '30s',
        '--update-max-failure-ratio',
        '0.25',
        '--update-order',
        'start-first',
      ],
      ...['--rollback-parallelism', '0', '--rollback-failure-action', 'continue', '--rollback-order', 'start-first'],
      'x',
    ]);
    assert.deepEqual(s.TaskTemplate.RestartPolicy, { Condition: 'on-failure', Delay: 1e9, MaxAttempts: 3, Window: 60e9 });
    assert.deepEqual(s.UpdateConfig, { Parallelism: 2, Delay: 10e9, FailureAction: 'rollback', Monitor: 30e9, MaxFailureRatio: 0.25, Order: 'start-first' });
    assert.deepEqual(s.RollbackConfig, { Parallelism: 0, FailureAction: 'continue', Monitor: 5e9, MaxFailureRatio: 0, Order: 'start-first' });
    flagError(
      () => create(['--restart-condition', 'always', 'x']),
      /^invalid argument "always" for "--restart-condition" flag: expected "none", "on-failure" or "any"$/,
    );
    flagError(() => create(['--rollback-failure-action', 'rollback', 'x']), /for "--rollback-failure-action" flag: expected "pause" or "continue"/);
    flagError(() => create(['--update-order', 'random', 'x']), /"--update-order" flag: expected "start-first" or "stop-first"/);
    flagError(() => create(['--update-max-failure-ratio', '1.5', 'x']), /expected a number between 0 and 1/);
    flagError(() => create(['--update-delay', '-1s', 'x']), /a duration cannot be negative/);
  });

  it('sets the container fields', () => {
    const cs = create(['--stop-grace-period', '30s', '--stop-signal', 'SIGINT', '-u', '1000:1000', '-w', '/app', '--hostname', 'h1', '--init', 'x'])
      .TaskTemplate.ContainerSpec;
    assert.deepEqual(
      { g: cs.StopGracePeriod, s: cs.StopSignal, u: cs.User, w: cs.Dir, h: cs.Hostname, i: cs.Init },
      { g: 30e9, s: 'SIGINT', u: '1000:1000', w: '/app', h: 'h1', i: true },
    );
  });
});

describe('cli/service/flags: update', () => {
  const base = (): ServiceSpec =>
    create([
      '--name',
      'web',
      '-e',
      'A=1',
      '-e',
      'B=2',
      '-l',
      'tier=front',
      '--constraint',
      'node.role==worker',
      '-p',
      '8080:80',
      '-p',
      '9090:90',
      '--mount',
      'type=volume,source=d,target=/data',
      '--secret',
      'db_pass',
      '--network',
      'front',
      '--replicas',
      '2',
      'nginx:1',
    ]);

  it('changes only what the flags name, leaving the current spec alone', () => {
    const cur = base();
    const before = structuredClone(cur);
    const s = update(cur, ['--image', 'nginx:2', '--replicas', '4']);
    assert.deepEqual(cur, before);
    assert.equal(s.TaskTemplate.ContainerSpec.Image, 'nginx:2');
    assert.deepEqual(s.Mode, { Replicated: { Replicas: 4 } });
    assert.deepEqual({ ...s, TaskTemplate: { ...s.TaskTemplate, ContainerSpec: { ...s.TaskTemplate.ContainerSpec, Image: 'nginx:1' } }, Mode: cur.Mode }, cur);
  });

  it('adds and removes env by name, in place', () => {
    const s = update(base(), ['--env-rm', 'A', '--env-add', 'B=3', '--env-add', 'C=4']);
    assert.deepEqual(s.TaskTemplate.ContainerSpec.Env, ['B=3', 'C=4']);
  });

  it('adds and removes labels, container labels and constraints', () => {
    const s = update(base(), [
      '--label-add',
      'x=y',
      '--label-rm',
      'tier',
      '--container-label-add',
      'c=1',
      '--constraint-rm',
      'node.role == worker',
      '--constraint-add',
      'node.labels.ssd==true',
    ]);
    assert.deepEqual(s.Labels, { x: 'y' });
    assert.deepEqual(s.TaskTemplate.ContainerSpec.Labels, { c: '1' });
    assert.deepEqual(s.TaskTemplate.Placement?.Constraints, ['node.labels.ssd==true']);
  });

  it('removes ports by target port and adds new ones, replacing a clash on the published port', () => {
    const s = update(base(), ['--publish-rm', '90', '--publish-add', '8080:81', '--publish-add', 'published=5353,target=53,protocol=udp']);
    assert.deepEqual(s.EndpointSpec?.Ports, [
      { Protocol: 'tcp', TargetPort: 81, PublishedPort: 8080, PublishMode: 'ingress' },
      { Protocol: 'udp', TargetPort: 53, PublishedPort: 5353, PublishMode: 'ingress' },
    ]);
    assert.deepEqual(update(base(), ['--publish-rm', '80/udp']).EndpointSpec?.Ports?.length, 2);
    assert.deepEqual(
      update(base(), ['--publish-rm', '9090:90']).EndpointSpec?.Ports?.map((p) => p.TargetPort),
      [80],
    );
  });

  it('removes mounts by target and replaces one of the same target', () => {
    const s = update(base(), ['--mount-add', 'type=tmpfs,target=/data', '--mount-add', 'type=volume,source=logs,target=/logs']);
    assert.deepEqual(s.TaskTemplate.ContainerSpec.Mounts, [
      { Type: 'tmpfs', Target: '/data' },
      { Type: 'volume', Source: 'logs', Target: '/logs' },
    ]);
    assert.deepEqual(update(base(), ['--mount-rm', '/data']).TaskTemplate.ContainerSpec.Mounts, []);
  });

  it('adds and removes secrets and networks', () => {
    const s = update(base(), ['--secret-rm', 'db_pass', '--secret-add', 'api_key', '--network-rm', 'front', '--network-add', 'back']);
    assert.deepEqual(
      s.TaskTemplate.ContainerSpec.Secrets?.map((x) => x.SecretName),
      ['api_key'],
    );
    assert.deepEqual(s.TaskTemplate.Networks, [{ Target: 'back' }]);
    flagError(() => update(base(), ['--network-add', 'front']), /already attached to network front/);
    flagError(() => update(base(), ['--secret-add', 'ghost']), /^secret not found: ghost/);
  });

  it('bumps ForceUpdate with --force', () => {
    const once = update(base(), ['--force']);
    assert.equal(once.TaskTemplate.ForceUpdate, 1);
    assert.equal(update(once, ['--force']).TaskTemplate.ForceUpdate, 2);
  });

  it('applies the shared flags on top of the current values', () => {
    const s = update(base(), ['--update-parallelism', '3', '--limit-memory', '256m', '--restart-condition', 'none', '--health-retries', '5', '--init=false']);
    assert.equal(s.UpdateConfig?.Parallelism, 3);
    assert.equal(s.UpdateConfig?.Order, 'stop-first');
    assert.deepEqual(s.TaskTemplate.Resources?.Limits, { MemoryBytes: 256 * 1024 ** 2 });
    assert.deepEqual(s.TaskTemplate.RestartPolicy, { Condition: 'none', Delay: 5e9, MaxAttempts: 0 });
    assert.deepEqual(s.TaskTemplate.ContainerSpec.HealthCheck, { Retries: 5 });
    assert.equal(s.TaskTemplate.ContainerSpec.Init, false);
  });

  it('refuses --replicas on global services and --max-concurrent off replicated jobs', () => {
    const g = create(['--mode', 'global', 'x']);
    flagError(() => update(g, ['--replicas', '2']), /replicas can only be used with replicated or replicated-job mode/);
    flagError(() => update(base(), ['--max-concurrent', '2']), /max-concurrent can only be used with replicated-job mode/);
    const job = create(['--mode', 'replicated-job', '--replicas', '4', 'x']);
    assert.deepEqual(update(job, ['--replicas', '6', '--max-concurrent', '3']).Mode, { ReplicatedJob: { MaxConcurrent: 3, TotalCompletions: 6 } });
  });

  it('--rollback keeps the spec and takes no other change', () => {
    const cur = base();
    assert.deepEqual(update(cur, ['--rollback', '-d']), cur);
    flagError(() => update(cur, ['--rollback', '--image', 'y']), /^other flags may not be combined with --rollback/);
  });

  it('--args replaces the arguments, split as a shell would', () => {
    assert.deepEqual(update(base(), ['--args', 'nginx -g "daemon off;"']).TaskTemplate.ContainerSpec.Args, ['nginx', '-g', 'daemon off;']);
  });
});

describe('cli/service/flags: scale and networks', () => {
  it('parses SERVICE=REPLICAS', () => {
    assert.deepEqual(parseScaleArg('web=3'), { name: 'web', replicas: 3 });
    flagError(() => parseScaleArg('web'), /^invalid scale specifier 'web'\./);
    flagError(() => parseScaleArg('=3'), /^invalid scale specifier '=3'\./);
    flagError(() => parseScaleArg('web=x'), /^invalid replicas value x: expected a non-negative integer/);
  });

  it('names the networks --network-add brings, in either form', () => {
    assert.deepEqual([...addedNetworks(parseFlags(['--network-add', 'front', '--network-add', 'name=back,alias=b', 'web'], UPDATE_FLAGS))], ['front', 'back']);
  });
});

describe('cli/service/flags --rebalance', () => {
  it('opts a service out (and back in) through the label the orchestrator reads', () => {
    const off = create(['--rebalance=false', 'busybox']);
    assert.equal(off.Labels?.['com.tsswarm.rebalance'], 'false');
    assert.equal(create(['busybox']).Labels?.['com.tsswarm.rebalance'], undefined);
    assert.equal(update(off, ['--rebalance']).Labels?.['com.tsswarm.rebalance'], 'true');
  });
});

describe('cli/service/flags --endpoint-mode', () => {
  it('sets EndpointSpec.Mode and refuses anything but vip or dnsrr', () => {
    assert.equal(create(['--endpoint-mode', 'dnsrr', 'busybox']).EndpointSpec?.Mode, 'dnsrr');
    flagError(() => create(['--endpoint-mode', 'rr', 'busybox']), /invalid argument "rr" for "--endpoint-mode" flag: want vip or dnsrr/);
  });
});
