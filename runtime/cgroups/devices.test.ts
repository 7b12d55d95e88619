import assert from 'node:assert/strict';
import { buildSpec } from '../spec.js';
import { toCgroupResources } from '../driver.js';
import { ACC, accessBits, DEFAULT_DEVICE_RULES, deviceAllowed, effectiveDevices, ruleLine, runcDeviceRules, validateDevices } from './devices.js';
import { CgroupError, type DeviceRule } from './types.js';
import { deviceWrites, toV1Writes } from './v1-files.js';
import { validateResources } from './validate.js';

const RW = ACC.r | ACC.w;
const accessOf = (r: DeviceRule): number => accessBits(r.access);
const docker: DeviceRule[] = [{ allow: false, access: 'rwm' }, ...DEFAULT_DEVICE_RULES];

function rejects(rules: DeviceRule[], field: string, message: RegExp): void {
  assert.throws(
    () => validateResources({ devices: rules }),
    (e: unknown) => e instanceof CgroupError && e.field === field && message.test(e.message),
  );
}

describe('cgroups/devices', () => {
  it("holds runc's default allow list", () => {
    assert.deepEqual(DEFAULT_DEVICE_RULES.map((r) => ruleLine(r.type!, r.major!, r.minor!, ACC.m | ACC.r | ACC.w)), [
      'c *:* rwm', 'b *:* rwm', 'c 1:3 rwm', 'c 1:8 rwm', 'c 1:7 rwm', 'c 5:0 rwm', 'c 1:5 rwm', 'c 1:9 rwm',
      'c 5:1 rwm', 'c 136:* rwm', 'c 5:2 rwm', 'c 10:200 rwm',
    ]);
    assert.deepEqual(DEFAULT_DEVICE_RULES.slice(0, 2).map((r) => r.access), ['m', 'm']);
    assert.ok(DEFAULT_DEVICE_RULES.every((r) => r.allow));
  });

  it('validates each rule, naming the field', () => {
    validateDevices(docker);
    validateDevices([]);
    validateDevices([{ allow: true, type: 'c', major: 4095, minor: (1 << 20) - 1, access: 'mwr' }]);
    rejects([{ allow: false }, { allow: true, type: 'c' }, { allow: true, type: 'c', major: 1, access: 'rx' }],
      'linux.resources.devices[2].access', /^linux\.resources\.devices\[2\]\.access: must be a combination of r, w, m/);
    rejects([{ allow: true, access: '' }], 'linux.resources.devices[0].access', /combination of r, w, m/);
    rejects([{ allow: true, access: 'rr' }], 'linux.resources.devices[0].access', /combination of r, w, m/);
    rejects([{ allow: true, type: 'u' as 'c' }], 'linux.resources.devices[0].type', /"a", "c" or "b", got "u"/);
    rejects([{ allow: true, type: 'c', major: -2 }], 'linux.resources.devices[0].major', /-1 for any, got -2/);
    rejects([{ allow: true, type: 'c', major: 4096 }], 'linux.resources.devices[0].major', /0\.\.4095/);
    rejects([{ allow: true, type: 'c', minor: 1.5 }], 'linux.resources.devices[0].minor', /got 1\.5/);
    rejects([{ allow: 'yes' as unknown as boolean }], 'linux.resources.devices[0].allow', /true or false/);
  });

  it('reduces the Docker list to deny-by-default with exceptions', () => {
    const s = effectiveDevices(docker);
    assert.equal(s.defaultAllow, false);
    assert.equal(s.exceptions.length, 12);
    assert.ok(deviceAllowed(s, 'c', 1, 3, RW));
    assert.ok(deviceAllowed(s, 'c', 136, 7, RW));
    assert.ok(deviceAllowed(s, 'b', 8, 0, ACC.m), 'mknod of any node is allowed');
    assert.ok(!deviceAllowed(s, 'b', 8, 0, ACC.r), 'but not reading a disk');
    assert.ok(!deviceAllowed(s, 'c', 1, 1, ACC.r), 'nor /dev/mem');
    assert.ok(!deviceAllowed(s, 'c', 1, 1, ACC.r | ACC.m), 'access must be covered by one exception');
  });

  it('starts from deny-all, and a type "a" rule resets', () => {
    assert.deepEqual(effectiveDevices([]), { defaultAllow: false, exceptions: [] });
    const s = effectiveDevices([{ allow: true, type: 'c', major: 1, minor: 3 }, { allow: true }]);
    assert.deepEqual(s, { defaultAllow: true, exceptions: [] });
    // "a" with numbers is still a reset, as the kernel reads only the first letter.
    assert.deepEqual(effectiveDevices([{ allow: true }, { allow: false, type: 'a', major: 1, minor: 1, access: 'r' }]), {
      defaultAllow: false,
      exceptions: [],
    });
  });

  it('merges and removes exceptions as the kernel does', () => {
    const merged = effectiveDevices([
      { allow: true, type: 'c', major: 1, minor: 3, access: 'r' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'w' },
      { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
      { allow: false, type: 'c', major: 1, minor: 5, access: 'w' },
      { allow: false, type: 'c', major: 1, minor: 9 }, // no such exception: nothing to do
    ]);
    assert.deepEqual(merged.exceptions.map((e) => ruleLine(e.type, e.major, e.minor, e.access)), ['c 1:3 rw', 'c 1:5 rm']);
    const gone = effectiveDevices([{ allow: true, type: 'c', major: 1, minor: 3, access: 'r' }, { allow: false, type: 'c', major: 1, minor: 3 }]);
    assert.deepEqual(gone.exceptions, []);
    // Default allow: deny rules are the exceptions, and refuse any overlapping access.
    const open = effectiveDevices([{ allow: true }, { allow: false, type: 'b', major: 8, access: 'r' }]);
    assert.ok(deviceAllowed(open, 'c', 1, 1, RW));
    assert.ok(deviceAllowed(open, 'b', 8, 0, ACC.w));
    assert.ok(!deviceAllowed(open, 'b', 8, 16, RW));
  });

  it('refuses to punch a hole in a wildcard exception, which the kernel would ignore', () => {
    rejects(
      [{ allow: false }, { allow: true, type: 'c', access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 1, access: 'r' }],
      'linux.resources.devices[2]',
      /cannot deny c 1:1 r: it is part of the wildcard rule c \*:\* rwm \(linux\.resources\.devices\[1\]\)/,
    );
    // No overlap in access: fine (c *:* m stays, c 1:1 r was never allowed).
    validateDevices([{ allow: false }, { allow: true, type: 'c', access: 'm' }, { allow: false, type: 'c', major: 1, minor: 1, access: 'r' }]);
  });

  it('turns the rules into v1 writes: a reset, then one line per exception', () => {
    assert.deepEqual(
      deviceWrites(docker).slice(0, 4).map((w) => [w.file, w.value, w.field]),
      [
        ['devices.deny', 'a', 'linux.resources.devices'],
        ['devices.allow', 'c *:* m', 'linux.resources.devices[1]'],
        ['devices.allow', 'b *:* m', 'linux.resources.devices[2]'],
        ['devices.allow', 'c 1:3 rwm', 'linux.resources.devices[3]'],
      ],
    );
    assert.deepEqual(deviceWrites([{ allow: true }, { allow: false, type: 'b', access: 'rw' }]).map((w) => [w.file, w.value]), [
      ['devices.allow', 'a'],
      ['devices.deny', 'b *:* rw'],
    ]);
    assert.deepEqual(toV1Writes({ devices: [] }, { memsw: false, currentMemoryLimit: Infinity }).devices?.map((w) => w.value), ['a']);
    assert.equal(toV1Writes({}, { memsw: false, currentMemoryLimit: Infinity }).devices, undefined);
  });

  it('composes the rules as runc does: spec rules, the defaults, then linux.devices', () => {
    const rules = runcDeviceRules([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 4, minor: 1, access: 'r' }], [
      { type: 'c', major: 10, minor: 229 },
      { type: 'u', major: 4, minor: 2 },
      { type: 'b', major: 7, minor: 0 },
      { type: 'p' },
    ]);
    assert.deepEqual(rules.slice(0, 2), [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 4, minor: 1, access: 'r' }]);
    assert.deepEqual(rules.slice(2, 14), [...DEFAULT_DEVICE_RULES]);
    assert.deepEqual(rules.slice(14).map((r) => ruleLine(r.type!, r.major!, r.minor!, accessOf(r))), ['c 10:229 rwm', 'c 4:2 rwm', 'b 7:0 rwm']);
    // No rules at all still means deny-all plus the defaults.
    assert.deepEqual(effectiveDevices(runcDeviceRules(undefined, undefined)).exceptions.length, 12);
  });

  it("gives the driver Docker's rules for a default spec, and allow-all for a privileged one", () => {
    const plain = buildSpec({ args: ['true'] });
    assert.deepEqual(plain.linux?.resources?.devices, [{ allow: false, access: 'rwm' }, ...DEFAULT_DEVICE_RULES]);
    const s = effectiveDevices(toCgroupResources(plain).devices!);
    assert.ok(!s.defaultAllow && deviceAllowed(s, 'c', 1, 3, RW) && !deviceAllowed(s, 'b', 8, 0, ACC.r));
    const priv = effectiveDevices(toCgroupResources(buildSpec({ args: ['true'], privileged: true })).devices!);
    assert.deepEqual(priv, { defaultAllow: true, exceptions: [] });
  });
});
