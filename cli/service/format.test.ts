import assert from 'node:assert/strict';
import type { Service, ServiceSpec, Task, TaskState } from '../../api/swarm.js';
import { formatList } from '../../lib/format/index.js';
import {
  displayImage,
  ellipsis,
  formatLogLine,
  hasTaskContext,
  parseLogLine,
  prettyService,
  replicasText,
  servicePorts,
  serviceRows,
  SERVICE_TABLE,
  taskRows,
  TASK_TABLE,
  type LogContext,
} from './format.js';

const NOW = Date.parse('2026-12-04T12:00:00Z');
const ago = (s: number): string => new Date(NOW - s * 1000).toISOString();

const spec = (over: Partial<ServiceSpec> = {}): ServiceSpec => ({
  Name: 'web',
  TaskTemplate: { ContainerSpec: { Image: 'nginx:1.27@sha256:abcd' } },
  Mode: { Replicated: { Replicas: 3 } },
  ...over,
});

const svc = (over: Partial<Service> = {}, s: Partial<ServiceSpec> = {}): Service => ({
  ID: 'svcid0123456789abcdefghijk',
  Version: { Index: 10 },
  CreatedAt: ago(100),
  UpdatedAt: ago(50),
  Spec: spec(s),
  Endpoint: { Spec: { Mode: 'vip' } },
  ServiceStatus: { RunningTasks: 2, DesiredTasks: 3, CompletedTasks: 0 },
  ...over,
});

const task = (id: string, slot: number | undefined, state: TaskState, desired: TaskState, createdAgo: number, over: Partial<Task> = {}): Task => ({
  ID: id,
  Version: { Index: 1 },
  CreatedAt: ago(createdAgo),
  UpdatedAt: ago(createdAgo),
  Labels: {},
  Spec: { ContainerSpec: { Image: 'nginx:1.27@sha256:abcd' } },
  ServiceID: 'svcid0123456789abcdefghijk',
  ...(slot !== undefined ? { Slot: slot } : {}),
  NodeID: 'node1id',
  Status: { Timestamp: ago(5), State: state, Message: '' },
  DesiredState: desired,
  ...over,
});

