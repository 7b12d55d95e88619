import assert from 'node:assert/strict';
import { compileSeccomp } from './bpf.js';
import { defaultSeccompProfile } from './default-profile.js';
import { parseSecurityOpts } from './security-opt.js';
import { seccompDirectives } from '../plan.js';
import { DEFAULT_CAPABILITIES } from '../caps.js';
import { splitAmbient } from '../caps.js';
import { X86_64 } from './syscalls.js';

/** A small classic-BPF interpreter for the subset the compiler emits, to check programs by running them. */
function runFilter(prog: Buffer, data: { nr: number; arch: number; args?: bigint[] }): number {
  const word = (off: number): number => {
    if (off === 0) return data.nr >>> 0;
    if (off === 4) return data.arch >>> 0;
    const i = Math.floor((off - 16) / 8);
    const v = data.args?.[i] ?? 0n;
    return Number((off - 16) % 8 === 0 ? v & 0xffffffffn : v >> 32n);
  };
  let a = 0;
  for (let pc = 0, steps = 0; steps < 100_000; steps++) {
    const code = prog.readUInt16LE(pc * 8), jt = prog[pc * 8 + 2]!, jf = prog[pc * 8 + 3]!, k = prog.readUInt32LE(pc * 8 + 4);
    switch (code) {
      case 0x20: a = word(k); pc++; break;
      case 0x54: a = (a & k) >>> 0; pc++; break;
      case 0x05: pc += 1 + k; break;
      case 0x15: pc += 1 + (a === k ? jt : jf); break;
      case 0x25: pc += 1 + (a > k ? jt : jf); break;
      case 0x35: pc += 1 + (a >= k ? jt : jf); break;
      case 0x06: return k;
      default: throw new Error(`unexpected opcode ${code} at ${pc}`);
    }
  }
  throw new Error('no return');
}

const X86_64_ARCH = 0xc000003e;
const I386_ARCH = 0x40000003;
const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;

