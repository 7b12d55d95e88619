// The engine end to end: a real daemon (bundled CLI) on private dirs, socket, bridge names and
// nftables table, running real containers from the busybox fixture image.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { TSSWARM, eventually, runCli, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { busyboxArchive, loadBusyboxImage } from './helpers/busybox.js';

type Cli = (args: string[]) => Promise<{ stdout: string; stderr: string; code: number }>;

/** A unique 4-char prefix for this daemon's kernel objects (bridges, veths' bridge, nft table). */
const netPrefix = (): string => `e${randomBytes(2).toString('hex').slice(0, 3)}`;

function withNetEnv<T>(prefix: string, fn: () => T): T {
  const saved = { p: process.env.TSSWARM_NET_PREFIX, t: process.env.TSSWARM_TEARDOWN };
  process.env.TSSWARM_NET_PREFIX = prefix;
  process.env.TSSWARM_TEARDOWN = '1';
  try {
    return fn();
  } finally {
    if (saved.p === undefined) delete process.env.TSSWARM_NET_PREFIX;
    else process.env.TSSWARM_NET_PREFIX = saved.p;
    if (saved.t === undefined) delete process.env.TSSWARM_TEARDOWN;
    else process.env.TSSWARM_TEARDOWN = saved.t;
  }
}

function kernelLeftovers(prefix: string): string[] {
  const out: string[] = [];
  const links = execFileSync('ip', ['-br', 'link'], { encoding: 'utf8' });
  for (const l of links.split('\n')) if (l.startsWith(prefix)) out.push(`link ${l.split(' ')[0]}`);
  const tables = execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' });
  if (tables.includes(`tsswarm_${prefix}`)) out.push(`nft table tsswarm_${prefix}`);
  return out;
}

function httpGet(url: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = get(url, { timeout: 2000 }, (res) => {
      let s = '';
      res.on('data', (d: Buffer) => (s += d.toString()));
      res.on('end', () => resolve(s));
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => {
      req.destroy();
      resolve(undefined);
    });
  });
}