describe('cli/service/format: service ls', () => {
  it('shows REPLICAS as Docker does for every mode', () => {
    assert.equal(replicasText(svc()), '2/3');
    assert.equal(replicasText(svc({}, { TaskTemplate: { ContainerSpec: { Image: 'x' }, Placement: { MaxReplicas: 1 } } })), '2/3 (max 1 per node)');
    assert.equal(
      replicasText(
        svc({ ServiceStatus: { RunningTasks: 1, DesiredTasks: 3, CompletedTasks: 3 } }, { Mode: { ReplicatedJob: { MaxConcurrent: 3, TotalCompletions: 5 } } }),
      ),
      '1/3 (3/5 completed)',
    );
    assert.equal(
      replicasText(svc({ ServiceStatus: { RunningTasks: 1, DesiredTasks: 1, CompletedTasks: 2 } }, { Mode: { GlobalJob: {} } })),
      '1/1 (2/3 completed)',
    );
    assert.equal(replicasText(svc({ ServiceStatus: undefined }, { Mode: { Global: {} } })), '0/0');
  });

  it('shows ingress ports folded into ranges, host ports not', () => {
    assert.equal(
      servicePorts([
        { Protocol: 'tcp', TargetPort: 81, PublishedPort: 8081, PublishMode: 'ingress' },
        { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' },
        { Protocol: 'udp', TargetPort: 53, PublishedPort: 53, PublishMode: 'ingress' },
        { Protocol: 'tcp', TargetPort: 90, PublishedPort: 9090, PublishMode: 'host' },
        { Protocol: 'tcp', TargetPort: 22, PublishMode: 'ingress' },
      ]),
      '*:8080-8081->80-81/tcp, *:53->53/udp',
    );
  });

  it('drops the digest of a tagged image only', () => {
    assert.equal(displayImage('nginx:1.27@sha256:abcd'), 'nginx:1.27');
    assert.equal(displayImage('nginx@sha256:abcd'), 'nginx@sha256:abcd');
    assert.equal(displayImage('reg:5000/app@sha256:abcd'), 'reg:5000/app@sha256:abcd');
    assert.equal(displayImage('reg:5000/app:v1'), 'reg:5000/app:v1');
  });

  it('renders the table sorted by name, with truncated IDs', () => {
    const out = formatList(undefined, serviceRows([svc({ ID: 'zzzzzzzzzzzzzzzzzz' }, { Name: 'worker', Mode: { Global: {} } }), svc()]), SERVICE_TABLE);
    assert.deepEqual(out.split('\n'), [
      'ID             NAME      MODE         REPLICAS   IMAGE        PORTS',
      'svcid0123456   web       replicated   2/3        nginx:1.27   ',
      'zzzzzzzzzzzz   worker    global       2/3        nginx:1.27   ',
      '',
    ]);
  });
});

describe('cli/service/format: service ps', () => {
  const ctx = { services: new Map([['svcid0123456789abcdefghijk', 'web']]), nodes: new Map([['node1id', 'node-1']]), now: NOW, trunc: true, table: true };

  it('groups the tasks of a slot, newest first, older ones indented', () => {
    const rows = taskRows(
      [
        task('t10aaaaaaaaaaaaaaaa', 10, 'running', 'running', 10),
        task('t1oldaaaaaaaaaaaaaa', 1, 'failed', 'shutdown', 60, {
          Status: { Timestamp: ago(30), State: 'failed', Message: '', Err: 'task: non-zero exit (1): the process ended badly' },
        }),
        task('t1newaaaaaaaaaaaaaa', 1, 'running', 'running', 20),
        task('t2aaaaaaaaaaaaaaaaa', 2, 'starting', 'running', 2),
      ],
      ctx,
    );
    assert.deepEqual(
      rows.map((r) => [r.ID, r.Name, r.DesiredState, r.Error]),
      [
        ['t1newaaaaaaa', 'web.1', 'Running', ''],
        ['t1oldaaaaaaa', ' \\_ web.1', 'Shutdown', '"task: non-zero exit (1): the …"'],
        ['t2aaaaaaaaaa', 'web.2', 'Running', ''],
        ['t10aaaaaaaaa', 'web.10', 'Running', ''],
      ],
    );
    assert.equal(rows[0]!.CurrentState, 'Running 5 seconds ago');
    assert.equal(rows[0]!.Node, 'node-1');
    assert.equal(rows[0]!.Image, 'nginx:1.27');
  });

  it('keeps everything with --no-trunc and indents only tables', () => {
    const err = 'x'.repeat(40);
    const rows = taskRows(
      [
        task('full-task-id-0123456789', 1, 'failed', 'shutdown', 9, { Status: { Timestamp: ago(3600), State: 'failed', Message: '', Err: err } }),
        task('b', 1, 'running', 'running', 1),
      ],
      { ...ctx, trunc: false, table: false },
    );
    assert.deepEqual(
      rows.map((r) => r.Name),
      ['web.1', 'web.1'],
    );
    assert.equal(rows[1]!.ID, 'full-task-id-0123456789');
    assert.equal(rows[1]!.Error, `"${err}"`);
    assert.equal(rows[1]!.Image, 'nginx:1.27@sha256:abcd');
    assert.equal(rows[1]!.CurrentState, 'Failed about an hour ago');
  });

  it('names global tasks by node and shows their host ports', () => {
    const [r] = taskRows(
      [
        task('g1', undefined, 'running', 'running', 1, {
          NodeID: 'node1id',
          Status: {
            Timestamp: ago(0),
            State: 'running',
            Message: '',
            PortStatus: { Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' }] },
          },
        }),
      ],
      ctx,
    );
    assert.equal(r!.Name, 'web.node1id');
    assert.equal(r!.Ports, '*:8080->80/tcp');
    assert.equal(r!.CurrentState, 'Running less than a second ago');
  });

  it('renders Docker headers', () => {
    const out = formatList(undefined, taskRows([task('t1', 1, 'running', 'running', 1)], ctx), TASK_TABLE);
    assert.match(out.split('\n')[0]!, /^ID\s+NAME\s+IMAGE\s+NODE\s+DESIRED STATE\s+CURRENT STATE\s+ERROR\s+PORTS$/);
  });

  it('cuts with an ellipsis as Docker does', () => {
    assert.equal(ellipsis('abcdef', 6), 'abcdef');
    assert.equal(ellipsis('abcdefg', 6), 'abcde…');
  });
});

describe('cli/service/format: inspect --pretty', () => {
  it('prints the fields Docker prints, in its order', () => {
    const s = svc(
      { UpdateStatus: { State: 'paused', Message: 'update paused due to failure', StartedAt: ago(60) } },
      {
        Labels: { a: '1', flag: '' },
        TaskTemplate: {
          ContainerSpec: {
            Image: 'nginx:1',
            Args: ['-g', 'daemon off;'],
            Env: ['A=1'],
            Init: true,
            Mounts: [{ Type: 'volume', Source: 'd', Target: '/data' }],
            Secrets: [{ SecretID: 's', SecretName: 'pw', File: { Name: 'pw', UID: '0', GID: '0', Mode: 0o444 } }],
          },
          Placement: { Constraints: ['node.role==worker'], Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.az' } }] },
          Resources: { Limits: { NanoCPUs: 1.5e9, MemoryBytes: 128 * 1024 ** 2 } },
          Networks: [{ Target: 'netid' }],
        },
        UpdateConfig: { Parallelism: 1, Delay: 10e9, FailureAction: 'pause', Monitor: 5e9, MaxFailureRatio: 0, Order: 'stop-first' },
        EndpointSpec: { Mode: 'vip', Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }] },
      },
    );
    const text = prettyService(s, new Map([['netid', 'front']]), NOW);
    assert.equal(
      text,
      [
        '',
        'ID:\t\tsvcid0123456789abcdefghijk',
        'Name:\t\tweb',
        'Labels:',
        ' a=1',
        ' flag',
        'Service Mode:\tReplicated',
        ' Replicas:\t3',
        'UpdateStatus:',
        ' State:\t\tpaused',
        ' Started:\tAbout a minute ago',
        ' Message:\tupdate paused due to failure',
        'Placement:',
        ' Constraints:\t[node.role==worker]',
        ' Preferences:   [spread=node.labels.az]',
        'UpdateConfig:',
        ' Parallelism:\t1',
        ' Delay:\t\t10s',
        ' On failure:\tpause',
        ' Monitoring Period: 5s',
        ' Max failure ratio: 0',
        ' Update order:      stop-first',
        'ContainerSpec:',
        ' Image:\t\tnginx:1',
        ' Args:\t\t-g daemon off; ',
        ' Env:\t\tA=1 ',
        ' Init:\t\ttrue',
        'Mounts:',
        ' Target:\t/data',
        '  Source:\td',
        '  ReadOnly:\tfalse',
        '  Type:\t\tvolume',
        'Secrets:',
        ' Target:\tpw',
        '  Source:\tpw',
        'Resources:',
        ' Limits:',
        '  CPU:\t\t1.5',
        '  Memory:\t128MiB',
        'Networks: front ',
        'Endpoint Mode:\tvip',
        'Ports:',
        ' PublishedPort = 8080',
        '  Protocol = tcp',
        '  TargetPort = 80',
        '  PublishMode = ingress',
        '',
      ].join('\n'),
    );
  });

  it('names the other modes', () => {
    assert.match(prettyService(svc({}, { Mode: { Global: {} } })), /\nService Mode:\tGlobal\n/);
    assert.match(
      prettyService(svc({}, { Mode: { ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 4 } } })),
      /Service Mode:\tReplicated Job\n Max Concurrent:\t2\n Total Completions:\t4\n/,
    );
  });
});

