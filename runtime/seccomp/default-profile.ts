// The engine's default seccomp profile, after the list Docker documents: every syscall is allowed except
// the ones that profile blocks, which fail with EPERM; some come back with a capability (Docker grants
// them when the container holds it); clone may not create namespaces and clone3 fails with ENOSYS (so libc
// falls back to clone, whose flags can be inspected) unless the container has CAP_SYS_ADMIN; personality
// is limited to the harmless personas.
import type { Seccomp, SeccompRule } from './schema.js';
import { I386, X32, X86_64 } from './syscalls.js';

/** Blocked whatever the capabilities: obsolete, unimplemented, or kernel-wide with no namespace. */
const ALWAYS_BLOCKED = [
  'afs_syscall', 'create_module', 'get_kernel_syms', 'getpmsg', 'putpmsg', 'query_module', 'security', 'tuxcall',
  'uselib', 'ustat', 'vserver', 'nfsservctl', 'sysfs', '_sysctl', 'vm86', 'vm86old', 'add_key', 'keyctl',
  'request_key', 'userfaultfd', 'io_uring_setup', 'io_uring_enter', 'io_uring_register', 'kexec_file_load',
  'kexec_load', 'stime', 'lookup_dcookie', 'swapon', 'swapoff', 'fsopen', 'fsconfig', 'fsmount', 'fspick',
  'open_tree', 'move_mount', 'mount_setattr', 'clone', 'clone3', 'personality',
];

/** Syscalls a capability gives back (Docker's "includes: caps" rules). */
export const CAPABILITY_SYSCALLS: Readonly<Record<string, readonly string[]>> = {
  CAP_SYS_ADMIN: [
    'bpf', 'fanotify_init', 'lookup_dcookie', 'mount', 'name_to_handle_at', 'perf_event_open', 'quotactl',
    'quotactl_fd', 'setdomainname', 'sethostname', 'setns', 'syslog', 'umount', 'umount2', 'unshare', 'pivot_root',
    'fsopen', 'fsconfig', 'fsmount', 'fspick', 'open_tree', 'move_mount', 'mount_setattr',
  ],
  CAP_SYS_BOOT: ['reboot'],
  CAP_SYS_CHROOT: ['chroot'],
  CAP_SYS_MODULE: ['delete_module', 'init_module', 'finit_module'],
  CAP_SYS_PACCT: ['acct'],
  CAP_SYS_PTRACE: ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace'],
  CAP_SYS_RAWIO: ['iopl', 'ioperm'],
  CAP_SYS_TIME: ['settimeofday', 'stime', 'clock_settime', 'clock_settime64', 'clock_adjtime', 'clock_adjtime64'],
  CAP_SYS_TTY_CONFIG: ['vhangup'],
  CAP_SYS_NICE: ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node', 'move_pages'],
  CAP_SYSLOG: ['syslog'],
  CAP_BPF: ['bpf'],
  CAP_PERFMON: ['perf_event_open'],
  CAP_DAC_READ_SEARCH: ['open_by_handle_at'],
};

const CONDITIONAL = new Set(Object.values(CAPABILITY_SYSCALLS).flat());

// Namespace flags clone must not carry without CAP_SYS_ADMIN: NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET.
const CLONE_NAMESPACE_MASK = 0x7e020000;
const ENOSYS = 38;

/** The profile for a container holding `capabilities` (bounding set names, e.g. "CAP_CHOWN"). */
export function defaultSeccompProfile(capabilities: readonly string[]): Seccomp {
  const caps = new Set(capabilities);
  const blocked = new Set([...ALWAYS_BLOCKED, ...CONDITIONAL]);
  const allowed = [...new Set([...Object.keys(X86_64), ...Object.keys(X32), ...Object.keys(I386)])].filter((n) => !blocked.has(n));
  const syscalls: SeccompRule[] = [{ names: allowed.sort(), action: 'SCMP_ACT_ALLOW' }];
  for (const persona of [0x0, 0x8, 0x20000, 0x20008, 0xffffffff])
    syscalls.push({ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: persona, op: 'SCMP_CMP_EQ' }] });
  const granted = new Set<string>();
  for (const [cap, names] of Object.entries(CAPABILITY_SYSCALLS)) if (caps.has(cap)) for (const n of names) granted.add(n);
  if (granted.size) syscalls.push({ names: [...granted].sort(), action: 'SCMP_ACT_ALLOW' });
  if (caps.has('CAP_SYS_ADMIN')) syscalls.push({ names: ['clone', 'clone3'], action: 'SCMP_ACT_ALLOW' });
  else {
    syscalls.push({ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: CLONE_NAMESPACE_MASK, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] });
    syscalls.push({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS });
  }
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls,
  };
}
