// Device access control on the real kernel (this host: cgroup v1 devices hierarchy). With Docker's
// default capabilities a container has CAP_MKNOD, so only the devices cgroup stands between it and the
// host's disks: mknod stays allowed (b *:* m), opening the node must not be.
import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import { DEFAULT_CAPABILITIES } from '../runtime/caps.js';
import { DEFAULT_DEVICE_RULES } from '../runtime/cgroups/index.js';
import type { SpecMount } from '../runtime/spec.js';
import { RuntimeEnv, readLog } from './fixtures/runtime.js';

const env = new RuntimeEnv();

// A writable /tmp without nodev (the rootfs is read-only here), so the devices cgroup is the only
// thing that can refuse opening a node made there.
const TMP: SpecMount = { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=1777'] };

const allText = (log: { log: string }[]): string => log.map((l) => l.log).join('');

describe('runtime device access (e2e)', () => {
  before(async function () {
    if (process.getuid?.() !== 0) this.skip();
    await env.setup();
  });
  after(async () => {
    await env.cleanup();
  });

  it('lets a container mknod a host block device but not read it, while /dev/null works', async () => {
    const r = await env.run({
      mounts: [TMP],
      args: ['sh', '-c', [
        'mknod /tmp/sda b 8 0 && echo mknod-ok',
        'head -c1 /tmp/sda; echo head-rc=$?',
        'echo hi > /dev/null && cat /dev/null && echo null-ok',
        'head -c4 /dev/zero | wc -c',
        'head -c4 /dev/urandom | wc -c',
      ].join('; ')],
    });
    const text = allText(r.log);
    assert.equal(r.exit.exitCode, 0, text);
    assert.match(r.stdout, /mknod-ok/);
    assert.match(text, /head: \/tmp\/sda: Operation not permitted/);
    assert.match(r.stdout, /head-rc=1/);
    assert.match(r.stdout, /null-ok/);
    assert.match(r.stdout, /^\s*4\n\s*4\n$/m);
    // The control: with every device allowed the same open reaches the driver, which has no sda here.
    const open = await env.run({ mounts: [TMP], privileged: true, args: ['sh', '-c', 'mknod /tmp/sda b 8 0 && head -c1 /tmp/sda'] });
    assert.match(allText(open.log), /No such device or address/);
  });

  // A device that exists: /dev/kmsg (c 1:11), not on the default list. (An existing disk would not
  // do: this VM refuses opening its block devices even to root on the host.)
  describe('a character device off the default list (/dev/kmsg, c 1:11)', () => {
    const OPEN = ['sh', '-c', 'mknod /tmp/kmsg c 1 11 && (exec 3</tmp/kmsg) && echo opened'];
    // kmsg also wants CAP_SYSLOG (dmesg_restrict): granted, so only the device rules differ.
    const capabilities = [...DEFAULT_CAPABILITIES, 'CAP_SYSLOG'];
    before(function () {
      try {
        closeSync(openSync('/dev/kmsg', 'r'));
      } catch {
        this.skip();
      }
    });

    it('cannot be opened under the default rules, even with CAP_SYSLOG', async () => {
      const r = await env.run({ mounts: [TMP], args: OPEN, capabilities });
      assert.match(allText(r.log), /Operation not permitted/);
      assert.doesNotMatch(r.stdout, /opened/);
    });

    it('opens where the rules allow it: privileged, or an explicit rule', async () => {
      const privileged = await env.run({ mounts: [TMP], args: OPEN, privileged: true });
      assert.match(privileged.stdout, /opened/, allText(privileged.log));
      // As `docker run --device-cgroup-rule 'c 1:11 r'`: deny all, the defaults, then the rule.
      const ruled = await env.run({
        mounts: [TMP],
        args: OPEN,
        capabilities,
        resources: {
          devices: [{ allow: false, access: 'rwm' }, ...DEFAULT_DEVICE_RULES, { allow: true, type: 'c', major: 1, minor: 11, access: 'r' }],
        },
      });
      assert.match(ruled.stdout, /opened/, allText(ruled.log));
    });
  });

  it('enforces the defaults for a bundle whose rules are only "deny all" (as runc writes them)', async () => {
    const id = env.newId();
    const bundle = await env.bundle({ mounts: [TMP], args: ['sh', '-c', 'mknod /tmp/sda b 8 0; head -c1 /tmp/sda; echo x >/dev/null && echo null-ok'] }, (s) => {
      s.linux!.resources = { devices: [{ allow: false, access: 'rwm' }] };
    });
    await env.create(id, { bundle });
    await env.rt.start(id);
    await env.rt.wait(id);
    const log = readLog(`${env.root}/${id}/container.log`);
    await env.rt.delete(id);
    await env.assertGone(id);
    assert.match(allText(log), /Operation not permitted/);
    assert.match(allText(log), /null-ok/);
  });
});
