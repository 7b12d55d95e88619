import { strict as assert } from 'node:assert';
import type { Config, Secret, Service, Task } from '../../api/swarm.js';
import { formatList } from '../../lib/format/index.js';
import { CONFIG_TABLE, OBJECT_HEADERS, SECRET_TABLE, goTime, labelMap, objectRows, prettyConfig, prettySecret } from './objects.js';
import { displayImage, HEADERS, SERVICES_TABLE, serviceRows, STACK_LS_TABLE, stackRows, taskRows } from './tables.js';

const NOW = Date.parse('2026-12-04T12:00:00Z');
const ns = (stack: string) => ({ 'com.docker.stack.namespace': stack });

function service(
  id: string,
  name: string,
  stack: string,
  over: Partial<Service['Spec']> = {},
  status?: Service['ServiceStatus'],
  ports?: Service['Endpoint']['Ports'],
): Service {
  return {
    ID: id,
    Version: { Index: 1 },
    CreatedAt: '2026-12-04T11:00:00Z',
    UpdatedAt: '2026-12-04T11:00:00Z',
    Spec: {
      Name: name,
      Labels: ns(stack),
      TaskTemplate: { ContainerSpec: { Image: 'nginx:1.25@sha256:abcd' } },
      Mode: { Replicated: { Replicas: 2 } },
      ...over,
    },
    Endpoint: { Spec: {}, Ports: ports } as Service['Endpoint'],
    ServiceStatus: status,
  };
}

describe('stack tables', () => {
  it('stack ls: stacks by name with their service count', () => {
    const rows = stackRows([
      service('1', 'b_x', 'b'),
      service('2', 'a_x', 'a'),
      service('3', 'a_y', 'a'),
      { Spec: { Name: 'loose', TaskTemplate: { ContainerSpec: { Image: 'x' } } } },
    ]);
    assert.deepEqual(rows, [
      { Name: 'a', Services: 2 },
      { Name: 'b', Services: 1 },
    ]);
    assert.equal(formatList(undefined, rows, { defaultTable: STACK_LS_TABLE, headers: HEADERS }), 'NAME      SERVICES\na         2\nb         1\n');
  });

  it('stack services: ID, mode, replicas, image without its pinned digest, ingress ports', () => {
    const rows = serviceRows([
      service('0123456789abcdefghij', 'app_web', 'app', {}, { RunningTasks: 1, DesiredTasks: 2, CompletedTasks: 0 }, [
        { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' },
        { Protocol: 'tcp', TargetPort: 9, PublishedPort: 9, PublishMode: 'host' },
      ]),
      service('g', 'app_agent', 'app', { Mode: { Global: {} } }, { RunningTasks: 3, DesiredTasks: 3, CompletedTasks: 0 }),
      service(
        'j',
        'app_job',
        'app',
        { Mode: { ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 4 } } },
        { RunningTasks: 2, DesiredTasks: 2, CompletedTasks: 1 },
      ),
    ]);
    assert.deepEqual(rows, [
      { ID: 'g', Name: 'app_agent', Mode: 'global', Replicas: '3/3', Image: 'nginx:1.25', Ports: '' },
      { ID: 'j', Name: 'app_job', Mode: 'replicated job', Replicas: '2/2 (1/4 completed)', Image: 'nginx:1.25', Ports: '' },
      { ID: '0123456789ab', Name: 'app_web', Mode: 'replicated', Replicas: '1/2', Image: 'nginx:1.25', Ports: '*:8080->80/tcp' },
    ]);
    assert.match(
      formatList(undefined, rows, { defaultTable: SERVICES_TABLE, headers: HEADERS }).split('\n')[0]!,
      /^ID\s+NAME\s+MODE\s+REPLICAS\s+IMAGE\s+PORTS$/,
    );
    assert.equal(displayImage('nginx@sha256:abcd'), 'nginx@sha256:abcd');
    assert.equal(displayImage('localhost:5000/app:2@sha256:abcd'), 'localhost:5000/app:2');
    assert.equal(displayImage('localhost:5000/app@sha256:abcd'), 'localhost:5000/app@sha256:abcd');
  });

  it('stack ps: slot names, the newest task first with older ones indented, node names, states, errors', () => {
    const task = (id: string, slot: number, state: Task['Status']['State'], at: string, err?: string): Task => ({
      ID: id,
      Version: { Index: 1 },
      CreatedAt: at,
      UpdatedAt: at,
      Labels: {},
      Spec: { ContainerSpec: { Image: 'nginx:1.25@sha256:abcd' } },
      ServiceID: 'S',
      Slot: slot,
      NodeID: 'N1',
      Status: { Timestamp: at, State: state, Message: '', Err: err },
      DesiredState: state === 'running' ? 'running' : 'shutdown',
    });
    const rows = taskRows(
      [
        task('old1aaaaaaaaaaaa', 1, 'failed', '2026-12-04T11:00:00Z', 'task: non-zero exit (1): the process failed badly'),
        task('new1aaaaaaaaaaaa', 1, 'running', '2026-12-04T11:58:00Z'),
        task('t2', 2, 'running', '2026-12-04T11:59:00Z'),
      ],
      { S: 'app_web' },
      { N1: 'node-1' },
      NOW,
      false,
    );
    assert.deepEqual(
      rows.map((r) => [r.ID, r.Name, r.Image, r.Node, r.DesiredState, r.CurrentState, r.Error]),
      [
        ['new1aaaaaaaa', 'app_web.1', 'nginx:1.25', 'node-1', 'Running', 'Running 2 minutes ago', ''],
        ['old1aaaaaaaa', ' \\_ app_web.1', 'nginx:1.25', 'node-1', 'Shutdown', 'Failed About an hour ago', '"task: non-zero exit (1): the …"'],
        ['t2', 'app_web.2', 'nginx:1.25', 'node-1', 'Running', 'Running About a minute ago', ''],
      ],
    );
    const full = taskRows(
      [task('old1aaaaaaaaaaaa', 1, 'failed', '2026-12-04T11:00:00Z', 'a long error message that is not cut')],
      { S: 'app_web' },
      {},
      NOW,
      true,
    )[0]!;
    assert.deepEqual(
      [full.ID, full.Name, full.Image, full.Node, full.Error],
      ['old1aaaaaaaaaaaa', 'app_web.1.old1aaaaaaaaaaaa', 'nginx:1.25@sha256:abcd', 'N1', '"a long error message that is not cut"'],
    );
  });
});