describe('seccomp compiler', () => {
  const prog = compileSeccomp(defaultSeccompProfile(DEFAULT_CAPABILITIES)).program;

  it('the default profile fits the kernel limit and allows read, denies keyctl/unshare/mount with EPERM', () => {
    assert.ok(prog.length / 8 <= 4096);
    assert.equal(runFilter(prog, { nr: X86_64.read!, arch: X86_64_ARCH }), ALLOW);
    for (const n of ['keyctl', 'add_key', 'unshare', 'mount']) assert.equal(runFilter(prog, { nr: X86_64[n]!, arch: X86_64_ARCH }), EPERM, n);
  });

  it('clone: namespace flags refused, plain fork allowed; clone3 ENOSYS; personality by argument', () => {
    assert.equal(runFilter(prog, { nr: X86_64.clone!, arch: X86_64_ARCH, args: [0x11n] }), ALLOW);
    assert.equal(runFilter(prog, { nr: X86_64.clone!, arch: X86_64_ARCH, args: [0x10000000n | 0x11n] }), EPERM);
    assert.equal(runFilter(prog, { nr: X86_64.clone3!, arch: X86_64_ARCH }), 0x00050000 | 38);
    assert.equal(runFilter(prog, { nr: X86_64.personality!, arch: X86_64_ARCH, args: [0xffffffffn] }), ALLOW);
    assert.equal(runFilter(prog, { nr: X86_64.personality!, arch: X86_64_ARCH, args: [0x0040000n] }), EPERM);
  });

  it('x32 and i386 calls are filtered by their own numbers; an unlisted arch is killed', () => {
    assert.equal(runFilter(prog, { nr: 0x40000000, arch: X86_64_ARCH }), ALLOW); // x32 read
    assert.equal(runFilter(prog, { nr: 3, arch: I386_ARCH }), ALLOW); // i386 read
    assert.equal(runFilter(prog, { nr: 21, arch: I386_ARCH }), EPERM); // i386 mount
    assert.equal(runFilter(prog, { nr: 0, arch: 0xc00000b7 }), 0x80000000); // aarch64
    const only64 = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }).program;
    assert.equal(runFilter(only64, { nr: 0x40000000, arch: X86_64_ARCH }), 0x80000000);
  });

  it('64-bit argument comparisons, each operator', () => {
    const v = 0x1_0000_0005n;
    for (const [op, yes, no] of [
      ['SCMP_CMP_EQ', [v], [5n, v + 1n]],
      ['SCMP_CMP_NE', [5n, v + 1n], [v]],
      ['SCMP_CMP_GT', [v + 1n, 0x2_0000_0000n], [v, 5n, 0x1_0000_0004n]],
      ['SCMP_CMP_GE', [v, v + 1n], [v - 1n, 0xffffffffn]],
      ['SCMP_CMP_LT', [v - 1n, 5n], [v, 0x2_0000_0000n]],
      ['SCMP_CMP_LE', [v, 5n], [v + 1n, 0x1_0000_0006n]],
    ] as const) {
      const p = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: 9, args: [{ index: 2, value: Number(v), op }] }] }).program;
      for (const x of yes) assert.equal(runFilter(p, { nr: 0, arch: X86_64_ARCH, args: [0n, 0n, x] }), 0x00050009, `${op} ${x}`);
      for (const x of no) assert.equal(runFilter(p, { nr: 0, arch: X86_64_ARCH, args: [0n, 0n, x] }), ALLOW, `${op} ${x}`);
    }
    const masked = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_KILL_PROCESS', args: [{ index: 0, value: 0xf0, valueTwo: 0x30, op: 'SCMP_CMP_MASKED_EQ' }] }] }).program;
    assert.equal(runFilter(masked, { nr: 0, arch: X86_64_ARCH, args: [0x3fn] }), 0x80000000);
    assert.equal(runFilter(masked, { nr: 0, arch: X86_64_ARCH, args: [0x4fn] }), ALLOW);
  });

  it('a malformed section is refused naming the field', () => {
    assert.throws(() => seccompDirectives({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 7, value: 0, op: 'SCMP_CMP_EQ' }] }] }), /linux\.seccomp\.syscalls\[0\]\.args\[0\]\.index/);
    assert.throws(() => seccompDirectives({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_VAX'] }), /linux\.seccomp\.architectures\[0\]: unknown architecture/);
    assert.throws(() => seccompDirectives({ defaultAction: 'ALLOW' }), /linux\.seccomp\.defaultAction/);
  });
});

describe('security options', () => {
  it('seccomp and no-new-privileges forms', () => {
    assert.deepEqual(parseSecurityOpts([]), { seccomp: 'default', noNewPrivileges: false });
    assert.equal(parseSecurityOpts(['seccomp=unconfined']).seccomp, 'unconfined');
    assert.equal(parseSecurityOpts(['seccomp:unconfined', 'no-new-privileges']).noNewPrivileges, true);
    assert.equal(parseSecurityOpts(['no-new-privileges:false']).noNewPrivileges, false);
    assert.deepEqual(parseSecurityOpts(['seccomp={"defaultAction":"SCMP_ACT_LOG"}']).seccomp, { defaultAction: 'SCMP_ACT_LOG' });
  });
  it('refusals name the entry', () => {
    assert.throws(() => parseSecurityOpts(['no-new-privileges', 'apparmor=x']), /SecurityOpt\[1\]: apparmor is not supported/);
    assert.throws(() => parseSecurityOpts(['seccomp=/etc/x.json']), /SecurityOpt\[0\]: seccomp=\/etc\/x\.json: not "unconfined" nor a JSON profile/);
    assert.throws(() => parseSecurityOpts(['no-new-privileges=maybe']), /takes true or false/);
    assert.throws(() => parseSecurityOpts(['systempaths=unconfined']), /unknown security option/);
  });
});

describe('ambient capabilities', () => {
  it('keeps only those both inheritable and permitted', () => {
    assert.deepEqual(splitAmbient({ ambient: ['CAP_KILL', 'CAP_CHOWN'], inheritable: ['CAP_KILL'], permitted: ['CAP_KILL', 'CAP_CHOWN'] }), { keep: ['CAP_KILL'], skipped: ['CAP_CHOWN'] });
  });
});
