import { strict as assert } from 'node:assert';
import { checkCreateBody } from '../../api/containers.js';
import { LABELS, serviceConfigHash } from '../../compose-spec/index.js';
import { containerSpec, contentFileKey, keptAnonymousVolumes, needsImageVolumes, type SpecOptions } from './spec.js';
import { projectFrom } from './testing.js';

const base = (o: Partial<SpecOptions> = {}): SpecOptions => ({ number: 2, version: '0.1.0', name: 'proj-web-2', secretFiles: {}, configFiles: {}, ...o });

describe('containerSpec', () => {
  const p = projectFrom(`
services:
  web:
    image: busybox:latest
    command: ["httpd", "-f"]
    environment: {A: "1", UNSET: null}
    ports: ["8080:80", "9000"]
    expose: ["81"]
    volumes: [data:/data, /srv:/srv:ro, {type: tmpfs, target: /scratch}]
    tmpfs: [/run:size=1m]
    healthcheck: {test: "wget -q -O- localhost", interval: 1s, retries: 3}
    restart: on-failure:3
    init: true
    cap_add: [NET_ADMIN]
    read_only: true
    user: "1000"
    working_dir: /app
    stop_grace_period: 3s
    stop_signal: SIGINT
    deploy: {resources: {limits: {memory: 64m, cpus: "0.5", pids: 100}}}
    networks: {front: {aliases: [www]}, back: {priority: 10}}
    secrets: [token]
    configs: [{source: conf, target: /etc/app.conf}]
networks: {front: {}, back: {}}
volumes: {data: {}}
secrets: {token: {file: ./token}}
configs: {conf: {content: "x=1"}}
`);
  const spec = containerSpec(p, p.services.web!, base({ secretFiles: { token: '/tmp/s/token' }, configFiles: { conf: '/tmp/s/conf' } }));

  it('maps the service to Docker create fields', () => {
    const b = spec.body;
    assert.equal(b.Image, 'busybox:latest');
    assert.deepEqual(b.Cmd, ['httpd', '-f']);
    assert.deepEqual(b.Env, ['A=1']);
    assert.deepEqual(Object.keys(b.ExposedPorts ?? {}).sort(), ['80/tcp', '81/tcp', '9000/tcp']);
    assert.deepEqual(b.HostConfig?.PortBindings?.['80/tcp'], [{ HostIp: '', HostPort: '8080' }]);
    assert.deepEqual(b.HostConfig?.PortBindings?.['9000/tcp'], [{ HostIp: '', HostPort: '' }]);
    assert.deepEqual(b.Healthcheck, { Test: ['CMD-SHELL', 'wget -q -O- localhost'], Interval: 1e9, Retries: 3 });
    assert.deepEqual(b.HostConfig?.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
    assert.equal(b.HostConfig?.Init, true);
    assert.equal(b.HostConfig?.ReadonlyRootfs, true);
    assert.equal(b.HostConfig?.Memory, 64 * 1024 * 1024);
    assert.equal(b.HostConfig?.NanoCpus, 5e8);
    assert.equal(b.HostConfig?.PidsLimit, 100);
    assert.equal(b.StopTimeout, 3);
    assert.equal(b.StopSignal, 'SIGINT');
    assert.equal(b.User, '1000');
    assert.equal(b.WorkingDir, '/app');
    assert.deepEqual(checkCreateBody(b), []);
  });

  it('labels the container like compose', () => {
    const l = spec.body.Labels ?? {};
    assert.equal(l[LABELS.project], 'proj');
    assert.equal(l[LABELS.service], 'web');
    assert.equal(l[LABELS.containerNumber], '2');
    assert.equal(l[LABELS.oneoff], 'False');
    assert.equal(l[LABELS.configHash], serviceConfigHash(p.services.web!));
  });

  it('mounts volumes by project name, binds, tmpfs, secrets and configs read-only', () => {
    const h = spec.body.HostConfig!;
    assert.deepEqual(h.Mounts?.[0], { Type: 'volume', Source: 'proj_data', Target: '/data', ReadOnly: false });
    assert.deepEqual(h.Mounts?.[1], { Type: 'tmpfs', Target: '/scratch' });
    assert.deepEqual(h.Binds, ['/srv:/srv:ro', '/tmp/s/token:/run/secrets/token:ro', '/tmp/s/conf:/etc/app.conf:ro']);
    assert.deepEqual(h.Tmpfs, { '/run': 'size=1m' });
  });

  it('joins the highest-priority network at create, others by connect, with service and container name as aliases', () => {
    assert.equal(spec.body.HostConfig?.NetworkMode, 'proj_back');
    assert.deepEqual(spec.body.NetworkingConfig?.EndpointsConfig, { proj_back: { Aliases: ['web', 'proj-web-2'] } });
    assert.deepEqual(spec.connect, [{ network: 'proj_front', aliases: ['web', 'proj-web-2', 'www'] }]);
  });

  it('uses the built image name and the default network when nothing is set', () => {
    const q = projectFrom('services:\n  worker: {build: .}\n');
    const s = containerSpec(q, q.services.worker!, base({ name: 'proj-worker-1', number: 1 }));
    assert.equal(s.body.Image, 'proj-worker');
    assert.equal(s.body.HostConfig?.NetworkMode, 'proj_default');
    assert.deepEqual(s.body.HostConfig?.RestartPolicy, { Name: 'no' });
  });

  it('network_mode service: points at a container of that service', () => {
    const q = projectFrom('services:\n  a: {image: x}\n  b: {image: x, network_mode: "service:a"}\n');
    const s = containerSpec(q, q.services.b!, base({ name: 'proj-b-1', serviceContainer: (n) => `id-of-${n}` }));
    assert.equal(s.body.HostConfig?.NetworkMode, 'container:id-of-a');
    assert.equal(s.body.NetworkingConfig, undefined);
  });
});

describe('anonymous volumes across a recreation', () => {
  const p = projectFrom(`
services:
  db:
    image: busybox
    volumes: [/var/lib/db, data:/data, {type: tmpfs, target: /cache}]
volumes: {data: {}}
`);
  const svc = p.services.db!;
  const anon = 'a'.repeat(64);
  const img = 'b'.repeat(64);
  const gone = 'c'.repeat(64);
  const old = [
    { type: 'volume', name: anon, destination: '/var/lib/db', rw: true },
    { type: 'volume', name: 'proj_data', destination: '/data', rw: true },
    { type: 'volume', name: img, destination: '/image/vol', rw: true },
    { type: 'volume', name: gone, destination: '/cache', rw: true },
  ];
  const anonymous = new Set([anon, img, gone]);

  it('keeps a source-less service volume and an image VOLUME no other mount takes; not named volumes or paths left', () => {
    assert.ok(needsImageVolumes(svc, old, anonymous));
    assert.ok(!needsImageVolumes(svc, old.slice(0, 2), anonymous));
    assert.deepEqual(keptAnonymousVolumes(svc, old, anonymous, ['/image/vol/', '/cache']), { '/var/lib/db': anon, '/image/vol': img });
    assert.deepEqual(keptAnonymousVolumes(svc, old, anonymous, []), { '/var/lib/db': anon });
  });

  it('mounts them by name in the new container', () => {
    const spec = containerSpec(p, svc, base({ name: 'proj-db-1', anonymousVolumes: { '/var/lib/db': anon, '/image/vol': img } }));
    const mounts = spec.body.HostConfig?.Mounts ?? [];
    assert.deepEqual(mounts.filter((m) => m.Type === 'volume').map((m) => `${m.Source ?? ''}:${m.Target}`), [`${anon}:/var/lib/db`, 'proj_data:/data', `${img}:/image/vol`]);
    checkCreateBody(spec.body);
    const fresh = containerSpec(p, svc, base({ name: 'proj-db-1' }));
    assert.equal(fresh.body.HostConfig?.Mounts?.find((m) => m.Target === '/var/lib/db')?.Source, undefined);
  });
});

describe('contentFileKey', () => {
  it('is the source, or the source with the uid, gid and mode asked for', () => {
    assert.equal(contentFileKey({ source: 'token', target: '/run/secrets/token' }), 'token');
    assert.equal(contentFileKey({ source: 'token', target: '/t', mode: 0o400 }), 'token#::400');
    assert.equal(contentFileKey({ source: 'token', target: '/t', uid: '1000', gid: '1000', mode: 0o440 }), 'token#1000:1000:440');
  });
});
