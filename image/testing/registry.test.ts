// The test registry and its proxy inside a network namespace of their own (as the multi-node bed
// uses them): listening on the address asked for, auth given as data, every process gone on stop()
// and when the process that started them is killed. Namespaces made here carry the prefix "tsrt".
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { basicAuthHook, startProxy, startRegistry } from './registry.js';

const ADDR = '10.254.77.1';

function sh(cmd: string, args: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

async function poll(what: string, check: () => boolean, tries = 200): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe('image/testing: registry and proxy in another network namespace', function () {
  this.timeout(60_000);
  const name = `tsrt${randomBytes(3).toString('hex')}`;
  const netns = `/run/netns/${name}`;
  const pids = (): string => sh('ip', ['netns', 'pids', name]).stdout.trim();
  /** HTTP status of GET url from inside the namespace. */
  const status = (url: string, user?: string): string =>
    sh('nsenter', [`--net=${netns}`, '--', 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', ...(user ? ['-u', user] : []), url]).stdout;

  before(function () {
    const add = sh('ip', ['netns', 'add', name]);
    assert.equal(add.code, 0, add.stderr);
    // A veth pair with both ends inside: an address that is not loopback and not the host's.
    const setup = sh('ip', ['-n', name, '-batch', '-'], `link set lo up\nlink add ${name}a type veth peer name ${name}b\nlink set ${name}a up\nlink set ${name}b up\naddr add ${ADDR}/24 dev ${name}a\n`);
    assert.equal(setup.code, 0, setup.stderr);
  });
  after(function () {
    sh('ip', ['netns', 'del', name]);
  });

  it('listens on the address given, demands the basic auth given, records requests and leaves no process', async function () {
    const reg = await startRegistry({ netns, addr: ADDR });
    try {
      assert.match(reg.host, /^10\.254\.77\.1:\d+$/);
      const proxy = await startProxy(reg.host, { netns, addr: ADDR, port: 5001, basicAuth: { user: 'u', password: 'p' } });
      try {
        assert.equal(proxy.host, `${ADDR}:5001`);
        assert.equal(status(`http://${reg.host}/v2/`), '200');
        assert.equal(status(`http://${proxy.host}/v2/`), '401');
        assert.equal(status(`http://${proxy.host}/v2/`, 'u:wrong'), '401');
        assert.equal(status(`http://${proxy.host}/v2/_catalog`, 'u:p'), '200');
      } finally {
        await proxy.stop();
      }
      assert.deepEqual(proxy.log, ['GET /v2/', 'GET /v2/', 'GET /v2/_catalog']);
    } finally {
      await reg.stop();
    }
    assert.equal(pids(), '', 'no process left in the namespace');
  });

  it('refuses a hook function for another namespace, naming what to give instead', async function () {
    await assert.rejects(startProxy('127.0.0.1:1', { netns, hook: basicAuthHook('u', 'p') }), /hook function cannot run in another network namespace .*give basicAuth instead/);
  });

  it('ends the registry and the proxy when the process that started them is killed', async function () {
    const registry = fileURLToPath(new URL('./registry.ts', import.meta.url));
    const script = `const { startRegistry, startProxy } = await import(${JSON.stringify(registry)});
const reg = await startRegistry({ netns: ${JSON.stringify(netns)}, addr: ${JSON.stringify(ADDR)} });
await startProxy(reg.host, { netns: ${JSON.stringify(netns)}, addr: ${JSON.stringify(ADDR)} });
console.log('up ' + reg.dataDir);
setInterval(() => {}, 1000);`;
    const starter = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'], cwd: fileURLToPath(new URL('../..', import.meta.url)) });
    let out = '';
    let err = '';
    starter.stdout.on('data', (d: Buffer) => (out += d.toString()));
    starter.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      await poll('the starter to report both up', () => {
        if (starter.exitCode !== null) throw new Error(`the starter exited (${starter.exitCode}): ${err}`);
        return /^up /m.test(out);
      });
      assert.equal(pids().split('\n').length, 2, `registry and proxy run in ${name}`);
    } finally {
      starter.kill('SIGKILL');
    }
    await poll(`no process left in ${name}`, () => pids() === '');
    // The registry's temp dir: its starter could not remove it.
    const dataDir = /^up (\S+)$/m.exec(out)?.[1];
    if (dataDir) rmSync(dirname(dataDir), { recursive: true, force: true });
  });
});
