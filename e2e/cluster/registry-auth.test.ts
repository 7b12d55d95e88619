// `service create --with-registry-auth` on a 3-node bed: a private image in a registry that wants a
// login, reachable at node 1's bed address; node 1's CLI logs in, and the workers — which never logged
// in and do not have the image — pull it with the credentials that travelled in the task spec. Without
// the flag a worker's pull is refused and the task says why. The registry (Debian's docker-registry)
// and its basic-auth proxy run in this process's namespace; a small forwarder inside node 1's namespace
// joins node 1's address to the proxy's unix socket (sockets in the filesystem cross namespaces).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { ImageStore } from '../../image/store.js';
import { CredentialStore } from '../../image/registry/credentials.js';
import { pushImage } from '../../image/registry/push.js';
import { importBusyboxImage } from '../../image/testing/busybox-image.js';
import { basicAuthHook, startProxy, startRegistry, type TestProxy, type TestRegistry } from '../../image/testing/registry.js';
import { runCli } from '../helpers/daemon.js';
import { Bed, sweep, until as untilFor } from './bed.js';

const PORT = 5000;

/** A TCP listener at addr:PORT inside `netns` that forwards each connection to the unix socket `path`. */
async function forwarder(netns: string, addr: string, path: string): Promise<ChildProcess> {
  const script = `const net=require('node:net');net.createServer((c)=>{const u=net.connect(${JSON.stringify(path)});c.pipe(u);u.pipe(c);c.on('error',()=>u.destroy());u.on('error',()=>c.destroy());}).listen(${PORT},${JSON.stringify(addr)},()=>console.log('ready'));`;
  const p = spawn('nsenter', [`--net=/run/netns/${netns}`, '--', process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await createInterface({ input: p.stdout! })[Symbol.asyncIterator]().next();
  if (first.value !== 'ready') throw new Error(`the forwarder in ${netns} did not start`);
  return p;
}

describe('e2e/cluster: service create --with-registry-auth on a 3-node bed', function () {
  this.timeout(300_000);
  const bed = new Bed();
  let work = '';
  let reg: TestRegistry | undefined;
  let proxy: TestProxy | undefined;
  let fwd: ChildProcess | undefined;
  let image = '';
  let cliConfig = '';

  const must = (k: number, args: string[]): Promise<string> => bed.must(k, args);
  const until = <T>(what: string, check: () => Promise<T | undefined>, tries = 300): Promise<T> => untilFor(what, check, tries, 200);
  /** Node 1's CLI with a config dir of its own (the daemons have another, empty one). */
  const cli1 = (args: string[], input?: string) => runCli(args, { ...bed.node(1).env, TSSWARM_CONFIG: cliConfig }, input === undefined ? {} : { input });
  const tasks = async (svc: string) =>
    (await must(1, ['service', 'ps', '--no-trunc', '--format', '{{.Node}}|{{.CurrentState}}|{{.Error}}', svc])).trim().split('\n').filter(Boolean).map((l) => l.split('|') as [string, string, string]);

  before(async function () {
    sweep();
    work = mkdtempSync('/tmp/tsswarm-regauth-');
    cliConfig = join(work, 'cli-config');
    mkdirSync(join(work, 'daemon-config'));
    // Every daemon: plain http to the bed's registry, and no credentials of its own to fall back on.
    await bed.boot(3, { env: { TSSWARM_INSECURE_REGISTRIES: `${bed.subnet}.1:${PORT}`, TSSWARM_CONFIG: join(work, 'daemon-config') } });
    reg = await startRegistry();
    image = `${bed.node(1).address}:${PORT}/private/busybox:1`;
    const src = await ImageStore.open(join(work, 'src'));
    await importBusyboxImage(src);
    await src.tag('busybox', `${reg.host}/private/busybox:1`);
    await pushImage(src, `${reg.host}/private/busybox:1`, { credentials: new CredentialStore(join(work, 'none.json')) });
    proxy = await startProxy(reg.host, { hook: basicAuthHook('alice', 's3cret'), socketPath: join(work, 'proxy.sock') });
    fwd = await forwarder(bed.node(1).netns, bed.node(1).address, join(work, 'proxy.sock'));
    await must(1, ['swarm', 'init', '--advertise-addr', bed.node(1).address]);
    const token = (await must(1, ['swarm', 'join-token', '-q', 'worker'])).trim();
    for (const k of [2, 3]) await must(k, ['swarm', 'join', '--token', token, '--advertise-addr', bed.node(k).address, `${bed.node(1).address}:2377`]);
    await until('3 ready nodes', async () => ((await must(1, ['node', 'ls', '--format', '{{.Status}}'])).split('\n').filter((l) => l === 'Ready').length === 3 ? true : undefined));
  });

  after(async function () {
    await bed.teardown();
    fwd?.kill('SIGKILL');
    await proxy?.stop();
    await reg?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('a worker refuses the private image without credentials, and says why', async function () {
    await must(1, ['service', 'create', '-d', '--name', 'noauth', '--constraint', `node.hostname==${bed.node(2).name}`, image, 'sleep', '3600']);
    const failed = await until('noauth rejected on node 2', async () => (await tasks('noauth')).find(([, state, err]) => /^Rejected/.test(state) && err) ?? undefined);
    assert.match(failed[2], /unauthorized|authentication required/, `the error names the refusal (got "${failed[2]}")`);
    assert.equal((await bed.cli(2, ['image', 'inspect', image])).code, 1, 'node 2 has no such image');
    await must(1, ['service', 'rm', 'noauth']);
  });

  it('with --with-registry-auth the workers pull it with node 1\'s login, and the credentials stay out of inspect', async function () {
    const login = await cli1(['login', '-u', 'alice', '--password-stdin', `${bed.node(1).address}:${PORT}`], 's3cret\n');
    assert.equal(login.code, 0, login.stderr);
    const create = await cli1(['service', 'create', '-d', '--with-registry-auth', '--name', 'priv', '--replicas', '2', '--replicas-max-per-node', '1', '--constraint', 'node.role==worker', image, 'sleep', '3600']);
    assert.equal(create.code, 0, create.stderr);
    const rows = await until('priv 2/2 running on the workers', async () => {
      const r = (await tasks('priv')).filter(([, state]) => state.startsWith('Running'));
      return r.length === 2 ? r : undefined;
    });
    assert.deepEqual(rows.map(([node]) => node).sort(), [bed.node(2).name, bed.node(3).name]);
    for (const k of [2, 3]) assert.equal((await bed.cli(k, ['image', 'inspect', '-f', '{{.Id}}', image])).code, 0, `node ${k} pulled the image`);
    // The auth was used by the workers, through the proxy that wants it.
    assert.ok(proxy!.log.some((l) => /^GET \/v2\/private\/busybox\/manifests\/1/.test(l)));
    const spec = await must(1, ['service', 'inspect', 'priv']);
    assert.doesNotMatch(spec, /RegistryAuth|PullOptions/, 'service inspect does not show the credentials');
    assert.ok(!spec.includes(Buffer.from('alice:s3cret').toString('base64')) && !spec.includes('s3cret'));
    await must(1, ['service', 'rm', 'priv']);
  });
});