describe('e2e: engine (containers from the CLI)', function () {
  let work: string;
  let d: TestDaemon;
  let cli: Cli;
  const prefix = netPrefix();
  const made: string[] = [];

  before(async function () {
    work = mkdtempSync('/tmp/tsswarm-engine-e2e-');
    d = await withNetEnv(prefix, () => startDaemon());
    cli = (args) => d.cli(args);
    const r = await loadBusyboxImage(d, work);
    assert.match(r.stdout, /Loaded image: busybox:latest/);
  });

  after(async function () {
    await d?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const psAll = async (): Promise<string[]> => (await cli(['ps', '-a', '-q', '--no-trunc'])).stdout.split('\n').filter(Boolean);
  const inspect = async (ref: string, fmt: string): Promise<string> => (await cli(['inspect', '-f', fmt, ref])).stdout.trim();

  it('lists, inspects and tags the loaded image', async function () {
    const ls = await cli(['images']);
    assert.match(ls.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE/);
    assert.match(ls.stdout, /busybox\s+latest/);
    assert.equal((await cli(['tag', 'busybox', 'bb:copy'])).code, 0);
    assert.match(await inspect('bb:copy', '{{json .RepoTags}}'), /bb:copy/);
    assert.equal((await cli(['image', 'rm', 'bb:copy'])).code, 0);
  });

  it('runs a container in the foreground: output, stderr and exit code; --rm removes it', async function () {
    const before = await psAll();
    const r = await cli(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'out\n');
    assert.match(r.stderr, /err/);
    assert.deepEqual(await psAll(), before);
  });

  it('runs detached; logs, exec, stop', async function () {
    const r = await cli(['run', '-d', '--name', 'bg', '-e', 'GREETING=hey', 'busybox', 'sh', '-c', 'echo one; echo "$GREETING"; exec sleep 1000']);
    assert.equal(r.code, 0, r.stderr);
    made.push('bg');
    const id = r.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    await eventually('logs', async () => ((await cli(['logs', 'bg'])).stdout === 'one\nhey\n' ? true : undefined));
    assert.equal((await cli(['logs', '--tail', '1', 'bg'])).stdout, 'hey\n');
    const ps = await cli(['ps']);
    assert.match(ps.stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES/);
    assert.match(ps.stdout, /Up .*\bbg\n/);
    const ex = await cli(['exec', '-e', 'X=1', 'bg', 'sh', '-c', 'echo $X $GREETING; exit 5']);
    assert.equal(ex.code, 5);
    assert.equal(ex.stdout, '1 hey\n');
    const missing = await cli(['exec', 'bg', 'no-such-binary']);
    assert.notEqual(missing.code, 0);
    assert.equal((await cli(['stop', '-t', '1', 'bg'])).code, 0);
    assert.equal(await inspect('bg', '{{.State.Status}}'), 'exited');
    assert.equal((await cli(['rm', 'bg'])).code, 0);
  });

  it('unknown image: a clear error, non-zero exit, nothing created', async function () {
    const before = await psAll();
    const r = await cli(['run', 'nosuchimage', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /No such image: nosuchimage — try: tsswarm pull nosuchimage/);
    assert.deepEqual(await psAll(), before);
  });

  it('refuses a name in use', async function () {
    assert.equal((await cli(['create', '--name', 'dup', 'busybox', 'true'])).code, 0);
    made.push('dup');
    const r = await cli(['create', '--name', 'dup', 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /name "\/dup" is already in use/);
    assert.equal((await cli(['rm', 'dup'])).code, 0);
  });

  it('bad -m and -p values name the flag and create nothing', async function () {
    const before = await psAll();
    const m = await cli(['run', '-m', '1k', 'busybox', 'true']);
    assert.equal(m.code, 125);
    assert.match(m.stderr, /-m, --memory/);
    const m2 = await cli(['run', '-m', 'lots', 'busybox', 'true']);
    assert.equal(m2.code, 125);
    assert.match(m2.stderr, /-m, --memory/);
    const p = await cli(['run', '-p', '99999', 'busybox', 'true']);
    assert.equal(p.code, 125);
    assert.match(p.stderr, /-p, --publish/);
    assert.deepEqual(await psAll(), before);
  });

  it('two containers on a user network talk by name', async function () {
    assert.equal((await cli(['network', 'create', 'e2enet'])).code, 0);
    try {
      const srv = await cli(['run', '-d', '--name', 'srv', '--network', 'e2enet', '--network-alias', 'db', 'busybox', 'sleep', '1000']);
      assert.equal(srv.code, 0, srv.stderr);
      const r = await cli(['run', '--rm', '--network', 'e2enet', 'busybox', 'sh', '-c', 'ping -c1 -W3 srv >/dev/null && nslookup db >/dev/null && echo ok']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(r.stdout.trim(), 'ok');
      const ls = await cli(['network', 'ls']);
      assert.match(ls.stdout, /e2enet\s+bridge\s+local/);
    } finally {
      await cli(['rm', '-f', 'srv']);
      await cli(['network', 'rm', 'e2enet']);
    }
  });

  it('-o com.docker.network.bridge.enable_icc=false: containers resolve each other but cannot connect; the gateway still answers', async function () {
    const bad = await cli(['network', 'create', '-o', 'com.docker.network.bridge.enable_icc=maybe', 'e2eicc']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /com\.docker\.network\.bridge\.enable_icc "maybe": expected true or false/);
    assert.equal((await cli(['network', 'create', '-o', 'com.docker.network.bridge.enable_icc=false', 'e2eicc'])).code, 0);
    try {
      const srv = await cli(['run', '-d', '--name', 'iccsrv', '--network', 'e2eicc', 'busybox', 'sh', '-c', 'mkdir /w && echo hi > /w/index.html && exec httpd -f -p 80 -h /w']);
      assert.equal(srv.code, 0, srv.stderr);
      // On an ordinary network this request gets "hi" (the test above talks by name); here the name
      // resolves (DNS at the gateway) and the connection does not.
      const r = await cli(['run', '--rm', '--network', 'e2eicc', 'busybox', 'sh', '-c', "nslookup iccsrv >/dev/null && echo resolved; printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 iccsrv 80 | tail -1; echo done"]);
      assert.equal(r.stdout.trim(), 'resolved\ndone', r.stdout + r.stderr);
      const inspect = await cli(['network', 'inspect', '-f', '{{index .Options "com.docker.network.bridge.enable_icc"}}', 'e2eicc']);
      assert.equal(inspect.stdout.trim(), 'false');
    } finally {
      await cli(['rm', '-f', 'iccsrv']);
      await cli(['network', 'rm', 'e2eicc']);
    }
  });

  it('publishes a port reachable from 127.0.0.1', async function () {
    const port = 20000 + Math.floor(Math.random() * 10000);
    const r = await cli(['run', '-d', '--name', 'web', '-p', `127.0.0.1:${port}:80`, 'busybox', 'sh', '-c', 'mkdir /www && echo hello-web > /www/index.html && exec httpd -f -p 80 -h /www']);
    assert.equal(r.code, 0, r.stderr);
    try {
      const body = await eventually('http answer', () => httpGet(`http://127.0.0.1:${port}/`), 100, 100);
      assert.equal(body, 'hello-web\n');
      assert.equal((await cli(['port', 'web', '80'])).stdout.trim(), `127.0.0.1:${port}`);
    } finally {
      await cli(['rm', '-f', 'web']);
    }
  });

  it('restarts on failure up to the limit', async function () {
    const r = await cli(['run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo try; exit 1']);
    assert.equal(r.code, 0, r.stderr);
    try {
      const final = await eventually('two restarts then exited', async () => {
        const s = await inspect('flaky', '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}');
        return s === '2 exited 1' ? s : undefined;
      });
      assert.equal(final, '2 exited 1');
      assert.equal((await cli(['logs', 'flaky'])).stdout, 'try\ntry\ntry\n');
    } finally {
      await cli(['rm', '-f', 'flaky']);
    }
  });

  it('a healthcheck makes the container healthy', async function () {
    const r = await cli(['run', '-d', '--name', 'hc', '--health-cmd', 'test -e /tmp/ready', '--health-interval', '200ms', '--health-retries', '50', 'busybox', 'sh', '-c', 'touch /tmp/ready; exec sleep 1000']);
    assert.equal(r.code, 0, r.stderr);
    try {
      await eventually('healthy', async () => ((await inspect('hc', '{{.State.Health.Status}}')) === 'healthy' ? true : undefined));
      assert.match((await cli(['ps', '--filter', 'name=hc'])).stdout, /\(healthy\)/);
    } finally {
      await cli(['rm', '-f', 'hc']);
    }
  });

  it('volumes: named volume persists between containers; tmpfs', async function () {
    assert.equal((await cli(['volume', 'create', 'e2evol'])).code, 0);
    try {
      assert.equal((await cli(['run', '--rm', '-v', 'e2evol:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f'])).code, 0);
      const r = await cli(['run', '--rm', '-v', 'e2evol:/data', '--tmpfs', '/scratch', 'busybox', 'sh', '-c', 'cat /data/f; grep -c " /scratch tmpfs" /proc/mounts']);
      assert.equal(r.stdout, 'kept\n1\n', r.stderr);
      assert.match((await cli(['volume', 'ls'])).stdout, /local\s+e2evol/);
    } finally {
      await cli(['volume', 'rm', 'e2evol']);
    }
  });

  it('stopping the daemon leaves no kernel objects behind', async function () {
    await d.stop();
    assert.deepEqual(kernelLeftovers(prefix), []);
  });
});

describe('e2e: engine survives a daemon crash', function () {
  let dir: string;
  let work: string;
  const prefix = netPrefix();
  let proc: ChildProcess | undefined;
  let env: NodeJS.ProcessEnv;
  let host: string;

  const spawnDaemon = async (): Promise<ChildProcess> => {
    const p = spawn(process.execPath, [TSSWARM, 'daemon', '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--host', host], { stdio: ['ignore', 'ignore', 'pipe'], env });
    let log = '';
    p.stderr?.on('data', (b: Buffer) => (log += b.toString()));
    await eventually('daemon answers', async () => {
      if (p.exitCode !== null) throw new Error(`daemon exited: ${log}`);
      return (await runCli(['version'], env)).code === 0 ? true : undefined;
    });
    return p;
  };
  const stopDaemon = async (sig: NodeJS.Signals): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    const done = new Promise((r) => p.once('exit', r));
    p.kill(sig);
    await done;
  };
  const cli: Cli = (args) => runCli(args, env);

  before(async function () {
    dir = mkdtempSync('/tmp/tsswarm-engine-crash-');
    work = mkdtempSync('/tmp/tsswarm-engine-e2e-');
    host = `unix://${join(dir, 's.sock')}`;
    env = { ...process.env, TSSWARM_HOST: host, TSSWARM_NO_AUTOSTART: '1', TSSWARM_NET_PREFIX: prefix, TSSWARM_TEARDOWN: '1' };
    proc = await spawnDaemon();
    assert.equal((await cli(['load', '-i', await busyboxArchive(work)])).code, 0);
  });

  after(async function () {
    await stopDaemon('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('kill -9 of the daemon keeps the container; a new daemon re-attaches and can stop it', async function () {
    const r = await cli(['run', '-d', '--name', 'keep', 'busybox', 'sleep', '1000']);
    assert.equal(r.code, 0, r.stderr);
    const pid = Number((await cli(['inspect', '-f', '{{.State.Pid}}', 'keep'])).stdout.trim());
    assert.ok(pid > 0);
    await stopDaemon('SIGKILL');
    process.kill(pid, 0); // still alive without its daemon
    proc = await spawnDaemon();
    assert.match((await cli(['ps'])).stdout, /Up .*\bkeep\n/);
    assert.equal((await cli(['exec', 'keep', 'true'])).code, 0);
    assert.equal((await cli(['stop', '-t', '0', 'keep'])).code, 0);
    assert.equal((await cli(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'keep'])).stdout.trim(), 'exited 137');
    assert.ok(!existsSync(`/proc/${pid}`) || !execFileSync('cat', [`/proc/${pid}/cmdline`]).toString().includes('sleep'));
  });

  it('the daemon restarts an always container whose monitor is gone (simulated reboot)', async function () {
    const r = await cli(['run', '-d', '--name', 'phoenix', '--restart', 'always', 'busybox', 'sleep', '1000']);
    assert.equal(r.code, 0, r.stderr);
    const pid = Number((await cli(['inspect', '-f', '{{.State.Pid}}', 'phoenix'])).stdout.trim());
    await stopDaemon('SIGKILL');
    // A reboot: the container and its monitor are gone, the records remain.
    const monitor = Number(execFileSync('ps', ['-o', 'ppid=', '-p', String(pid)]).toString().trim());
    process.kill(monitor, 'SIGKILL');
    process.kill(pid, 'SIGKILL');
    await eventually('container gone', async () => (existsSync(`/proc/${pid}`) ? undefined : true));
    proc = await spawnDaemon();
    const st = (await cli(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', 'phoenix'])).stdout.trim().split(' ');
    assert.equal(st[0], 'running');
    assert.notEqual(Number(st[1]), pid);
    await cli(['rm', '-f', 'phoenix']);
  });

  it('leaves nothing behind', async function () {
    await cli(['rm', '-f', 'keep']);
    await stopDaemon('SIGTERM');
    assert.deepEqual(kernelLeftovers(prefix), []);
  });
});
