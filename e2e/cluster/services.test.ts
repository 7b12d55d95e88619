// Services and stacks on the multi-node bed: one manager and two workers, real daemons, real task
// containers. A stack with replicated and global services, a secret and a config; scaling; rolling
// updates and a failed one rolled back; drain; a killed worker's tasks rescheduled and rebalanced back
// when it returns; secrets only on the nodes that need them and never in the clear on disk; stack rm
// leaving nothing behind. Waits are bounded by a count of polls, never timed assertions.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxArchive } from '../helpers/busybox.js';
import { ENGINE_API_SPEC, engineApiSpecPresent, shapeErrors } from '../helpers/engine-api-shapes.js';
import { Bed, sweep, until as untilFor } from './bed.js';

interface TaskRow {
  ID: string;
  Slot?: number;
  NodeID?: string;
  DesiredState: string;
  Status: { State: string; Timestamp: string; Err?: string };
  Spec: { ContainerSpec: { Image: string; Env?: string[] } };
  ServiceID: string;
}

const SECRET = 'tsb-secret-value-7f3a91c2';

describe('e2e/cluster: services and stacks on a 3-node bed', function () {
  this.timeout(300_000);
  const bed = new Bed();
  const ids: Record<number, string> = {};
  let work = '';

  const cli = async (k: number, args: string[], input?: string) => {
    if (input === undefined) return bed.cli(k, args);
    // stdin for `secret create NAME -`.
    const r = spawnSync('nsenter', [`--net=/run/netns/${bed.node(k).netns}`, process.execPath, join(process.cwd(), 'dist/tsswarm.js'), ...args], {
      input,
      encoding: 'utf8',
      env: { ...process.env, TSSWARM_HOST: `unix://${bed.node(k).socket}` },
    });
    return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
  };
  const api = async <T>(path: string): Promise<T> => {
    const r = spawnSync('curl', ['-sf', '--unix-socket', bed.node(1).socket, `http://x${path}`], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`GET ${path}: curl exit ${r.status} ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  const tasks = async (service: string): Promise<TaskRow[]> => api<TaskRow[]>(`/tasks?filters=${encodeURIComponent(JSON.stringify({ service: [service] }))}`);
  const running = async (service: string) => (await tasks(service)).filter((t) => t.DesiredState === 'running' && t.Status.State === 'running');
  const until = <T>(what: string, check: () => Promise<T | undefined>, tries = 400): Promise<T> => untilFor(what, check, tries, 150);
  /** Task containers on node k (by Docker's swarm label). */
  const taskContainers = async (k: number): Promise<string[]> => {
    const r = await bed.cli(k, ['ps', '-a', '--filter', 'label=com.docker.swarm.task.id', '--format', '{{.Names}}']);
    return r.stdout.split('\n').filter(Boolean);
  };
  const perNode = (rows: TaskRow[]): number[] => [1, 2, 3].map((k) => rows.filter((t) => t.NodeID === ids[k]).length);
  /**
   * Every file under dir (following no links) containing `needle`. Files mounted over (an overlay
   * network's namespace file) are on another device, not the data root's disk, and are skipped.
   */
  const filesContaining = (dir: string, needle: string): string[] => {
    const out: string[] = [];
    const walk = (d: string) => {
      let entries;
      try {
        entries = readdirSync(d, { withFileTypes: true });
      } catch {
        return;
      }
      const dev = statSync(d).dev;
      for (const e of entries) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile() && statSync(p).dev === dev && statSync(p).size < 64 * 1024 * 1024 && readFileSync(p).includes(needle)) out.push(p);
      }
    };
    walk(dir);
    return out;
  };
  const taskMounts = (k: number) => readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.includes(`${bed.node(k).execRoot}/swarm/tasks/`));

  before(async function () {
    sweep();
    await bed.boot(3);
    work = mkdtempSync('/tmp/tsswarm-svc-');
    const archive = await busyboxArchive(work);
    for (const k of [1, 2, 3]) assert.equal((await bed.cli(k, ['load', '-i', archive])).code, 0);
    const init = await bed.cli(1, ['swarm', 'init', '--advertise-addr', bed.node(1).address]);
    assert.equal(init.code, 0, init.stderr);
    const token = (await bed.cli(1, ['swarm', 'join-token', '-q', 'worker'])).stdout.trim();
    for (const k of [2, 3]) {
      const j = await bed.cli(k, ['swarm', 'join', '--token', token, '--advertise-addr', bed.node(k).address, `${bed.node(1).address}:2377`]);
      assert.equal(j.code, 0, j.stderr);
    }
    const nodes = await until('3 ready nodes', async () => {
      const n = await api<{ ID: string; Description: { Hostname: string }; Status: { State: string } }[]>('/nodes');
      return n.length === 3 && n.every((x) => x.Status.State === 'ready') ? n : undefined;
    });
    for (const n of nodes) ids[Number(n.Description.Hostname.slice(-1))] = n.ID;
  });
  after(async function () {
    await bed.teardown();
    rmSync(work, { recursive: true, force: true });
  });

  it('stack deploy: replicated and global services, a secret and a config, on the right nodes', async function () {
    assert.equal((await cli(1, ['secret', 'create', 'dbpass', '-'], SECRET)).code, 0);
    writeFileSync(join(work, 'app.conf'), 'listen=8080\n');
    writeFileSync(
      join(work, 'compose.yml'),
      `services:
  web:
    image: busybox:latest
    command: ["sleep", "600"]
    deploy:
      replicas: 3
      update_config: { parallelism: 2, order: start-first, monitor: 1s }
  agent:
    image: busybox:latest
    command: ["sleep", "600"]
    deploy:
      mode: global
  api:
    image: busybox:latest
    command: ["sleep", "600"]
    secrets: [dbpass]
    configs:
      - source: appconf
        target: /etc/app.conf
    deploy:
      placement:
        constraints: [node.hostname==${bed.node(2).name}]
secrets:
  dbpass:
    external: true
configs:
  appconf:
    file: ./app.conf
`,
    );
    const d = await cli(1, ['stack', 'deploy', '-c', join(work, 'compose.yml'), 'app']);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /Creating service app_web/);
    const web = await until('3 web tasks running on 3 nodes', async () => {
      const r = await running('app_web');
      return r.length === 3 ? r : undefined;
    });
    assert.deepEqual(perNode(web), [1, 1, 1]);
    const agent = await until('one agent per node', async () => {
      const r = await running('app_agent');
      return r.length === 3 ? r : undefined;
    });
    assert.deepEqual(perNode(agent), [1, 1, 1]);
    const [api1] = await until('api running', async () => {
      const r = await running('app_api');
      return r.length === 1 ? r : undefined;
    });
    assert.equal(api1!.NodeID, ids[2]);
    const name = (await taskContainers(2)).find((n) => n.startsWith('app_api.1.'))!;
    assert.ok(name, 'the api task container is named SERVICE.SLOT.TASKID');
    assert.equal((await bed.cli(2, ['exec', name, 'cat', '/run/secrets/dbpass'])).stdout, SECRET);
    assert.equal((await bed.cli(2, ['exec', name, 'cat', '/etc/app.conf'])).stdout, 'listen=8080\n');
    // The secret lives on node 2's task tmpfs only: node 3 has no task files, and no disk holds it.
    assert.equal(taskMounts(2).length, 1);
    assert.equal(taskMounts(3).length, 0);
    for (const k of [1, 2, 3]) assert.deepEqual(filesContaining(bed.node(k).dataRoot, SECRET), [], `node ${k}'s data root holds the secret in the clear`);
    assert.deepEqual(filesContaining(bed.node(3).execRoot, SECRET), []);
    const ls = await bed.cli(1, ['stack', 'ls']);
    assert.match(ls.stdout, /^app\s+3$/m);
  });

  if (engineApiSpecPresent()) {
    it('answers in Docker Engine API v1.50 shapes: Service, Task, Secret, Config, Network, Node', async function () {
      const checks: [string, unknown[]][] = [
        ['Service', await api<unknown[]>('/services?status=true')],
        ['Task', await api<unknown[]>('/tasks')],
        ['Secret', await api<unknown[]>('/secrets')],
        ['Config', await api<unknown[]>('/configs')],
        ['Network', (await api<{ Scope: string }[]>('/networks')).filter((n) => n.Scope === 'swarm')],
        ['Node', await api<unknown[]>('/nodes')],
      ];
      for (const [def, items] of checks) {
        assert.ok(items.length > 0, `some ${def} objects to check`);
        for (const it of items) assert.deepEqual(shapeErrors(def, it), [], `${def} ${JSON.stringify(it).slice(0, 200)}`);
      }
    });
  } else {
    it(`answers in Docker Engine API v1.50 shapes — skipped: the OpenAPI file is not at ${ENGINE_API_SPEC} (set ENGINE_API_SPEC to its path)`);
  }

  it('the raft WAL and snapshot on the manager hold the secret only sealed', async function () {
    const raftDir = join(bed.node(1).dataRoot, 'swarm', 'raft');
    const files = readdirSync(raftDir, { recursive: true }) as string[];
    assert.ok(files.some((f) => /wal|snap/.test(f)), `raft files present: ${files.join(', ')}`);
    assert.deepEqual(filesContaining(raftDir, SECRET), []);
    assert.deepEqual(filesContaining(raftDir, Buffer.from(SECRET).toString('base64')), []);
  });

  it('scales up and down', async function () {
    assert.equal((await bed.cli(1, ['service', 'scale', '-d', 'app_web=5'])).code, 0);
    await until('5 web tasks', async () => ((await running('app_web')).length === 5 ? true : undefined));
    assert.equal((await bed.cli(1, ['service', 'scale', '-d', 'app_web=3'])).code, 0);
    const r = await until('3 web tasks', async () => {
      const t = await tasks('app_web');
      return t.filter((x) => x.DesiredState === 'running').length === 3 && (await running('app_web')).length === 3 ? t : undefined;
    });
    assert.deepEqual(r.filter((x) => x.DesiredState === 'running').map((x) => x.Slot).sort(), [1, 2, 3]);
    // `inspect` finds swarm objects too, with or without --type (as Docker's does on a manager).
    assert.equal((await bed.must(1, ['inspect', '-f', '{{.Spec.Name}}', 'app_web'])).trim(), 'app_web');
    const task = r.find((x) => x.DesiredState === 'running')!;
    assert.equal((await bed.must(1, ['inspect', '--type', 'task', '-f', '{{.ServiceID}}', task.ID])).trim(), task.ServiceID);
    assert.equal((await bed.must(1, ['inspect', '--type', 'node', '-f', '{{.Description.Hostname}}', bed.node(2).name])).trim(), bed.node(2).name);
  });

  it('rolls an update start-first: each new task runs before its old one stops', async function () {
    // Rebalancing may move a slot's new task on after the update (legitimately): kept out of this check.
    assert.equal((await bed.cli(1, ['service', 'update', '-d', '--rebalance=false', 'app_web'])).code, 0);
    // The tasks this update replaces: one running per slot once nothing else (a rebalance) is moving.
    const replaced = await until('one running task per slot', async () => {
      const live = (await tasks('app_web')).filter((t) => t.DesiredState === 'running');
      return live.length === 3 && live.every((t) => t.Status.State === 'running') ? new Map(live.map((t) => [t.Slot!, t.ID])) : undefined;
    });
    const u = await bed.cli(1, ['service', 'update', '--env-add', 'V=2', 'app_web']);
    assert.equal(u.code, 0, u.stderr);
    const all = await until('3 updated tasks running', async () => {
      const r = await running('app_web');
      return r.length === 3 && r.every((t) => t.Spec.ContainerSpec.Env?.includes('V=2')) ? tasks('app_web') : undefined;
    });
    for (const slot of [1, 2, 3]) {
      const fresh = all.find((t) => t.Slot === slot && t.DesiredState === 'running')!;
      const old = all.find((t) => t.ID === replaced.get(slot));
      assert.ok(old && old.DesiredState === 'shutdown', `slot ${slot}: the task running before the update was shut down`);
      assert.ok(old.Status.Timestamp >= fresh.Status.Timestamp, `slot ${slot}: the old task stopped after the new one ran`);
    }
    assert.equal((await bed.cli(1, ['service', 'update', '-d', '--rebalance', 'app_web'])).code, 0);
    // The CLI returns once the tasks converged; the manager ends the update after its monitor period.
    await until('update completed', async () => ((await api<{ UpdateStatus?: { State: string } }>('/services/app_web')).UpdateStatus?.State === 'completed' ? true : undefined));
  });

  it('a failed update rolls back to the previous spec, and the service keeps running', async function () {
    const u = await bed.cli(1, ['service', 'update', '--image', 'busybox:no-such-tag', '--update-failure-action', 'rollback', '--update-order', 'stop-first', 'app_web']);
    assert.notEqual(u.code, 0, 'the CLI reports the rolled-back update');
    const s = await until('rollback completed', async () => {
      const v = await api<{ UpdateStatus?: { State: string }; Spec: { TaskTemplate: { ContainerSpec: { Image: string } } } }>('/services/app_web');
      return v.UpdateStatus?.State === 'rollback_completed' ? v : undefined;
    });
    assert.equal(s.Spec.TaskTemplate.ContainerSpec.Image, 'busybox:latest');
    const r = await until('3 tasks of the old image', async () => {
      const t = await running('app_web');
      return t.length === 3 && t.every((x) => x.Spec.ContainerSpec.Image === 'busybox:latest') ? t : undefined;
    });
    assert.equal(r.length, 3);
    const rejected = (await tasks('app_web')).filter((t) => t.Spec.ContainerSpec.Image === 'busybox:no-such-tag');
    assert.ok(rejected.some((t) => t.Status.State === 'rejected' && /no-such-tag/.test(t.Status.Err ?? '')), 'the failed task says why');
  });

  it('drain moves the tasks off a node; active takes them back', async function () {
    assert.equal((await bed.cli(1, ['node', 'update', '--availability', 'drain', ids[3]!])).code, 0);
    await until('no running task on node 3', async () => {
      const all = [...(await running('app_web')), ...(await running('app_agent'))];
      return all.every((t) => t.NodeID !== ids[3]) && (await running('app_web')).length === 3 ? true : undefined;
    });
    assert.equal((await bed.cli(1, ['node', 'update', '--availability', 'active', ids[3]!])).code, 0);
    await until('web rebalanced onto node 3', async () => {
      const w = await running('app_web');
      return w.length === 3 && perNode(w).every((n) => n === 1) && (await running('app_agent')).length === 3 ? true : undefined;
    });
  });

  it('a killed worker has its tasks rescheduled; back, it gets its share again', async function () {
    await bed.kill(3);
    await until('node 3 down and web back to 3 running elsewhere', async () => {
      const n = await api<{ ID: string; Status: { State: string } }>(`/nodes/${ids[3]}`);
      const w = await running('app_web');
      return n.Status.State === 'down' && w.filter((t) => t.NodeID !== ids[3]).length === 3 ? true : undefined;
    });
    await bed.start(3);
    const w = await until('rebalanced to one per node', async () => {
      const r = await running('app_web');
      return r.length === 3 && perNode(r).every((n) => n === 1) ? r : undefined;
    });
    assert.equal(w.length, 3);
    // The task containers node 3 ran before it died were stopped when it came back.
    const up = await bed.cli(3, ['ps', '--filter', 'label=com.docker.swarm.service.name=app_web', '--format', '{{.Names}}']);
    assert.equal(up.stdout.trim().split('\n').filter(Boolean).length, 1);
  });

  it('service logs gathers the output of every task from its node, with the task prefix', async function () {
    const c = await bed.cli(1, ['service', 'create', '-d', '--name', 'talker', '--replicas', '2', 'busybox:latest', 'sh', '-c', 'echo hello from $(hostname); echo second line; sleep 600']);
    assert.equal(c.code, 0, c.stderr);
    await until('2 talker tasks running', async () => ((await running('talker')).length === 2 ? true : undefined));
    const out = await until('both tasks logged', async () => {
      const r = await bed.cli(1, ['service', 'logs', 'talker']);
      return r.stdout.split('\n').filter((l) => /hello from/.test(l)).length === 2 ? r.stdout : undefined;
    });
    assert.match(out, /^talker\.1\.\w+@tsb\w+-node\d\s+\| hello from /m);
    assert.match(out, /^talker\.2\.\w+@tsb\w+-node\d\s+\| second line$/m);
    const tail = await bed.cli(1, ['service', 'logs', '--tail', '1', '--no-task-ids', 'talker']);
    assert.deepEqual(tail.stdout.trim().split('\n').map((l) => l.replace(/^.*\| /, '')), ['second line', 'second line']);
    assert.equal((await bed.cli(1, ['service', 'rm', 'talker'])).code, 0);
  });

  it('a failing healthcheck fails the task, which is restarted; the error says why', async function () {
    const c = await bed.cli(1, ['service', 'create', '-d', '--name', 'sick', '--health-cmd', 'exit 1', '--health-interval', '200ms', '--health-retries', '1', '--restart-delay', '0s', 'busybox:latest', 'sleep', '600']);
    assert.equal(c.code, 0, c.stderr);
    const failed = await until('an unhealthy task failed and was replaced', async () => {
      const t = await tasks('sick');
      const f = t.filter((x) => x.Status.State === 'failed');
      return f.length >= 1 && t.length >= 2 ? f : undefined;
    });
    assert.match(failed[0]!.Status.Err ?? '', /unhealthy container/);
    const ps = await bed.cli(1, ['service', 'ps', '--no-trunc', '--format', '{{.Error}}', 'sick']);
    assert.match(ps.stdout, /unhealthy container/);
    assert.equal((await bed.cli(1, ['service', 'rm', 'sick'])).code, 0);
  });

  it('stack rm leaves nothing on any node', async function () {
    const r = await bed.cli(1, ['stack', 'rm', 'app']);
    assert.equal(r.code, 0, r.stderr);
    for (const k of [1, 2, 3]) {
      await until(`no task containers on node ${k}`, async () => ((await taskContainers(k)).length === 0 ? true : undefined));
      assert.deepEqual(taskMounts(k), []);
    }
    const svcs = await api<unknown[]>('/services');
    assert.deepEqual(svcs, []);
    const nets = await api<{ Name: string }[]>('/networks');
    assert.ok(!nets.some((n) => n.Name === 'app_default'));
  });

  it('the real docker CLI drives services and stacks: service create, ps, update, rm; stack deploy, ps, rm', async function () {
    const docker = spawnSync('docker', ['--version'], { encoding: 'utf8' });
    if (docker.status !== 0) this.skip();
    const env = { ...process.env, DOCKER_HOST: `unix://${bed.node(1).socket}` };
    const run = (args: string[]) => spawnSync('docker', args, { encoding: 'utf8', env, timeout: 120_000 });
    const c = run(['service', 'create', '--name', 'dweb', '--replicas', '2', 'busybox:latest', 'sleep', '600']);
    assert.equal(c.status, 0, c.stderr);
    assert.match(c.stdout + c.stderr, /verify: Service \w+ converged/);
    const ps = run(['service', 'ps', '--format', '{{.Name}} {{.CurrentState}}', 'dweb']);
    assert.match(ps.stdout, /dweb\.1 Running/);
    assert.match(ps.stdout, /dweb\.2 Running/);
    const u = run(['service', 'update', '--env-add', 'X=1', 'dweb']);
    assert.equal(u.status, 0, u.stderr);
    const ls = run(['service', 'ls', '--format', '{{.Name}} {{.Replicas}}']);
    assert.match(ls.stdout, /dweb 2\/2/);
    assert.equal(run(['service', 'rm', 'dweb']).status, 0);
    writeFileSync(join(work, 'docker-stack.yml'), 'services:\n  app:\n    image: busybox:latest\n    command: ["sleep", "600"]\n    deploy: { replicas: 2 }\n');
    const d = run(['stack', 'deploy', '-c', join(work, 'docker-stack.yml'), 'dstack']);
    assert.equal(d.status, 0, d.stderr);
    assert.match(d.stdout, /Creating service dstack_app/);
    const sps = await until('docker stack ps shows 2 running', async () => {
      const r = run(['stack', 'ps', '--format', '{{.Name}} {{.CurrentState}}', 'dstack']);
      return (r.stdout.match(/Running/g) ?? []).length === 2 ? r.stdout : undefined;
    });
    assert.match(sps, /dstack_app\.1 Running/);
    assert.equal(run(['stack', 'rm', 'dstack']).status, 0);
    await until('dstack gone', async () => ((await api<{ Spec: { Name: string } }[]>('/services')).every((x) => !x.Spec.Name.startsWith('dstack_')) ? true : undefined));
  });
});
