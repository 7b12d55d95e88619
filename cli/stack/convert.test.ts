// Compose YAML written here → loaded with tscompose's loader → the stack's swarm objects.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceSpecSchema, type ServiceSpec } from '../../api/swarm.js';
import { convertStack, StackConvertError, type StackObjects } from './convert.js';
import { loadStack, StackLoadError } from './load.js';
import { stackWarnings } from './unsupported.js';

describe('stack convert', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsswarm-stack-convert-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const load = (yaml: string, env: Record<string, string> = {}, extra: Record<string, string> = {}) => {
    writeFileSync(join(dir, 'compose.yaml'), yaml);
    const files = [join(dir, 'compose.yaml')];
    for (const [name, text] of Object.entries(extra)) {
      writeFileSync(join(dir, name), text);
      if (name.endsWith('.yaml')) files.push(join(dir, name));
    }
    return loadStack(files, 'app', dir, env);
  };
  const convert = (yaml: string, env: Record<string, string> = {}, extra: Record<string, string> = {}): StackObjects =>
    convertStack(load(yaml, env, extra).project, 'app');
  const service = (yaml: string, name = 'web'): ServiceSpec => {
    const s = convert(yaml).services.find((x) => x.Name === `app_${name}`);
    assert.ok(s, `service app_${name}`);
    // Every spec we build must pass the manager's own schema.
    ServiceSpecSchema.parse(s);
    return s;
  };
  const problems = (yaml: string): string => {
    try {
      const p = load(yaml).project;
      stackWarnings(p);
      convertStack(p, 'app');
    } catch (e) {
      if (e instanceof StackConvertError || e instanceof StackLoadError) return e.message;
      throw e;
    }
    return assert.fail('expected a conversion error');
  };

  it('names and labels: STACK_name, the namespace label everywhere, the image label on the service', () => {
    const s = service('services:\n  web:\n    image: nginx:1.25\n    labels: {tier: front}\n    deploy: {labels: {owner: ops}}\n');
    assert.equal(s.Name, 'app_web');
    assert.deepEqual(s.Labels, { owner: 'ops', 'com.docker.stack.namespace': 'app', 'com.docker.stack.image': 'nginx:1.25' });
    assert.deepEqual(s.TaskTemplate.ContainerSpec.Labels, { tier: 'front', 'com.docker.stack.namespace': 'app' });
    assert.equal(s.TaskTemplate.ContainerSpec.Image, 'nginx:1.25');
    assert.deepEqual(s.Mode, { Replicated: {} });
  });

  it('the default network: app_default overlay, attached with the short name as alias', () => {
    const o = convert('services:\n  web: {image: nginx}\n  db: {image: redis}\n');
    assert.deepEqual(o.networks, [{ Name: 'app_default', Driver: 'overlay', Labels: { 'com.docker.stack.namespace': 'app' } }]);
    assert.deepEqual(
      o.services.map((s) => s.Name),
      ['app_db', 'app_web'],
    );
    assert.deepEqual(o.services[1]!.TaskTemplate.Networks, [{ Target: 'app_default', Aliases: ['web'] }]);
  });

  it('declared networks: aliases, driver options, name:, external ones left to check', () => {
    const o = convert(
      [
        'services:',
        '  web:',
        '    image: nginx',
        '    networks:',
        '      front: {aliases: [www]}',
        '      back:',
        '      shared:',
        'networks:',
        '  front: {driver_opts: {encrypted: ""}, attachable: true, labels: {a: b}}',
        '  back: {name: custom-back, internal: true, ipam: {config: [{subnet: 10.9.0.0/24}]}}',
        '  shared: {external: true, name: corp}',
        '',
      ].join('\n'),
    );
    assert.deepEqual(o.externalNetworks, ['corp']);
    assert.deepEqual(o.networks, [
      {
        Name: 'custom-back',
        Driver: 'overlay',
        Labels: { 'com.docker.stack.namespace': 'app' },
        Internal: true,
        IPAM: { Config: [{ Subnet: '10.9.0.0/24' }] },
      },
      { Name: 'app_front', Driver: 'overlay', Labels: { a: 'b', 'com.docker.stack.namespace': 'app' }, Options: { encrypted: '' }, Attachable: true },
    ]);
    assert.deepEqual(o.services[0]!.TaskTemplate.Networks, [
      { Target: 'app_front', Aliases: ['www', 'web'] },
      { Target: 'corp', Aliases: ['web'] },
      { Target: 'custom-back', Aliases: ['web'] },
    ]);
  });

  it('command, entrypoint, environment (env_file under environment, sorted), user, dir, hostname, init, stop settings', () => {
    writeFileSync(join(dir, 'web.env'), 'ONLY_FILE=1\nFROM_FILE=file\n');
    const s = service(
      [
        'services:',
        '  web:',
        '    image: nginx',
        '    entrypoint: /bin/sh -c',
        '    command: ["echo", "hi there"]',
        '    env_file: web.env',
        '    environment: {B: "2", UNSET: null, FROM_FILE: override}',
        '    user: "1000:1000"',
        '    working_dir: /srv',
        '    hostname: web-host',
        '    init: true',
        '    stop_grace_period: 1m30s',
        '    stop_signal: SIGUSR1',
        '    read_only: true',
        '    cap_add: [NET_ADMIN]',
        '    sysctls: {net.core.somaxconn: "1024"}',
        '    ulimits: {nofile: {soft: 100, hard: 200}}',
        '    extra_hosts: ["db.local:10.0.0.5"]',
        '    dns: [1.1.1.1]',
        '',
      ].join('\n'),
    );
    const c = s.TaskTemplate.ContainerSpec;
    assert.deepEqual(c.Command, ['/bin/sh', '-c']);
    assert.deepEqual(c.Args, ['echo', 'hi there']);
    assert.deepEqual(c.Env, ['B=2', 'FROM_FILE=override', 'ONLY_FILE=1', 'UNSET']);
    assert.equal(c.User, '1000:1000');
    assert.equal(c.Dir, '/srv');
    assert.equal(c.Hostname, 'web-host');
    assert.equal(c.Init, true);
    assert.equal(c.StopGracePeriod, 90e9);
    assert.equal(c.StopSignal, 'SIGUSR1');
    assert.equal(c.ReadOnly, true);
    assert.deepEqual(c.CapabilityAdd, ['NET_ADMIN']);
    assert.deepEqual(c.Sysctls, { 'net.core.somaxconn': '1024' });
    assert.deepEqual(c.Ulimits, [{ Name: 'nofile', Soft: 100, Hard: 200 }]);
    assert.deepEqual(c.Hosts, ['10.0.0.5 db.local']);
    assert.deepEqual(c.DNSConfig, { Nameservers: ['1.1.1.1'] });
  });

  it('healthcheck: durations in ns; disable → NONE', () => {
    const s = service(
      'services:\n  web:\n    image: nginx\n    healthcheck: {test: ["CMD", "true"], interval: 5s, timeout: 2s, retries: 3, start_period: 1s}\n',
    );
    assert.deepEqual(s.TaskTemplate.ContainerSpec.HealthCheck, { Test: ['CMD', 'true'], Interval: 5e9, Timeout: 2e9, StartPeriod: 1e9, Retries: 3 });
    const d = service('services:\n  web:\n    image: nginx\n    healthcheck: {disable: true}\n');
    assert.deepEqual(d.TaskTemplate.ContainerSpec.HealthCheck, { Test: ['NONE'] });
  });

  it('ports: short and long syntax, ingress and host mode, sorted by published port', () => {
    const s = service(
      'services:\n  web:\n    image: nginx\n    ports:\n      - "8080:80"\n      - "53:53/udp"\n      - {target: 443, published: 8443, mode: host}\n      - "9000"\n',
    );
    assert.deepEqual(s.EndpointSpec, {
      Mode: 'vip',
      Ports: [
        { Protocol: 'tcp', TargetPort: 9000, PublishMode: 'ingress' },
        { Protocol: 'udp', TargetPort: 53, PublishedPort: 53, PublishMode: 'ingress' },
        { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' },
        { Protocol: 'tcp', TargetPort: 443, PublishedPort: 8443, PublishMode: 'host' },
      ],
    });
  });

  it('volumes: named → STACK_vol with labels and driver, external by its name, bind, tmpfs, anonymous', () => {
    const s = service(
      [
        'services:',
        '  web:',
        '    image: nginx',
        '    volumes:',
        '      - data:/data',
        '      - ext:/ext:ro',
        '      - /srv/html:/usr/share/nginx/html:ro',
        '      - {type: tmpfs, target: /cache, tmpfs: {size: 1048576}}',
        '      - /anon',
        '    tmpfs: [/run/x]',
        'volumes:',
        '  data: {driver: local, driver_opts: {type: none}, labels: {keep: "yes"}}',
        '  ext: {external: true, name: shared-data}',
        '',
      ].join('\n'),
    );
    assert.deepEqual(s.TaskTemplate.ContainerSpec.Mounts, [
      {
        Type: 'volume',
        Source: 'app_data',
        Target: '/data',
        VolumeOptions: { Labels: { keep: 'yes', 'com.docker.stack.namespace': 'app' }, DriverConfig: { Name: 'local', Options: { type: 'none' } } },
      },
      { Type: 'volume', Source: 'shared-data', Target: '/ext', ReadOnly: true },
      { Type: 'bind', Source: '/srv/html', Target: '/usr/share/nginx/html', ReadOnly: true },
      { Type: 'tmpfs', Target: '/cache', TmpfsOptions: { SizeBytes: 1048576 } },
      { Type: 'volume', Target: '/anon' },
      { Type: 'tmpfs', Target: '/run/x' },
    ]);
  });

  it('secrets and configs: objects named STACK_key or name:, references with default targets, uid/gid/mode, sorted', () => {
    const o = convert(
      [
        'services:',
        '  web:',
        '    image: nginx',
        '    secrets:',
        '      - token',
        '      - {source: cert, target: tls.pem, uid: "101", gid: "102", mode: 0400}',
        '      - corp',
        '    configs:',
        '      - site',
        '      - {source: motd, target: /etc/motd}',
        'secrets:',
        '  token: {file: ./token.txt}',
        '  cert: {environment: CERT, name: the-cert}',
        '  corp: {external: true}',
        'configs:',
        '  site: {file: ./site.conf, template_driver: golang}',
        '  motd: {content: "hello"}',
        '',
      ].join('\n'),
    );
    assert.deepEqual(o.externalSecrets, ['corp']);
    assert.deepEqual(o.externalConfigs, []);
    assert.deepEqual(o.secrets, [
      { key: 'cert', name: 'the-cert', labels: { 'com.docker.stack.namespace': 'app' }, source: { kind: 'environment', variable: 'CERT' } },
      { key: 'token', name: 'app_token', labels: { 'com.docker.stack.namespace': 'app' }, source: { kind: 'file', path: join(dir, 'token.txt') } },
    ]);
    assert.deepEqual(o.configs, [
      { key: 'motd', name: 'app_motd', labels: { 'com.docker.stack.namespace': 'app' }, source: { kind: 'inline', content: 'hello' } },
      {
        key: 'site',
        name: 'app_site',
        labels: { 'com.docker.stack.namespace': 'app' },
        source: { kind: 'file', path: join(dir, 'site.conf') },
        templateDriver: 'golang',
      },
    ]);
    const c = o.services[0]!.TaskTemplate.ContainerSpec;
    assert.deepEqual(c.Secrets, [
      { File: { Name: '/run/secrets/token', UID: '0', GID: '0', Mode: 0o444 }, SecretID: '', SecretName: 'app_token' },
      { File: { Name: '/run/secrets/corp', UID: '0', GID: '0', Mode: 0o444 }, SecretID: '', SecretName: 'corp' },
      { File: { Name: '/run/secrets/tls.pem', UID: '101', GID: '102', Mode: 0o400 }, SecretID: '', SecretName: 'the-cert' },
    ]);
    assert.deepEqual(c.Configs, [
      { File: { Name: '/etc/motd', UID: '0', GID: '0', Mode: 0o444 }, ConfigID: '', ConfigName: 'app_motd' },
      { File: { Name: '/site', UID: '0', GID: '0', Mode: 0o444 }, ConfigID: '', ConfigName: 'app_site' },
    ]);
  });

  it('deploy: replicas, resources, restart policy, update/rollback config, placement, endpoint mode', () => {
    const s = service(
      [
        'services:',
        '  web:',
        '    image: nginx',
        '    deploy:',
        '      replicas: 3',
        '      endpoint_mode: dnsrr',
        '      resources:',
        '        limits: {cpus: "0.5", memory: 64M, pids: 100}',
        '        reservations: {cpus: "0.25", memory: 32M}',
        '      restart_policy: {condition: on-failure, delay: 5s, max_attempts: 3, window: 2m}',
        '      update_config: {parallelism: 2, delay: 10s, failure_action: rollback, monitor: 30s, max_failure_ratio: 0.2, order: start-first}',
        '      rollback_config: {delay: 1s}',
        '      placement:',
        '        constraints: [node.role == manager]',
        '        preferences: [{spread: node.labels.zone}]',
        '        max_replicas_per_node: 2',
        '',
      ].join('\n'),
    );
    assert.deepEqual(s.Mode, { Replicated: { Replicas: 3 } });
    assert.deepEqual(s.EndpointSpec, { Mode: 'dnsrr' });
    assert.deepEqual(s.TaskTemplate.Resources, {
      Limits: { NanoCPUs: 5e8, MemoryBytes: 64 * 1024 * 1024, Pids: 100 },
      Reservations: { NanoCPUs: 2.5e8, MemoryBytes: 32 * 1024 * 1024 },
    });
    assert.deepEqual(s.TaskTemplate.RestartPolicy, { Condition: 'on-failure', Delay: 5e9, MaxAttempts: 3, Window: 120e9 });
    assert.deepEqual(s.UpdateConfig, { Parallelism: 2, Delay: 10e9, FailureAction: 'rollback', Monitor: 30e9, MaxFailureRatio: 0.2, Order: 'start-first' });
    assert.deepEqual(s.RollbackConfig, { Parallelism: 1, Delay: 1e9 });
    assert.deepEqual(s.TaskTemplate.Placement, {
      Constraints: ['node.role == manager'],
      Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }],
      MaxReplicas: 2,
    });
  });

  it('deploy modes: global, replicated-job, global-job', () => {
    assert.deepEqual(service('services:\n  web: {image: nginx, deploy: {mode: global}}\n').Mode, { Global: {} });
    assert.deepEqual(service('services:\n  web: {image: nginx, deploy: {mode: replicated-job, replicas: 4}}\n').Mode, {
      ReplicatedJob: { MaxConcurrent: 4, TotalCompletions: 4 },
    });
    assert.deepEqual(service('services:\n  web: {image: nginx, deploy: {mode: global-job}}\n').Mode, { GlobalJob: {} });
  });

  it('restart: read as a restart policy when deploy.restart_policy is absent, and warned about', () => {
    const yaml = 'services:\n  web: {image: nginx, restart: on-failure:4, build: ., links: [db]}\n  db: {image: redis, restart: always}\n';
    const o = convert(yaml);
    assert.deepEqual(o.services.find((s) => s.Name === 'app_web')!.TaskTemplate.RestartPolicy, { Condition: 'on-failure', MaxAttempts: 4 });
    assert.deepEqual(o.services.find((s) => s.Name === 'app_db')!.TaskTemplate.RestartPolicy, { Condition: 'any' });
    assert.deepEqual(stackWarnings(load(yaml).project), ['Ignoring unsupported options: build, links, restart']);
  });

  it('warns about deprecated options with their reason; depends_on is named, not dropped silently', () => {
    const w = stackWarnings(load('services:\n  web: {image: nginx, container_name: web1, expose: ["80"], depends_on: [db]}\n  db: {image: redis}\n').project);
    assert.deepEqual(w, [
      'Ignoring unsupported options: depends_on',
      "Ignoring deprecated options:\n\ncontainer_name: Setting the container name is not supported.\n\nexpose: Exposing ports is unnecessary - services on the same network can access each other's containers on any port.",
    ]);
    assert.deepEqual(stackWarnings(load('services:\n  web: {image: nginx}\n').project), []);
  });

  it('errors name the key path: forbidden keys, bad values, missing image, undefined references', () => {
    assert.match(problems('services:\n  web: {image: nginx, mem_limit: 1g}\n'), /services\.web\.mem_limit: Set resource limits using deploy\.resources/);
    assert.match(problems('services:\n  web: {image: nginx, volumes_from: [db]}\n  db: {image: redis}\n'), /services\.web\.volumes_from: To share a volume/);
    assert.match(
      problems('services:\n  web: {image: nginx, deploy: {mode: global, replicas: 2}}\n'),
      /services\.web\.deploy\.replicas: replicas can only be used with replicated or replicated-job mode/,
    );
    assert.match(problems('services:\n  web: {image: nginx, deploy: {replicas: many}}\n'), /services\.web\.deploy\.replicas/);
    assert.match(
      problems('services:\n  web: {image: nginx, deploy: {mode: sometimes}}\n'),
      /services\.web\.deploy\.mode: must be 'replicated', 'global', 'replicated-job' or 'global-job'/,
    );
    assert.match(problems('services:\n  web: {build: .}\n'), /services\.web\.image: required/);
    assert.match(problems('services:\n  web: {image: nginx, ports: ["8000-8001:80"]}\n'), /services\.web\.ports\[0\]\.published: "8000-8001"/);
    assert.match(problems('services:\n  web: {image: nginx, ports: ["127.0.0.1:80:80"]}\n'), /services\.web\.ports\[0\]\.host_ip/);
    assert.match(
      problems('services:\n  web: {image: nginx, deploy: {update_config: {failure_action: explode}}}\n'),
      /services\.web\.deploy\.update_config\.failure_action: must be continue, pause or rollback/,
    );
    assert.match(
      problems('services:\n  web: {image: nginx, deploy: {endpoint_mode: dnsrr}, ports: ["80:80"]}\n'),
      /services\.web\.deploy\.endpoint_mode: dnsrr cannot be used with ports published in ingress mode/,
    );
    assert.match(problems('services:\n  web: {image: nginx, restart: sometimes}\n'), /services\.web\.restart: 'sometimes' is not a restart policy/);
    // Several problems are reported together.
    const many = problems('services:\n  a: {build: .}\n  b: {image: x, deploy: {update_config: {failure_action: explode}}}\n');
    assert.match(many, /services\.a\.image/);
    assert.match(many, /services\.b\.deploy\.update_config\.failure_action/);
  });

  it('loads several files merged, with interpolation from the environment and .env', () => {
    const o = convert(
      'services:\n  web: {image: "nginx:${TAG}", deploy: {replicas: 1}}\n',
      { TAG: '1.25' },
      { 'override.yaml': 'services:\n  web:\n    deploy:\n      replicas: ${N}\n', '.env': 'N=5\n' },
    );
    assert.equal(o.services[0]!.TaskTemplate.ContainerSpec.Image, 'nginx:1.25');
    assert.deepEqual(o.services[0]!.Mode, { Replicated: { Replicas: 5 } });
  });

  it('-c - reads the file from stdin, relative paths against the current directory', () => {
    const r = loadStack(['-'], 'app', dir, {}, () => 'services:\n  web: {image: nginx, secrets: [s]}\nsecrets:\n  s: {file: ./s.txt}\n');
    assert.equal(r.project.services.web!.image, 'nginx');
    assert.equal(r.project.secrets.s!.file, join(dir, 's.txt'));
  });

  it('refuses a stack name the loader cannot use as a project name, and a missing -c', () => {
    writeFileSync(join(dir, 'compose.yaml'), 'services:\n  web: {image: nginx}\n');
    assert.throws(() => loadStack([join(dir, 'compose.yaml')], 'Bad Name', dir, {}), /invalid stack name "Bad Name"/);
    assert.throws(() => loadStack([], 'app', dir, {}), /Please specify a Compose file/);
  });
});