describe('cli/service/format: service logs', () => {
  const ctx: LogContext = {
    services: new Map([['sid', 'web']]),
    nodes: new Map([['nid', 'node-1']]),
    tasks: new Map([
      ['taskid0123456789', { ID: 'taskid0123456789', Slot: 3 }],
      ['tenid', { ID: 'tenid', Slot: 10 }],
    ]),
    noTaskIds: false,
    noTrunc: false,
    slotWidth: 2,
    details: false,
  };
  const line = 'com.docker.swarm.node.id=nid,com.docker.swarm.service.id=sid,com.docker.swarm.task.id=taskid0123456789,env%2Cx=a%20b hello world';

  it('parses the details Docker sends before each line', () => {
    assert.deepEqual(parseLogLine(line, false).details['env,x'], 'a b');
    const t = parseLogLine(`2026-12-04T12:00:00.000000000Z ${line}`, true);
    assert.equal(t.timestamp, '2026-12-04T12:00:00.000000000Z');
    assert.equal(t.message, 'hello world');
    assert.equal(hasTaskContext(line, false), true);
    assert.equal(hasTaskContext(' plain', false), false);
  });

  it('prefixes lines as Docker does, slots padded to one width', () => {
    assert.equal(formatLogLine(line, ctx, false), 'web.3.taskid012345@node-1     | hello world');
    assert.equal(formatLogLine(line.replace('taskid0123456789', 'tenid'), ctx, false), 'web.10.tenid@node-1    | hello world');
    assert.equal(formatLogLine(line, { ...ctx, noTaskIds: true }, false), 'web.3@node-1     | hello world');
    assert.equal(formatLogLine(line, { ...ctx, noTrunc: true, slotWidth: 1 }, false), 'web.3.taskid0123456789@node-1    | hello world');
    assert.equal(formatLogLine(`2026-12-04T12:00:00Z ${line}`, ctx, true), '2026-12-04T12:00:00Z web.3.taskid012345@node-1     | hello world');
    assert.equal(formatLogLine(line, { ...ctx, details: true }, false), 'web.3.taskid012345@node-1     | env,x=a b hello world');
  });
});
