// The engine's default seccomp profile and HostConfig.SecurityOpt, through the CLI: one daemon on
// private dirs and socket.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { useBusyboxDaemon } from './helpers/busybox.js';

const PROBE = [
  'grep "^Seccomp:" /proc/self/status',
  'grep "^NoNewPrivs:" /proc/self/status',
  'unshare -U true 2>/dev/null && echo userns=ok || echo userns=fail',
  'ls / >/dev/null && echo ls=ok',
].join('; ');

describe('e2e: seccomp and --security-opt', function () {
  this.timeout(120_000);
  const engine = useBusyboxDaemon('/tmp/tsswarm-seccomp-');
  const cli = (args: string[]): Promise<{ stdout: string; stderr: string; code: number }> => engine.cli(args);

  it('a default container is filtered: Seccomp 2, no user namespaces, busybox works', async () => {
    const r = await cli(['run', '--rm', 'busybox', 'sh', '-c', PROBE]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Seccomp:\s+2$/m);
    assert.match(r.stdout, /^NoNewPrivs:\s+0$/m);
    assert.match(r.stdout, /^userns=fail$/m);
    assert.match(r.stdout, /^ls=ok$/m);
  });

  it('exec runs under the container\'s filter too', async () => {
    const name = `sc-exec-${process.pid}`;
    const started = await cli(['run', '-d', '--name', name, 'busybox', 'sleep', '60']);
    assert.equal(started.code, 0, started.stderr);
    try {
      const r = await cli(['exec', name, 'sh', '-c', PROBE]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^Seccomp:\s+2$/m);
      assert.match(r.stdout, /^userns=fail$/m);
    } finally {
      await cli(['rm', '-f', name]);
    }
  });

  it('seccomp=unconfined lifts the filter; --privileged too', async () => {
    for (const flags of [['--security-opt', 'seccomp=unconfined'], ['--privileged']]) {
      const r = await cli(['run', '--rm', ...flags, 'busybox', 'sh', '-c', PROBE]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^Seccomp:\s+0$/m, flags.join(' '));
      assert.match(r.stdout, /^userns=ok$/m, flags.join(' '));
    }
  });

  it('seccomp=FILE and no-new-privileges apply', async () => {
    const file = join(tmpdir(), `tsswarm-seccomp-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['unshare'], action: 'SCMP_ACT_ERRNO' }] }));
    const r = await cli(['run', '--rm', '--security-opt', `seccomp=${file}`, '--security-opt', 'no-new-privileges', 'busybox', 'sh', '-c', PROBE]).finally(() => rmSync(file, { force: true }));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Seccomp:\s+2$/m);
    assert.match(r.stdout, /^NoNewPrivs:\s+1$/m);
    assert.match(r.stdout, /^userns=fail$/m);
  });

  it('unsupported and unknown options are refused, naming the option', async () => {
    const label = await cli(['create', '--security-opt', 'label=disable', 'busybox']);
    assert.notEqual(label.code, 0);
    assert.match(label.stderr, /SecurityOpt\[0\]: label is not supported/);
    const unknown = await cli(['create', '--security-opt', 'bogus=1', 'busybox']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /unknown security option "bogus=1"/);
  });
});
