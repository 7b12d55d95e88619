// tscompose up/down/ps/exec/logs/run against a real daemon: names, labels, scaling, recreation of
// only what changed, depends_on conditions, the service name resolving to every replica, and the
// built worker of examples/.
import { strict as assert } from 'node:assert';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { tarBuffer, writeDockerArchive } from '../image/testing/archives.js';
import { busyboxConfig, busyboxLayerEntries } from '../image/testing/busybox-image.js';

const run = promisify(execFile);
const TSCOMPOSE = join(ROOT, 'dist/tscompose.js');

describe('tscompose up (e2e)', function () {
  this.timeout(120_000);
  let d: TestDaemon;
  let dir: string;

  const compose = async (args: string[], cwd = dir): Promise<{ stdout: string; stderr: string; code: number }> => {
    try {
      const { stdout, stderr } = await run(process.execPath, [TSCOMPOSE, ...args], { cwd, env: d.env, maxBuffer: 16 << 20 });
      return { stdout, stderr, code: 0 };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; code?: number };
      return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : 1 };
    }
  };
  const ok = async (args: string[], cwd = dir): Promise<{ stdout: string; stderr: string }> => {
    const r = await compose(args, cwd);
    assert.equal(r.code, 0, `tscompose ${args.join(' ')} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
    return r;
  };
  const ps = async (cwd = dir): Promise<Array<{ ID: string; Name: string; Service: string; State: string; Health: string }>> =>
    (await ok(['ps', '-a', '--format', 'json'], cwd)).stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { ID: string; Name: string; Service: string; State: string; Health: string });
  const write = (yaml: string) => writeFileSync(join(dir, 'compose.yaml'), yaml);
  /** A project of its own in a fresh directory; `down -v` and the directory go whatever happens. */
  const withProject = async (yaml: string, body: (sub: string) => Promise<void>): Promise<void> => {
    const sub = mkdtempSync('/tmp/tscompose-e2e-sub-');
    writeFileSync(join(sub, 'compose.yaml'), yaml);
    try {
      await body(sub);
    } finally {
      await compose(['down', '-v', '-t', '0'], sub);
      rmSync(sub, { recursive: true, force: true });
    }
  };
  /** tscompose running in the background: its output so far, a wait for a pattern in it, its exit. */
  const background = (args: string[], cwd: string): { proc: ChildProcess; out: () => string; waitFor: (re: RegExp) => Promise<void>; exited: Promise<number | null> } => {
    const proc = spawn(process.execPath, [TSCOMPOSE, ...args], { cwd, env: d.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const waiters: Array<{ re: RegExp; resolve: () => void }> = [];
    const check = (): void => {
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i]!.re.test(out)) waiters.splice(i, 1)[0]!.resolve();
      }
    };
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      check();
    });
    proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    // Bounded by the test's timeout: a pattern that never comes fails the test there.
    const waitFor = (re: RegExp): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        waiters.push({ re, resolve });
        check();
        void exited.then(() => !re.test(out) && reject(new Error(`tscompose ${args.join(' ')} exited before printing ${re}:\n${out}\n${err}`)));
      });
    return { proc, out: () => out, waitFor, exited };
  };

  before(async function () {
    if (process.getuid?.() !== 0) this.skip();
    d = await startDaemon();
    const archive = join(d.dir, 'busybox.tar');
    await writeDockerArchive(archive, [{ layers: [await tarBuffer(busyboxLayerEntries())], config: busyboxConfig(), tags: ['busybox:latest'] }]);
    await loadImage(d.host.slice('unix://'.length), readFileSync(archive));
    dir = mkdtempSync('/tmp/tscompose-e2e-');
  });

  after(async () => {
    if (d) {
      if (dir) await compose(['down', '-v', '--remove-orphans', '-t', '0']);
      await d.stop();
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const BASE = `
name: proj
services:
  db:
    image: busybox:latest
    init: true
    command: ["sh", "-c", "sleep 0.3; touch /tmp/ready; exec sleep 1000"]
    healthcheck: {test: ["CMD", "test", "-f", "/tmp/ready"], interval: 100ms, retries: 100}
    volumes: [data:/data]
  web:
    image: busybox:latest
    init: true
    command: ["httpd", "-f", "-p", "80", "-h", "/srv"]
    volumes: [./site:/srv:ro]
    depends_on: {db: {condition: service_healthy}}
  probe:
    image: busybox:latest
    init: true
    command: ["sleep", "1000"]
    depends_on: [web]
volumes:
  data: {}
`;

  it('up -d --scale web=3: names, labels, dependency order, and the service name resolves to every replica', async () => {
    cpSync(join(ROOT, 'examples/web'), join(dir, 'site'), { recursive: true });
    write(BASE);
    await ok(['up', '-d', '--scale', 'web=3']);
    const list = await ps();
    assert.deepEqual(list.map((c) => c.Name), ['proj-db-1', 'proj-probe-1', 'proj-web-1', 'proj-web-2', 'proj-web-3']);
    assert.ok(list.every((c) => c.State === 'running'));
    assert.equal(list.find((c) => c.Name === 'proj-db-1')!.Health, 'healthy');
    const l = (await api<{ Config: { Labels: Record<string, string> } }>(d, '/containers/proj-web-2/json')).Config.Labels;
    assert.equal(l['com.docker.compose.project'], 'proj');
    assert.equal(l['com.docker.compose.service'], 'web');
    assert.equal(l['com.docker.compose.container-number'], '2');
    assert.equal(l['com.docker.compose.oneoff'], 'False');
    assert.match(l['com.docker.compose.config-hash'] ?? '', /^[0-9a-f]{64}$/);
    const ns = await ok(['exec', 'probe', 'nslookup', 'web']);
    const ips = new Set([...ns.stdout.matchAll(/Address: (\d+\.\d+\.\d+\.\d+)/g)].map((m) => m[1]));
    assert.equal(ips.size, 3, ns.stdout);
    for (const n of ['proj-web-3', 'web']) {
      const page = await ok(['exec', 'probe', 'wget', '-q', '-O', '-', `http://${n}/index.html`]);
      assert.match(page.stdout, /Hello from @HOST@/);
    }
  });

  it('a second up changes nothing; an env change recreates only that service', async () => {
    const before = await ps();
    const again = await ok(['up', '-d', '--scale', 'web=3', '--progress', 'plain']);
    assert.doesNotMatch(again.stderr, /Recreate|Creating|Removing/);
    assert.deepEqual((await ps()).map((c) => c.ID), before.map((c) => c.ID));

    write(BASE.replace('command: ["sleep", "1000"]', 'command: ["sleep", "1000"]\n    environment: {MODE: "2"}'));
    const changed = await ok(['up', '-d', '--scale', 'web=3', '--progress', 'plain']);
    assert.match(changed.stderr, /Container proj-probe-1 {2}Recreate/);
    const after = await ps();
    const id = (l: typeof after, n: string) => l.find((c) => c.Name === n)!.ID;
    assert.notEqual(id(after, 'proj-probe-1'), id(before, 'proj-probe-1'));
    for (const n of ['proj-db-1', 'proj-web-1', 'proj-web-2', 'proj-web-3']) assert.equal(id(after, n), id(before, n));
    assert.equal((await ok(['exec', 'probe', 'sh', '-c', 'echo $MODE'])).stdout.trim(), '2');
  });

  it('scaling down removes the highest numbers; container_name with scale > 1 is refused', async () => {
    await ok(['up', '-d', '--scale', 'web=1']);
    assert.deepEqual((await ps()).filter((c) => c.Service === 'web').map((c) => c.Name), ['proj-web-1']);
    write(BASE.replace('  web:\n    image: busybox:latest', '  web:\n    image: busybox:latest\n    container_name: front'));
    const r = await compose(['up', '-d', '--scale', 'web=2']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /container_name "front"/);
    write(BASE);
  });

  it('service_completed_successfully waits for the exit code, and a failed dependency stops up', async () => {
    const sub = mkdtempSync('/tmp/tscompose-e2e-dep-');
    try {
      const yaml = (code: number) => `
name: dep
services:
  migrate: {image: busybox:latest, command: ["sh", "-c", "sleep 0.2; exit ${code}"]}
  app:
    image: busybox:latest
    init: true
    command: ["sleep", "1000"]
    depends_on: {migrate: {condition: service_completed_successfully}}
`;
      writeFileSync(join(sub, 'compose.yaml'), yaml(0));
      await ok(['up', '-d'], sub);
      const list = await ps(sub);
      assert.equal(list.find((c) => c.Name === 'dep-app-1')?.State, 'running');
      assert.equal(list.find((c) => c.Name === 'dep-migrate-1')?.State, 'exited');
      await ok(['down', '-t', '0'], sub);
      writeFileSync(join(sub, 'compose.yaml'), yaml(3));
      const r = await compose(['up', '-d'], sub);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /service "migrate" didn't complete successfully: exit 3/);
      // Like compose: the dependant was created while migrate ran, and is never started.
      assert.equal((await ps(sub)).find((c) => c.Name === 'dep-app-1')?.State, 'created');
    } finally {
      await compose(['down', '-t', '0'], sub);
      rmSync(sub, { recursive: true, force: true });
    }
  });

  it('logs are prefixed per container; run --rm runs a one-off and removes it', async () => {
    const logs = await ok(['logs', '--no-color', 'db']);
    assert.equal(logs.stdout, '');
    const r = await ok(['run', '--rm', '-e', 'X=42', 'probe', 'sh', '-c', 'echo out=$X']);
    assert.match(r.stdout, /out=42/);
    assert.ok((await ps()).every((c) => !c.Name.includes('-run-')));
  });

  it('the example: the worker is built from its Dockerfile, reads its secret and reaches web by name', async () => {
    const ex = mkdtempSync('/tmp/tscompose-e2e-example-');
    cpSync(join(ROOT, 'examples'), ex, { recursive: true });
    try {
      await ok(['up', '-d', '--scale', 'web=3'], ex);
      const list = await ps(ex);
      assert.deepEqual(list.map((c) => c.Name), ['demo-web-1', 'demo-web-2', 'demo-web-3', 'demo-worker-1']);
      const page = await ok(['exec', 'worker', 'wget', '-q', '-O', '-', 'http://web/'], ex);
      assert.match(page.stdout, /Hello from [0-9a-f]{12}/);
      const secret = await ok(['exec', 'worker', 'cat', '/run/secrets/token'], ex);
      assert.equal(secret.stdout, readFileSync(join(ex, 'worker/token.txt'), 'utf8'));
    } finally {
      await compose(['down', '-v', '--rmi', 'local', '-t', '0'], ex);
      rmSync(ex, { recursive: true, force: true });
    }
  });

  it('logs: each line prefixed with its container, no colour off a TTY; --tail, -t; -f follows until the containers stop', async () => {
    await withProject(
      `
name: lg
services:
  web:
    image: busybox:latest
    init: true
    scale: 2
    command: ["sh", "-c", "echo one; echo two; echo three; while [ ! -f /tmp/go ]; do sleep 0.1; done; echo after-go; exec sleep 1000"]
`,
      async (sub) => {
        await ok(['up', '-d'], sub);
        const follow = background(['logs', '-f'], sub);
        await follow.waitFor(/lg-web-1 {2}\| three\n[^]*lg-web-2 {2}\| three\n|lg-web-2 {2}\| three\n[^]*lg-web-1 {2}\| three\n/);
        const all = await ok(['logs'], sub);
        assert.doesNotMatch(all.stdout, /\x1b\[/);
        for (const n of ['lg-web-1', 'lg-web-2']) {
          assert.deepEqual(all.stdout.split('\n').filter((l) => l.startsWith(`${n}  | `)), ['one', 'two', 'three'].map((w) => `${n}  | ${w}`));
        }
        const tail = await ok(['logs', '--tail', '1', 'web'], sub);
        assert.deepEqual(tail.stdout.split('\n').filter(Boolean).sort(), ['lg-web-1  | three', 'lg-web-2  | three']);
        const stamped = await ok(['logs', '-t', '--index', '1', 'web'], sub);
        assert.match(stamped.stdout, /^lg-web-1 {2}\| \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z one$/m);
        // New lines reach the follower; stopping the containers ends it.
        await ok(['exec', '--index', '2', 'web', 'touch', '/tmp/go'], sub);
        await follow.waitFor(/lg-web-2 {2}\| after-go\n/);
        await ok(['stop', '-t', '0'], sub);
        assert.equal(await follow.exited, 0);
        assert.doesNotMatch(follow.out(), /lg-web-1 {2}\| after-go/);
      },
    );
  });

  it('up attached streams prefixed logs; SIGINT stops the containers gracefully', async () => {
    await withProject(
      `
name: att
services:
  app:
    image: busybox:latest
    init: true
    command: ["sh", "-c", "echo hello-attached; exec sleep 1000"]
  side:
    image: busybox:latest
    init: true
    command: ["sh", "-c", "trap 'echo got-term; exit 0' TERM; echo side-up; while true; do sleep 0.1; done"]
`,
      async (sub) => {
        const up = background(['up'], sub);
        await up.waitFor(/att-app-1 +\| hello-attached\n/);
        await up.waitFor(/att-side-1 +\| side-up\n/);
        up.proc.kill('SIGINT');
        await up.exited;
        const list = await ps(sub);
        assert.deepEqual(list.map((c) => `${c.Name}:${c.State}`), ['att-app-1:exited', 'att-side-1:exited']);
        // Gracefully: the container had its stop signal and ran its handler.
        assert.match((await ok(['logs', 'side'], sub)).stdout, /att-side-1 {2}\| got-term/);
      },
    );
  });

  it('anonymous volumes survive a recreation; -V renews them', async () => {
    const yaml = (mode: string) => `
name: anon
services:
  db:
    image: busybox:latest
    init: true
    command: ["sleep", "1000"]
    environment: {MODE: "${mode}"}
    volumes: [/var/lib/db]
`;
    await withProject(yaml('1'), async (sub) => {
      await ok(['up', '-d'], sub);
      await ok(['exec', 'db', 'sh', '-c', 'echo kept > /var/lib/db/f'], sub);
      const volOf = async () => (await api<{ Mounts: Array<{ Name?: string; Destination: string }> }>(d, '/containers/anon-db-1/json')).Mounts.find((m) => m.Destination === '/var/lib/db')!.Name!;
      const first = await volOf();
      writeFileSync(join(sub, 'compose.yaml'), yaml('2'));
      const r = await ok(['up', '-d', '--progress', 'plain'], sub);
      assert.match(r.stderr, /anon-db-1 {2}Recreate/);
      assert.equal(await volOf(), first);
      assert.equal((await ok(['exec', 'db', 'cat', '/var/lib/db/f'], sub)).stdout, 'kept\n');
      writeFileSync(join(sub, 'compose.yaml'), yaml('3'));
      await ok(['up', '-d', '-V'], sub);
      const renewed = await volOf();
      assert.notEqual(renewed, first);
      assert.equal((await compose(['exec', 'db', 'cat', '/var/lib/db/f'], sub)).code, 1);
      const vols = async () => ((await api<{ Volumes: Array<{ Name: string }> | null }>(d, '/volumes')).Volumes ?? []).map((v) => v.Name);
      assert.ok(!(await vols()).includes(first), 'the old anonymous volume went with -V');
      await ok(['down', '-v', '-t', '0'], sub);
      assert.ok(!(await vols()).includes(renewed), 'down -v removes the anonymous volume');
    });
  });

  it('network_mode service:X starts after X and shares its network; recreating X recreates it', async () => {
    await withProject(
      `
name: nsm
services:
  sidecar:
    image: busybox:latest
    init: true
    command: ["sleep", "1000"]
    network_mode: "service:app"
  app:
    image: busybox:latest
    init: true
    command: ["sh", "-c", "echo hi > /tmp/i; exec httpd -f -p 8081 -h /tmp"]
`,
      async (sub) => {
        const r = await ok(['up', '-d', '--progress', 'plain', 'sidecar'], sub);
        assert.ok(r.stderr.indexOf('nsm-app-1  Started') < r.stderr.indexOf('nsm-sidecar-1  Starting'), r.stderr);
        assert.equal((await ok(['exec', 'sidecar', 'wget', '-q', '-O', '-', 'http://127.0.0.1:8081/i'], sub)).stdout, 'hi\n');
        await ok(['up', '-d', '--force-recreate', '--no-deps', 'app'], sub);
        const again = await ok(['up', '-d', '--progress', 'plain'], sub);
        assert.match(again.stderr, /nsm-sidecar-1 {2}Recreate/);
        assert.equal((await ok(['exec', 'sidecar', 'wget', '-q', '-O', '-', 'http://127.0.0.1:8081/i'], sub)).stdout, 'hi\n');
      },
    );
  });

  it('secret and config content lives in a per-project directory with compose modes; down removes it', async () => {
    const contentDir = `/run/tscompose/cf@${createHash('sha256').update(d.host).digest('hex').slice(0, 12)}`;
    const yaml = `
name: cf
services:
  app:
    image: busybox:latest
    init: true
    command: ["sleep", "1000"]
    secrets: [tok, {source: tok, target: /run/secrets/private, mode: 0400}]
    configs: [{source: conf, target: /etc/app.conf}]
secrets: {tok: {environment: CF_TOKEN}}
configs: {conf: {content: "x=1"}}
`;
    const sub = mkdtempSync('/tmp/tscompose-e2e-cf-');
    writeFileSync(join(sub, 'compose.yaml'), yaml);
    const env = { ...d.env, CF_TOKEN: 's3cret' };
    const runIn = (args: string[]) => run(process.execPath, [TSCOMPOSE, ...args], { cwd: sub, env });
    try {
      await runIn(['up', '-d']);
      assert.equal(statSync(join(contentDir, 'secrets', 'tok')).mode & 0o777, 0o444);
      assert.equal(statSync(join(contentDir, 'secrets', 'tok___400')).mode & 0o777, 0o400);
      assert.equal(statSync(join(contentDir, 'configs', 'conf')).mode & 0o777, 0o444);
      assert.equal((await runIn(['exec', 'app', 'cat', '/run/secrets/tok', '/etc/app.conf'])).stdout, 's3cretx=1');
      assert.match((await runIn(['exec', 'app', 'stat', '-c', '%a', '/run/secrets/private'])).stdout, /^400\n$/);
      await runIn(['down', '-t', '0']);
      assert.ok(!existsSync(contentDir), `${contentDir} is left after down`);
    } finally {
      await runIn(['down', '-t', '0']).catch(() => undefined);
      rmSync(sub, { recursive: true, force: true });
    }
  });

  it('a network or volume whose configuration changed is refused, naming the difference', async () => {
    const yaml = (internal: boolean, opt: string) => `
name: cfg
services:
  app: {image: busybox:latest, init: true, command: ["sleep", "1000"], networks: [back], volumes: [data:/data]}
networks: {back: {internal: ${internal}}}
volumes: {data: {labels: {tier: "${opt}"}}}
`;
    await withProject(yaml(false, 'a'), async (sub) => {
      await ok(['up', '-d'], sub);
      writeFileSync(join(sub, 'compose.yaml'), yaml(true, 'a'));
      const r = await compose(['up', '-d'], sub);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /network cfg_back exists but doesn't match the configuration in the compose file \(internal: true in the file, false on the engine\): run "tscompose down"/);
      writeFileSync(join(sub, 'compose.yaml'), yaml(false, 'b'));
      const v = await compose(['up', '-d'], sub);
      assert.match(v.stderr, /volume cfg_data exists but doesn't match .*labels\.tier: "b" in the file, "a" on the engine.*down -v/);
      await ok(['down', '-v', '-t', '0'], sub);
      await ok(['up', '-d'], sub);
    });
  });

  it('down -v removes containers, the network and the volumes', async () => {
    await ok(['down', '-v', '-t', '0']);
    assert.deepEqual(await ps(), []);
    const nets = await api<Array<{ Name: string }>>(d, '/networks');
    assert.ok(!nets.some((n) => n.Name.startsWith('proj_')), JSON.stringify(nets.map((n) => n.Name)));
    const vols = await api<{ Volumes: Array<{ Name: string }> | null }>(d, '/volumes');
    assert.ok(!(vols.Volumes ?? []).some((v) => v.Name.startsWith('proj_')));
  });
});

function api<T>(d: TestDaemon, path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: d.host.slice('unix://'.length), path: `/v1.41${path}` }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(JSON.parse(body) as T));
    });
    req.once('error', reject);
    req.end();
  });
}

function loadImage(sock: string, tar: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: sock, path: '/v1.41/images/load', method: 'POST', headers: { 'Content-Type': 'application/x-tar', 'Content-Length': tar.length } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => ((res.statusCode ?? 500) < 300 && !body.includes('"error"') ? resolve() : reject(new Error(`load busybox: ${res.statusCode} ${body}`))));
    });
    req.once('error', reject);
    req.end(tar);
  });
}
