// `service create --with-registry-auth` on the multi-node bed: one manager and two workers, a real
// docker-registry and its HTTP Basic auth proxy in node 1's network namespace at node 1's bed address.
// Only node 1's CLI logs in; the workers never do and start without the image, so a task runs there
// only if the credentials travelled with the task. Without the flag the pull is refused and the task
// says so. The API never shows the credentials (Docker's swarm ContainerSpec has no place for them),
// and an update that does not bring them keeps them, as Docker does.
// Waits are bounded by a count of polls, never timed assertions.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startProxy, startRegistry, type TestProxy, type TestRegistry } from '../../image/testing/registry.js';
import { busyboxArchive } from '../helpers/busybox.js';
import { runCli } from '../helpers/daemon.js';
import { Bed, sweep, until as untilFor } from './bed.js';

interface TaskRow {
  ID: string;
  NodeID?: string;
  DesiredState: string;
  Status: { State: string; Err?: string };
  Spec: { ContainerSpec: { Env?: string[] } };
}

const USER = 'alice';
const PASSWORD = 'tsb-regauth-pw-5e81c0';
// Fixed ports are safe: they are in node 1's own namespace. They must be known before the daemons
// start, as the daemons read their insecure (plain http) registries once, from the environment.
const REGISTRY_PORT = 5000;
const PROXY_PORT = 5001;

