import assert from 'node:assert/strict';
import { DomainError } from '../../lib/errors.js';
import { createBody, parseTaskSpec, stopGraceSeconds, TaskSpecError } from './task-spec.js';

describe('agent/exec/task-spec', () => {
  it('maps a full spec onto a container create body', () => {
    const spec = parseTaskSpec({
      Image: 'busybox:latest',
      Command: ['/bin/sh', '-c'],
      Args: ['echo hi'],
      Env: ['A=1'],
      Labels: { 'com.docker.swarm.task.id': 't1' },
      Mounts: [{ Type: 'tmpfs', Target: '/scratch' }, { Type: 'volume', Source: 'data', Target: '/data', ReadOnly: true }],
      Resources: { Limits: { NanoCPUs: 500_000_000, MemoryBytes: 64 << 20, Pids: 100 } },
      StopGracePeriod: 2_500_000_000,
      Hostname: 'web-1',
    });
    assert.deepEqual(createBody(spec), {
      Image: 'busybox:latest',
      Entrypoint: ['/bin/sh', '-c'],
      Cmd: ['echo hi'],
      Env: ['A=1'],
      Labels: { 'com.docker.swarm.task.id': 't1' },
      Hostname: 'web-1',
      StopTimeout: 3,
      HostConfig: {
        Mounts: [{ Type: 'tmpfs', Target: '/scratch' }, { Type: 'volume', Source: 'data', Target: '/data', ReadOnly: true }],
        NanoCpus: 500_000_000,
        Memory: 64 << 20,
        PidsLimit: 100,
      },
    });
  });

  it('leaves the image defaults alone when the spec gives no command, and uses a 10 s grace', () => {
    const spec = parseTaskSpec({ Image: 'busybox' });
    assert.deepEqual(createBody(spec), { Image: 'busybox', StopTimeout: 10, HostConfig: {} });
    assert.equal(stopGraceSeconds({ Image: 'x', StopGracePeriod: 0 }), 0);
  });

  it('refuses a bad spec naming the field, as an invalid-argument error', () => {
    assert.throws(
      () => parseTaskSpec({ Image: '', Mounts: [{ Type: 'nfs', Target: '/x' }] }),
      (e: unknown) => e instanceof TaskSpecError && e instanceof DomainError && e.kind === 'invalid' && /Image: /.test(e.message) && /Mounts\.0\.Type: /.test(e.message),
    );
  });
});
