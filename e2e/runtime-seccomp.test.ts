// linux.seccomp is compiled to BPF and installed by tsbox: the default profile blocks what Docker's
// blocks with EPERM, leaves busybox working, and behaves as runc (libseccomp) does with the same section.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { RuntimeEnv } from './fixtures/runtime.js';
import { RuntimeCli } from './fixtures/runtime-cli.js';
import { defaultSeccompProfile } from '../runtime/seccomp/default-profile.js';
import { DEFAULT_CAPABILITIES } from '../runtime/caps.js';

const run = promisify(execFile);
const env = new RuntimeEnv();
const cli = new RuntimeCli(env.work, env.root);
const runcRoot = `${env.root}-runc`;
const hasRunc = existsSync('/usr/sbin/runc') || existsSync('/usr/bin/runc');

// Each line: what was tried and whether it worked; stderr of the attempt is dropped (messages differ).
const PROBE = [
  'grep "^Seccomp:" /proc/self/status',
  'unshare -U true 2>/dev/null && echo userns=ok || echo userns=fail',
  'unshare -U -r unshare -m true 2>/dev/null && echo nested=ok || echo nested=fail',
  'ls / >/dev/null && echo ls=ok',
  'echo hi | sed s/hi/ho/',
  '(sleep 0 & wait) && echo fork=ok',
  'cat /proc/self/status | grep -c . >/dev/null && echo cat=ok',
].join('; ');

async function runc(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    return { ...(await run('runc', ['--root', runcRoot, ...args])), code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

describe('seccomp (e2e)', () => {
  before(async () => {
    await env.setup();
    await cli.build();
  });
  after(async () => {
    await rm(runcRoot, { recursive: true, force: true });
    await env.cleanup();
  });

  it('the default profile: mode 2, user namespaces refused, busybox works', async () => {
    const bundle = await env.bundle({ args: ['sh', '-c', PROBE] }, (s) => {
      s.linux!.seccomp = defaultSeccompProfile(DEFAULT_CAPABILITIES);
    });
    const r = await cli.run(['run', '--bundle', bundle, env.newId()]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Seccomp:\s+2$/m);
    assert.match(r.stdout, /^userns=fail$/m);
    assert.match(r.stdout, /^ls=ok$/m);
    assert.match(r.stdout, /^ho$/m);
    assert.match(r.stdout, /^fork=ok$/m);
    assert.match(r.stdout, /^cat=ok$/m);
  });

  it('without a seccomp section the same probe may create a user namespace', async () => {
    const bundle = await env.bundle({ args: ['sh', '-c', PROBE] });
    const r = await cli.run(['run', '--bundle', bundle, env.newId()]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Seccomp:\s+0$/m);
    assert.match(r.stdout, /^userns=ok$/m);
  });

  it('same result as runc for the default profile and for argument filters', async function () {
    if (!hasRunc) this.skip();
    const profiles = [
      defaultSeccompProfile(DEFAULT_CAPABILITIES),
      // ERRNO with a chosen errno, argument comparisons of each kind on personality(2)/umask(2).
      {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [
          { names: ['unshare'], action: 'SCMP_ACT_ERRNO', errnoRet: 22 },
          { names: ['umask'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0o77, op: 'SCMP_CMP_GT' }] },
          { names: ['umask'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 0, value: 0o7, valueTwo: 0o5, op: 'SCMP_CMP_MASKED_EQ' }] },
        ],
      },
    ];
    const probe = `${PROBE}; for m in 022 0777 0775 0005 0007; do umask $m 2>/dev/null && echo umask $m=ok || echo umask $m=fail; done`;
    for (const profile of profiles) {
      const bundle = await env.bundle({ args: ['sh', '-c', probe] }, (s) => {
        s.linux!.seccomp = profile;
      });
      const id = env.newId();
      const theirs = await runc(['run', '--bundle', bundle, `${id}-runc`]);
      assert.equal(theirs.code, 0, theirs.stderr);
      const ours = await cli.run(['run', '--bundle', bundle, id]);
      assert.equal(ours.code, 0, ours.stderr);
      assert.equal(ours.stdout, theirs.stdout);
    }
  });

  it('namespaces absent from linux.namespaces are inherited, the mount namespace included', async () => {
    const bundle = await env.bundle({ args: ['sh', '-c', 'readlink /proc/self/ns/mnt /proc/self/ns/uts /proc/self/ns/ipc; hostname'] }, (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type === 'pid' || n.type === 'network');
      Object.assign(s, { mounts: [], root: { path: '/', readonly: false } });
      delete s.hostname;
      Object.assign(s.linux!, { maskedPaths: [], readonlyPaths: [] });
    });
    const r = await cli.run(['run', '--bundle', bundle, env.newId()]);
    assert.equal(r.code, 0, r.stderr);
    const ours = ['mnt', 'uts', 'ipc'].map((t) => readlinkSync(`/proc/self/ns/${t}`));
    assert.deepEqual(r.stdout.trim().split('\n'), [...ours, hostname()]);
  });

  it('a malformed seccomp section is refused, naming the field', async () => {
    const bundle = await env.bundle({ args: ['true'] }, (s) => {
      s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOPE' }] };
    });
    const r = await cli.run(['run', '--bundle', bundle, env.newId()]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /linux\.seccomp\.syscalls\[0\]\.action/);
  });
});
