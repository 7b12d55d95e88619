// Device cgroup rules (OCI linux.resources.devices): validation, runc's default allow list, and an
// emulator of the v1 kernel's rule semantics that both backends use, so a rule list means the same on
// v1 (devices.allow/deny) and v2 (an eBPF program). Pure.
import { CgroupError, type DeviceRule } from './types.js';

const F = 'linux.resources.devices';

/**
 * What runc always allows (libcontainer/specconv AllowedDevices): mknod of any node, the standard
 * character devices, ptys and tun. runc appends these after the spec's rules; so does our driver,
 * which keeps bundles written for runc (whose rules are only "deny all") working here.
 */
export const DEFAULT_DEVICE_RULES: readonly DeviceRule[] = Object.freeze<DeviceRule[]>([
  { allow: true, type: 'c', major: -1, minor: -1, access: 'm' },
  { allow: true, type: 'b', major: -1, minor: -1, access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // /dev/null
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // /dev/random
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // /dev/full
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // /dev/tty
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // /dev/zero
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // /dev/urandom
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' }, // /dev/console
  { allow: true, type: 'c', major: 136, minor: -1, access: 'rwm' }, // /dev/pts/*
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // /dev/ptmx
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, // /dev/net/tun
]);

/** Wildcard major/minor. */
export const ANY = -1;

// dev_t holds a 12-bit major and a 20-bit minor; bigger numbers name no device and would not fit the
// eBPF program's 32-bit signed immediates.
const MAX_MAJOR = 4095;
const MAX_MINOR = (1 << 20) - 1;

/** Access bits, as in the kernel's struct bpf_cgroup_dev_ctx (BPF_DEVCG_ACC_*). */
export const ACC = { m: 1, r: 2, w: 4 } as const;
export const ACC_ALL = ACC.m | ACC.r | ACC.w;

export function validateDevices(rules: readonly DeviceRule[]): void {
  if (!Array.isArray(rules)) throw new CgroupError(F, 'must be a list of rules');
  rules.forEach((r, i) => {
    const field = `${F}[${i}]`;
    if (typeof r !== 'object' || r === null || typeof r.allow !== 'boolean') {
      throw new CgroupError(`${field}.allow`, 'must be true or false');
    }
    if (r.type !== undefined && !['a', 'c', 'b'].includes(r.type)) {
      throw new CgroupError(`${field}.type`, `must be "a", "c" or "b", got ${JSON.stringify(r.type)}`);
    }
    for (const [key, max] of [['major', MAX_MAJOR], ['minor', MAX_MINOR]] as const) {
      const v = r[key];
      if (v === undefined) continue;
      if (!Number.isSafeInteger(v) || v < ANY || v > max) {
        throw new CgroupError(`${field}.${key}`, `must be 0..${max}, or -1 for any, got ${v}`);
      }
    }
    if (r.access !== undefined && !/^(?!.*(.).*\1)[rwm]{1,3}$/.test(r.access)) {
      throw new CgroupError(`${field}.access`, `must be a combination of r, w, m, got ${JSON.stringify(r.access)}`);
    }
  });
  // Rules that cannot be expressed (a hole in a wildcard) are refused up front, on both versions.
  effectiveDevices(rules);
}

export function accessBits(access: string | undefined): number {
  let bits = 0;
  for (const ch of access ?? 'rwm') bits |= ACC[ch as keyof typeof ACC] ?? 0;
  return bits;
}

export function accessString(bits: number): string {
  return (bits & ACC.r ? 'r' : '') + (bits & ACC.w ? 'w' : '') + (bits & ACC.m ? 'm' : '');
}

/** An exception to the default: a device class with the access it is granted (or refused). */
export interface DeviceException {
  type: 'c' | 'b';
  /** ANY (-1) for every major. */
  major: number;
  /** ANY (-1) for every minor. */
  minor: number;
  /** ACC bits. */
  access: number;
  /** Index of the rule that introduced it, for error messages. */
  index: number;
}

/** The state a rule list leaves a device cgroup in: a default plus exceptions, as v1 keeps it. */
export interface DeviceState {
  defaultAllow: boolean;
  exceptions: DeviceException[];
}

/**
 * Applies the rules in order from "deny all", with the v1 kernel's semantics (devcgroup_update_access):
 * type "a" resets the default and drops every exception; a rule of the opposite polarity to the default
 * adds an exception (merging access into an identical one); a rule of the same polarity removes access
 * from the exception with exactly the same type/major/minor. The kernel silently ignores a removal
 * that only partly matches a wildcard exception (e.g. deny c 1:3 after allow c *:*); like runc, that is
 * an error here, since it would leave the device allowed while the rules say otherwise.
 */
export function effectiveDevices(rules: readonly DeviceRule[]): DeviceState {
  let defaultAllow = false;
  let exceptions: DeviceException[] = [];
  rules.forEach((r, index) => {
    const type = r.type ?? 'a';
    if (type === 'a') {
      defaultAllow = r.allow;
      exceptions = [];
      return;
    }
    const major = r.major ?? ANY;
    const minor = r.minor ?? ANY;
    const access = accessBits(r.access);
    const same = exceptions.find((e) => e.type === type && e.major === major && e.minor === minor);
    if (r.allow !== defaultAllow) {
      if (same) same.access |= access;
      else exceptions.push({ type, major, minor, access, index });
      return;
    }
    const covering = exceptions.find(
      (e) =>
        e !== same && e.type === type && (e.access & access) !== 0 &&
        (e.major === ANY || e.major === major) && (e.minor === ANY || e.minor === minor),
    );
    if (covering) {
      throw new CgroupError(
        `${F}[${index}]`,
        `cannot ${r.allow ? 'allow' : 'deny'} ${ruleLine(type, major, minor, access)}: it is part of the wildcard rule ` +
          `${ruleLine(covering.type, covering.major, covering.minor, covering.access)} (${F}[${covering.index}]), ` +
          'which the kernel cannot split',
      );
    }
    if (same) {
      same.access &= ~access;
      if (same.access === 0) exceptions = exceptions.filter((e) => e !== same);
    }
  });
  return { defaultAllow, exceptions };
}

/** A rule in the kernel's devices.allow/deny syntax: "c 1:3 rwm", "b *:* m". */
export function ruleLine(type: 'a' | 'c' | 'b', major: number, minor: number, access: number): string {
  if (type === 'a') return 'a';
  const n = (v: number): string => (v === ANY ? '*' : String(v));
  return `${type} ${n(major)}:${n(minor)} ${accessString(access)}`;
}

/**
 * Whether a device access is allowed in a state, as the kernel decides it (__devcgroup_check_permission):
 * with default deny, one exception must cover the device and every requested access; with default
 * allow, any exception covering the device and any requested access refuses it.
 */
export function deviceAllowed(state: DeviceState, type: 'c' | 'b', major: number, minor: number, access: number): boolean {
  const covers = (e: DeviceException): boolean =>
    e.type === type && (e.major === ANY || e.major === major) && (e.minor === ANY || e.minor === minor);
  if (state.defaultAllow) return !state.exceptions.some((e) => covers(e) && (e.access & access) !== 0);
  return state.exceptions.some((e) => covers(e) && (access & ~e.access) === 0);
}

/** A rule as the spec schema gives it (type not yet checked). */
export interface SpecDeviceRule {
  allow: boolean;
  type?: string;
  major?: number;
  minor?: number;
  access?: string;
}

/**
 * The rules runc applies for a spec: linux.resources.devices in order, then DEFAULT_DEVICE_RULES, then
 * rwm on each node in linux.devices (the container gets those nodes, so it may use them). All on top
 * of deny-all, so a spec without rules still gets only the defaults, as under runc.
 */
export function runcDeviceRules(
  rules: readonly SpecDeviceRule[] | undefined,
  nodes: readonly { type: string; major?: number; minor?: number }[] | undefined,
): DeviceRule[] {
  const out: DeviceRule[] = (rules ?? []).map((r) => ({
    allow: r.allow,
    // Anything but a, c or b is refused by validateDevices with the field named; kept as given so it is.
    ...(r.type !== undefined ? { type: r.type as 'a' | 'c' | 'b' } : {}),
    ...(r.major !== undefined ? { major: r.major } : {}),
    ...(r.minor !== undefined ? { minor: r.minor } : {}),
    ...(r.access !== undefined ? { access: r.access } : {}),
  }));
  out.push(...DEFAULT_DEVICE_RULES.map((r) => ({ ...r })));
  for (const n of nodes ?? []) {
    // "u" (unbuffered) is a character device to the kernel; fifos ("p") need no cgroup rule.
    const type = n.type === 'b' ? 'b' : n.type === 'c' || n.type === 'u' ? 'c' : undefined;
    if (type) out.push({ allow: true, type, major: n.major ?? 0, minor: n.minor ?? 0, access: 'rwm' });
  }
  return out;
}
