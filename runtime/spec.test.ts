import assert from 'node:assert/strict';
import { buildSpec, parseSpec, SpecError, validateSpec, DEFAULT_MASKED_PATHS, type Spec } from './spec.js';

function base(): Spec {
  return buildSpec({ args: ['true'] });
}

function rejects(mutate: (s: Record<string, any>) => void, field: string, msg: RegExp): void {
  // Specs are external JSON here: mutate a plain copy freely.
  const s = JSON.parse(JSON.stringify(base())) as Record<string, any>;
  mutate(s);
  assert.throws(
    () => validateSpec(s),
    (err: unknown) => {
      assert.ok(err instanceof SpecError, String(err));
      assert.equal(err.field, field);
      assert.match(err.message, msg);
      return true;
    },
  );
}

describe('runtime/spec', () => {
  it('builds a Docker-like default spec', () => {
    const s = base();
    assert.equal(s.process!.capabilities!.bounding!.length, 14);
    assert.deepEqual(s.linux!.maskedPaths, DEFAULT_MASKED_PATHS);
    assert.ok(s.linux!.readonlyPaths!.includes('/proc/sys'));
    assert.deepEqual(
      s.mounts!.map((m) => m.destination),
      ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm'],
    );
    assert.deepEqual(
      s.linux!.namespaces!.map((n) => n.type),
      ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'],
    );
    assert.equal(s.root.path, 'rootfs');
    assert.equal(s.process!.env![0]!.startsWith('PATH='), true);
  });

  it('joins a network namespace by path, or uses the host one', () => {
    const joined = buildSpec({ args: ['true'], netns: '/run/netns/x' });
    assert.deepEqual(joined.linux!.namespaces!.find((n) => n.type === 'network'), { type: 'network', path: '/run/netns/x' });
    const host = buildSpec({ args: ['true'], netns: 'host' });
    assert.equal(host.linux!.namespaces!.find((n) => n.type === 'network'), undefined);
    assert.equal(host.mounts!.find((m) => m.destination === '/sys')!.type, 'bind');
  });

  it('adds a user namespace with maps', () => {
    const s = buildSpec({ args: ['true'], userns: { hostID: 100000, size: 65536 } });
    assert.ok(s.linux!.namespaces!.some((n) => n.type === 'user'));
    assert.deepEqual(s.linux!.uidMappings, [{ containerID: 0, hostID: 100000, size: 65536 }]);
  });

  it('privileged: all capabilities, nothing masked', () => {
    const s = buildSpec({ args: ['true'], privileged: true });
    assert.equal(s.process!.capabilities!.bounding!.length, 41);
    assert.deepEqual(s.linux!.maskedPaths, []);
  });

  it('rejects JSON that does not parse', () => {
    assert.throws(() => parseSpec('{"ociVersion":', '/b/config.json'), /\/b\/config.json: not valid JSON/);
  });

  it('names the field of bad input', () => {
    rejects((s) => (s.mounts[2].type = 'weirdfs'), 'mounts[2].type', /unknown mount type "weirdfs"/);
    rejects((s) => (s.process.capabilities.bounding[1] = 'CAP_FLY'), 'process.capabilities.bounding[1]', /unknown capability "CAP_FLY"/);
    rejects((s) => (s.linux.resources.memory = { limit: -5 }), 'linux.resources.memory.limit', /-1 for unlimited/);
    rejects((s) => (s.linux.resources.pids = { limit: -2 }), 'linux.resources.pids.limit', />= 0/);
    rejects((s) => delete s.root, 'root', /expected object/);
    rejects((s) => (s.process.args = []), 'process.args', /must name a program/);
    rejects((s) => (s.process.cwd = 'relative'), 'process.cwd', /absolute/);
    rejects((s) => (s.process.rlimits = [{ type: 'RLIMIT_FOO', soft: 1, hard: 1 }]), 'process.rlimits[0].type', /unknown rlimit/);
    rejects((s) => (s.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 1 }]), 'process.rlimits[0].soft', /exceeds hard/);
    rejects((s) => (s.linux.namespaces[0].type = 'bogus'), 'linux.namespaces[0].type', /unknown namespace/);
    rejects((s) => s.linux.namespaces.push({ type: 'pid' }), 'linux.namespaces[6].type', /duplicate/);
    rejects((s) => (s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]), 'linux.uidMappings', /user namespace/);
    rejects((s) => (s.mounts[0].destination = 'proc'), 'mounts[0].destination', /absolute/);
    rejects((s) => (s.linux.resources.cpu = { quota: 10 }), 'linux.resources.cpu.quota', />= 1000/);
    rejects((s) => (s.process.env = ['NOVALUE']), 'process.env[0]', /KEY=VALUE/);
  });

  it('ignores unknown fields, as OCI requires', () => {
    const s = JSON.parse(JSON.stringify(base())) as Record<string, unknown>;
    s.solaris = { x: 1 };
    assert.equal('solaris' in validateSpec(s), false);
  });
});
