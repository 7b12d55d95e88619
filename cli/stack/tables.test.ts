import { strict as assert } from 'node:assert';
import type { Config, Secret, Service } from '../../api/swarm.js';
import { formatList } from '../../lib/format/index.js';
import { CONFIG_TABLE, OBJECT_HEADERS, SECRET_TABLE, goTime, labelMap, objectRows, prettyConfig, prettySecret } from './objects.js';
import { HEADERS, STACK_LS_TABLE, stackRows } from './tables.js';

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
