// Linux capability names and numbers (include/uapi/linux/capability.h), and Docker's default set.

export const CAPABILITIES: Readonly<Record<string, number>> = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
};

/** Docker's 14 default capabilities (moby oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Accepts "CAP_X", "X" or "x" (Docker's --cap-add style) and returns the canonical "CAP_X", or undefined. */
export function canonicalCap(name: string): string | undefined {
  const upper = name.toUpperCase();
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  return full in CAPABILITIES ? full : undefined;
}

/**
 * Docker's --cap-add/--cap-drop over a base set: "ALL" in add means every capability, "ALL" in drop
 * empties the base first (then adds apply), like moby's caps.TweakCapabilities.
 */
export function tweakCapabilities(base: readonly string[], add: readonly string[], drop: readonly string[]): string[] {
  const norm = (list: readonly string[], field: string): string[] =>
    list.map((c, i) => {
      if (c.toUpperCase() === 'ALL') return 'ALL';
      const canon = canonicalCap(c);
      if (!canon) throw new Error(`${field}[${i}]: unknown capability ${JSON.stringify(c)}`);
      return canon;
    });
  const adds = norm(add, 'capAdd');
  const drops = norm(drop, 'capDrop');
  let set = new Set<string>(drops.includes('ALL') ? [] : base);
  for (const d of drops) set.delete(d);
  if (adds.includes('ALL')) set = new Set(Object.keys(CAPABILITIES));
  for (const a of adds) if (a !== 'ALL') set.add(a);
  return [...set].sort((a, b) => (CAPABILITIES[a] ?? 0) - (CAPABILITIES[b] ?? 0));
}

/** Bit mask of a list of capability names, as a hex string for the plan (fits 64 bits). */
export function capMask(names: readonly string[]): bigint {
  let mask = 0n;
  for (const n of names) {
    const bit = CAPABILITIES[n];
    if (bit === undefined) throw new Error(`unknown capability ${JSON.stringify(n)}`);
    mask |= 1n << BigInt(bit);
  }
  return mask;
}

/**
 * The kernel raises an ambient capability only if it is permitted and inheritable; runc skips the
 * others with a warning instead of failing, and so do we (runc spec's own config lists such ones).
 */
export function splitAmbient(caps: { ambient?: string[]; inheritable?: string[]; permitted?: string[] }): { keep: string[]; skipped: string[] } {
  const inh = new Set(caps.inheritable ?? []);
  const perm = new Set(caps.permitted ?? []);
  const keep: string[] = [];
  const skipped: string[] = [];
  for (const c of caps.ambient ?? []) (inh.has(c) && perm.has(c) ? keep : skipped).push(c);
  return { keep, skipped };
}