describe('e2e/cluster: service create --with-registry-auth on a 3-node bed', function () {
  this.timeout(300_000);
  const bed = new Bed();
  const ids: Record<number, string> = {};
  const node1Addr = `${bed.subnet}.1`;
  const proxyHost = `${node1Addr}:${PROXY_PORT}`;
  const image = `${proxyHost}/private/busybox:1`;
  let work = '';
  let reg: TestRegistry | undefined;
  let proxy: TestProxy | undefined;
  /** Node 1's CLI with its own credentials file (the only one that logs in). */
  let cli1: (args: string[], input?: string) => Promise<{ stdout: string; stderr: string; code: number }>;

  const until = <T>(what: string, check: () => Promise<T | undefined>, tries = 400): Promise<T> => untilFor(what, check, tries, 150);
  /** The manager's Engine API answer (raw text), as a Docker client would see it. */
  const apiText = (path: string): string => {
    const r = spawnSync('curl', ['-sf', '--unix-socket', bed.node(1).socket, `http://x${path}`], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`GET ${path}: curl exit ${r.status} ${r.stderr}`);
    return r.stdout;
  };
  const tasksPath = (service: string) => `/tasks?filters=${encodeURIComponent(JSON.stringify({ service: [service] }))}`;
  const tasks = async (service: string): Promise<TaskRow[]> => JSON.parse(apiText(tasksPath(service))) as TaskRow[];
  const hasImage = async (k: number): Promise<boolean> => (await bed.cli(k, ['image', 'inspect', image])).code === 0;

  before(async function () {
    sweep();
    await bed.boot(3, { env: { TSSWARM_INSECURE_REGISTRIES: `${node1Addr}:${REGISTRY_PORT},${proxyHost}` } });
    work = mkdtempSync('/tmp/tsswarm-regauth-');
    const netns = `/run/netns/${bed.node(1).netns}`;
    reg = await startRegistry({ netns, addr: node1Addr, port: REGISTRY_PORT });
    proxy = await startProxy(reg.host, { netns, addr: node1Addr, port: PROXY_PORT, basicAuth: { user: USER, password: PASSWORD } });
    assert.equal(proxy.host, proxyHost);
    // The image goes straight into the registry from node 1's daemon; only the proxy wants a login.
    const archive = await busyboxArchive(work);
    await bed.must(1, ['load', '-i', archive]);
    const direct = `${reg.host}/private/busybox:1`;
    await bed.must(1, ['tag', 'busybox:latest', direct]);
    await bed.must(1, ['push', direct]);

    const env = { ...bed.node(1).env, TSSWARM_CONFIG: join(work, 'config') };
    cli1 = (args, input) => runCli(args, env, input === undefined ? {} : { input });

    await bed.formSwarm([2, 3]);
    const nodes = await until('3 ready nodes', async () => {
      const n = JSON.parse(apiText('/nodes')) as { ID: string; Description: { Hostname: string }; Status: { State: string } }[];
      return n.length === 3 && n.every((x) => x.Status.State === 'ready') ? n : undefined;
    });
    for (const n of nodes) ids[Number(n.Description.Hostname.slice(-1))] = n.ID;
  });

  after(async function () {
    // Daemons first (their task containers go with them), then the registry they pulled from.
    try {
      await bed.teardown();
    } finally {
      await proxy?.stop();
      await reg?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    }
  });

  it('the registry refuses a pull through the proxy without credentials', async function () {
    const pull = await bed.cli(2, ['pull', image]);
    assert.equal(pull.code, 1, pull.stdout);
    assert.match(pull.stderr, /unauthorized/);
    for (const k of [2, 3]) assert.equal(await hasImage(k), false, `node ${k} starts without ${image}`);
  });

  it('with --with-registry-auth, tasks on workers that never logged in pull the image and run', async function () {
    const login = await cli1(['login', '-u', USER, '--password-stdin', proxyHost], `${PASSWORD}\n`);
    assert.equal(login.code, 0, login.stderr);
    const c = await cli1(['service', 'create', '-d', '--with-registry-auth', '--name', 'priv', '--replicas', '2', '--constraint', 'node.role==worker', image, 'sleep', '3600']);
    assert.equal(c.code, 0, c.stderr);
    const running = await until('2 priv tasks running', async () => {
      const r = (await tasks('priv')).filter((t) => t.DesiredState === 'running' && t.Status.State === 'running');
      return r.length === 2 ? r : undefined;
    });
    assert.deepEqual(running.map((t) => t.NodeID).sort(), [ids[2], ids[3]].sort(), 'one task on each worker');
    for (const k of [2, 3]) assert.equal(await hasImage(k), true, `node ${k} pulled ${image}`);
    assert.ok(proxy!.log.some((l) => l.startsWith('GET /v2/private/busybox/manifests/')), `the workers pulled through the proxy: ${proxy!.log.join(', ')}`);
  });

  it('service inspect and task inspect never show the credentials', async function () {
    const header = Buffer.from(JSON.stringify({ username: USER, password: PASSWORD, serveraddress: proxyHost })).toString('base64url');
    const svc = await bed.must(1, ['service', 'inspect', 'priv']);
    const [spec] = JSON.parse(svc) as { Spec: { TaskTemplate: { ContainerSpec: Record<string, unknown> } } }[];
    assert.match(spec!.Spec.TaskTemplate.ContainerSpec.Image as string, /private\/busybox:1/);
    assert.equal('PullOptions' in spec!.Spec.TaskTemplate.ContainerSpec, false, 'Docker\'s swarm ContainerSpec has no PullOptions');
    const tasksText = apiText(tasksPath('priv'));
    assert.ok((JSON.parse(tasksText) as unknown[]).length >= 2, 'priv has tasks to look at');
    for (const [what, text] of [['service inspect', svc], ['GET /services', apiText('/services')], ['GET /tasks', tasksText]] as const) {
      assert.ok(!text.includes(PASSWORD), `${what} shows the password`);
      assert.ok(!text.includes(header), `${what} shows the X-Registry-Auth header`);
      assert.ok(!text.includes('RegistryAuth'), `${what} shows RegistryAuth`);
    }
    // Nor does any manager's disk: the raft log and snapshots hold them only sealed under the data key.
    const raft = join(bed.node(1).dataRoot, 'swarm', 'raft');
    for (const needle of [header, PASSWORD]) {
      const found = spawnSync('grep', ['-rl', '--', needle, raft], { encoding: 'utf8' });
      assert.equal(found.stdout.trim(), '', `the manager's raft data holds ${needle === header ? 'the X-Registry-Auth header' : 'the password'} in the clear`);
    }
  });

  it('an update without --with-registry-auth keeps the credentials the service has, as Docker does', async function () {
    // Scale to none and take the image off both workers, so the update's tasks must pull again.
    assert.equal((await cli1(['service', 'scale', '-d', 'priv=0'])).code, 0);
    for (const k of [2, 3]) {
      await until(`no priv task running on node ${k}`, async () => {
        const r = await bed.cli(k, ['ps', '-q', '--filter', 'label=com.docker.swarm.task.id']);
        return r.code === 0 && r.stdout.trim() === '' ? true : undefined;
      });
      await bed.must(k, ['rmi', '-f', image]);
      assert.equal(await hasImage(k), false, `node ${k} no longer has ${image}`);
    }
    const u = await cli1(['service', 'update', '-d', '--env-add', 'TSB_STEP=2', '--replicas', '2', 'priv']);
    assert.equal(u.code, 0, u.stderr);
    let seen: TaskRow[] = [];
    const running = await until('2 updated priv tasks running', async () => {
      seen = await tasks('priv');
      const r = seen.filter((t) => t.DesiredState === 'running' && t.Status.State === 'running' && (t.Spec.ContainerSpec.Env ?? []).includes('TSB_STEP=2'));
      return r.length === 2 ? r : undefined;
    }).catch((e: Error) => {
      throw new Error(`${e.message}; the tasks' errors: ${[...new Set(seen.map((t) => t.Status.Err).filter(Boolean))].join(' | ')}`);
    });
    assert.deepEqual(running.map((t) => t.NodeID).sort(), [ids[2], ids[3]].sort());
    for (const k of [2, 3]) assert.equal(await hasImage(k), true, `node ${k} pulled ${image} again`);
  });

  it('without --with-registry-auth, a worker without the image cannot pull it and the task says why', async function () {
    assert.equal((await cli1(['service', 'rm', 'priv'])).code, 0);
    await until('priv task containers gone on node 3', async () => {
      const r = await bed.cli(3, ['ps', '-aq', '--filter', 'label=com.docker.swarm.task.id']);
      return r.code === 0 && r.stdout.trim() === '' ? true : undefined;
    });
    if (await hasImage(3)) await bed.must(3, ['rmi', '-f', image]);
    assert.equal(await hasImage(3), false, `node 3 no longer has ${image}`);

    // Node 1's CLI is still logged in: only the flag decides whether the credentials go along.
    const c = await cli1(['service', 'create', '-d', '--name', 'nocreds', '--constraint', `node.hostname==${bed.node(3).name}`, image, 'sleep', '3600']);
    assert.equal(c.code, 0, c.stderr);
    const failed = await until('a nocreds task refused its pull', async () => {
      const t = (await tasks('nocreds')).find((x) => /unauthorized|authentication/.test(x.Status.Err ?? ''));
      return t;
    });
    assert.equal(failed.NodeID, ids[3]);
    assert.match(failed.Status.Err!, new RegExp(`pull failed: .*unauthorized`));
    const ps = await bed.must(1, ['service', 'ps', '--no-trunc', 'nocreds']);
    assert.match(ps, /unauthorized: authentication required/, ps);
    assert.equal((await tasks('nocreds')).some((t) => t.Status.State === 'running'), false, 'no nocreds task runs');
    assert.equal(await hasImage(3), false, `node 3 still has no ${image}`);
  });
});
