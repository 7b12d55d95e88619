import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../lib/errors.js';
import { httpStatus } from '../agent/api/router.js';
import { checkCreateBody, parseCreateBody } from './containers.js';

const bad = (body: unknown, ...res: RegExp[]): void => {
  assert.throws(
    () => parseCreateBody(body),
    (e: unknown) => {
      assert.ok(e instanceof InvalidArgumentError && httpStatus(e) === 400, String(e));
      for (const re of res) assert.match(e.message, re);
      return true;
    },
  );
};

describe('agent/containers/create-config', () => {
  it('accepts a full Docker-style body and ignores unknown fields', () => {
    const b = parseCreateBody({
      Image: 'nginx',
      Hostname: 'web',
      Env: ['A=1'],
      Cmd: 'echo hi',
      Entrypoint: null,
      Labels: { a: 'b' },
      ExposedPorts: { '80/tcp': {} },
      Volumes: { '/data': {} },
      Healthcheck: { Test: ['CMD', 'true'], Interval: 1e9, Retries: 3 },
      MacAddress: '', // a field we do not model
      HostConfig: {
        Binds: ['v:/v'],
        Mounts: [{ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1024 } }],
        PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }], '81/tcp': null },
        RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 },
        Memory: 64 * 2 ** 20,
        CapAdd: null,
        LogConfig: { Type: 'json-file', Config: {} },
        OomKillDisable: false,
      },
      NetworkingConfig: { EndpointsConfig: { app: { Aliases: ['a'], IPAMConfig: { IPv4Address: '10.0.0.2' } }, other: null } },
    });
    assert.deepEqual(b.Cmd, ['echo hi']);
    assert.equal(b.Entrypoint, undefined);
    assert.equal(b.HostConfig?.CapAdd, undefined);
    assert.deepEqual(b.HostConfig?.PortBindings?.['81/tcp'], []);
    assert.deepEqual(b.NetworkingConfig?.EndpointsConfig?.other, {});
    assert.ok(!('MacAddress' in b));
  });

  it('errors name the field path', () => {
    bad({ Image: 'x', HostConfig: { Memory: '1g' } }, /^invalid container config: HostConfig\.Memory: expected number, received string/);
    bad({ Image: 'x', Env: ['A', 1] }, /Env\[1\]: expected string/);
    bad({ Image: 'x', HostConfig: { Mounts: [{ Type: 'nfs', Target: '/x' }] } }, /HostConfig\.Mounts\[0\]\.Type/);
    bad({ Image: 'x', HostConfig: { RestartPolicy: { Name: 'sometimes' } } }, /HostConfig\.RestartPolicy\.Name/);
    bad({ Image: 'x', StopTimeout: 1.5 }, /StopTimeout: expected int/);
    bad('nope', /\(body\)/);
  });

  it('semantic checks use Docker wording', () => {
    const msgs = (b: Parameters<typeof checkCreateBody>[0]): string => checkCreateBody(b).join('\n');
    assert.match(msgs({}), /No image specified/);
    assert.match(msgs({ Image: 'x', HostConfig: { Memory: 1000 } }), /Minimum memory limit allowed is 6MB/);
    assert.match(msgs({ Image: 'x', HostConfig: { NanoCpus: 1e9, CpuQuota: 1000 } }), /Nano CPUs and CPU Period cannot both be set/);
    assert.match(msgs({ Image: 'x', HostConfig: { RestartPolicy: { Name: 'always', MaximumRetryCount: 3 } } }), /can only be used with 'on-failure'/);
    assert.match(msgs({ Image: 'x', HostConfig: { AutoRemove: true, RestartPolicy: { Name: 'always' } } }), /can't create 'AutoRemove' container with restart policy/);
    assert.match(msgs({ Image: 'x', Healthcheck: { Interval: 10 } }), /Interval in Healthcheck cannot be less than 1ms/);
    assert.match(msgs({ Image: 'x', Healthcheck: { Test: ['RUN', 'x'] } }), /must start with NONE, CMD or CMD-SHELL/);
    assert.match(msgs({ Image: 'x', ExposedPorts: { http: {} } }), /invalid port specification: "http"/);
    assert.match(msgs({ Image: 'x', HostConfig: { Mounts: [{ Type: 'bind', Target: 'rel' }] } }), /mount path must be absolute[\s\S]*Source must not be empty/);
    assert.equal(msgs({ Image: 'x', HostConfig: { Memory: 0, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } } }), '');
  });
});