describe('secret and config views', () => {
  const secret: Secret = {
    ID: 'sid',
    Version: { Index: 3 },
    CreatedAt: '2026-12-04T11:57:00.120000000Z',
    UpdatedAt: '2026-12-04T11:59:00Z',
    Spec: { Name: 'db_pw', Labels: { env: 'dev', flag: '' }, Driver: null },
  };
  const config: Config = {
    ID: 'cid',
    Version: { Index: 4 },
    CreatedAt: '2026-12-04T10:00:00Z',
    UpdatedAt: '2026-12-04T10:00:00Z',
    Spec: { Name: 'site', Data: Buffer.from('listen 80;').toString('base64') },
  };

  it("ls rows sorted by name with relative times; Docker's columns", () => {
    const rows = objectRows([config, secret], NOW);
    assert.deepEqual(
      rows.map((r) => [r.Name, r.Driver, r.CreatedAt, r.UpdatedAt, r.Labels]),
      [
        ['db_pw', '', '2 minutes ago', 'About a minute ago', 'env=dev,flag='],
        ['site', '', '2 hours ago', '2 hours ago', ''],
      ],
    );
    assert.match(
      formatList(undefined, rows, { defaultTable: SECRET_TABLE, headers: OBJECT_HEADERS }).split('\n')[0]!,
      /^ID\s+NAME\s+DRIVER\s+CREATED\s+UPDATED$/,
    );
    assert.match(formatList(undefined, rows, { defaultTable: CONFIG_TABLE, headers: OBJECT_HEADERS }).split('\n')[0]!, /^ID\s+NAME\s+CREATED\s+UPDATED$/);
  });

  it('--pretty as Docker prints it: Go time strings, sorted labels, the config data', () => {
    assert.equal(
      prettySecret(secret),
      'ID:              sid\nName:              db_pw\nLabels:\n - env=dev\n - flag\nDriver:            \nCreated at:        2026-12-04 11:57:00.12 +0000 UTC\nUpdated at:        2026-12-04 11:59:00 +0000 UTC',
    );
    assert.equal(
      prettyConfig(config),
      'ID:\t\t\tcid\nName:\t\t\tsite\nCreated at:            \t2026-12-04 10:00:00 +0000 UTC\nUpdated at:            \t2026-12-04 10:00:00 +0000 UTC\nData:\nlisten 80;',
    );
    assert.equal(goTime('2017-03-24T08:15:09.735271783Z'), '2017-03-24 08:15:09.735271783 +0000 UTC');
  });

  it('-l labels: key=value, a bare key is empty', () => {
    assert.deepEqual(labelMap(['a=1', 'b', 'c=x=y']), { a: '1', b: '', c: 'x=y' });
  });
});
