// Pure: compiles a validated `linux.seccomp` section to a classic BPF program (struct sock_filter[])
// for an x86_64 host, so tsbox only has to hand the bytes to seccomp(2).
//
// Layout: load the audit arch; one `jeq arch; ja block` pair per listed architecture (ja has a 32-bit
// offset, conditional jumps only 8 bits, so every far jump goes through ja); an unlisted arch gets
// KILL_PROCESS (libseccomp's bad-arch action). Each arch block loads the syscall number and tries the
// rules in order, first match wins; a rule's argument checks fall through to the next rule on mismatch.
// On x86_64, numbers with the x32 bit belong to the x32 block when x32 is listed, else are killed.
import { SECCOMP_FLAGS, type Seccomp, type SeccompAction, type SeccompRule } from './schema.js';
import { I386, X32, X86_64 } from './syscalls.js';

const AUDIT_ARCH_X86_64 = 0xc000003e;
const AUDIT_ARCH_I386 = 0x40000003;
const X32_SYSCALL_BIT = 0x40000000;

// struct seccomp_data: nr at 0, arch at 4, instruction_pointer at 8, args[6] (u64) at 16.
const OFF_NR = 0;
const OFF_ARCH = 4;
const argLo = (i: number) => 16 + 8 * i; // little-endian
const argHi = (i: number) => 20 + 8 * i;

// BPF opcodes
const LD_W_ABS = 0x20;
const ALU_AND_K = 0x54;
const JMP_JA = 0x05;
const JEQ_K = 0x15;
const JGT_K = 0x25;
const JGE_K = 0x35;
const RET_K = 0x06;

const RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

const EPERM = 1;

/** Names runc accepts; the non-x86 ones cannot occur on this host, so they add no block. */
const KNOWN_ARCHES = new Set([
  'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_RISCV64',
  'SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64',
]);

type Target = number | string; // relative offset already resolved, or a label
interface Insn {
  code: number;
  jt: Target;
  jf: Target;
  k: number;
  label?: string;
  target?: string; // ja only
}

export class SeccompCompileError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

export function actionValue(action: SeccompAction, errnoRet: number | undefined, field: string): number {
  switch (action) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return RET.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return RET.KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return RET.TRAP;
    case 'SCMP_ACT_ERRNO':
      return (RET.ERRNO | (errnoRet ?? EPERM)) >>> 0;
    case 'SCMP_ACT_TRACE':
      return (RET.TRACE | (errnoRet ?? EPERM)) >>> 0;
    case 'SCMP_ACT_LOG':
      return RET.LOG;
    case 'SCMP_ACT_ALLOW':
      return RET.ALLOW;
  }
  throw new SeccompCompileError(field, `unknown action ${String(action)}`);
}

function split64(v: number | bigint): [hi: number, lo: number] {
  const b = BigInt(v);
  if (b < 0n || b > 0xffffffffffffffffn) throw new RangeError(`${v} is not a 64-bit unsigned value`);
  return [Number(b >> 32n), Number(b & 0xffffffffn)];
}

class Emitter {
  readonly insns: Insn[] = [];
  private n = 0;
  fresh(prefix: string): string {
    return `${prefix}${this.n++}`;
  }
  label(name: string): void {
    // A label marks the next instruction; stored on a placeholder that resolve() drops.
    this.insns.push({ code: -1, jt: 0, jf: 0, k: 0, label: name });
  }
  ld(off: number): void {
    this.insns.push({ code: LD_W_ABS, jt: 0, jf: 0, k: off });
  }
  and(k: number): void {
    this.insns.push({ code: ALU_AND_K, jt: 0, jf: 0, k: k >>> 0 });
  }
  jmp(code: number, k: number, jt: Target, jf: Target): void {
    this.insns.push({ code, jt, jf, k: k >>> 0 });
  }
  ja(to: string): void {
    this.insns.push({ code: JMP_JA, jt: 0, jf: 0, k: 0, target: to });
  }
  ret(k: number): void {
    this.insns.push({ code: RET_K, jt: 0, jf: 0, k: k >>> 0 });
  }

  /** Resolves labels; conditional jumps are relative to the next instruction and must fit 8 bits. */
  resolve(): Buffer {
    const real: Insn[] = [];
    const at = new Map<string, number>();
    for (const i of this.insns) {
      if (i.code === -1) at.set(i.label!, real.length);
      else real.push(i);
    }
    const where = (t: Target, pc: number, what: string): number => {
      if (typeof t === 'number') return t;
      const dest = at.get(t);
      if (dest === undefined) throw new Error(`seccomp bpf: undefined label ${t}`);
      const off = dest - pc - 1;
      if (off < 0) throw new Error(`seccomp bpf: backward jump to ${t}`);
      if (what !== 'ja' && off > 255) throw new Error(`seccomp bpf: jump to ${t} too far (${off})`);
      return off;
    };
    if (real.length > 4096) throw new SeccompCompileError('linux.seccomp', `the filter needs ${real.length} BPF instructions, more than the kernel's 4096`);
    const buf = Buffer.alloc(real.length * 8);
    real.forEach((i, pc) => {
      let { jt, jf, k } = i;
      if (i.code === JMP_JA) k = where(i.target!, pc, 'ja');
      else {
        jt = where(jt, pc, 'j');
        jf = where(jf, pc, 'j');
      }
      buf.writeUInt16LE(i.code, pc * 8);
      buf.writeUInt8(jt as number, pc * 8 + 2);
      buf.writeUInt8(jf as number, pc * 8 + 3);
      buf.writeUInt32LE(k >>> 0, pc * 8 + 4);
    });
    return buf;
  }
}

/** Emits the argument checks of one rule: falls through when all hold, else jumps to `fail`. */
function emitArgs(e: Emitter, rule: SeccompRule, fail: string, field: string): void {
  (rule.args ?? []).forEach((a, j) => {
    const f = `${field}.args[${j}]`;
    const pass = e.fresh('pass');
    let hi: number, lo: number;
    try {
      [hi, lo] = split64(a.op === 'SCMP_CMP_MASKED_EQ' ? a.valueTwo ?? 0 : a.value);
    } catch (err) {
      throw new SeccompCompileError(f, (err as Error).message);
    }
    switch (a.op) {
      case 'SCMP_CMP_EQ':
        e.ld(argHi(a.index));
        e.jmp(JEQ_K, hi, 0, fail);
        e.ld(argLo(a.index));
        e.jmp(JEQ_K, lo, pass, fail);
        break;
      case 'SCMP_CMP_NE':
        e.ld(argHi(a.index));
        e.jmp(JEQ_K, hi, 0, pass);
        e.ld(argLo(a.index));
        e.jmp(JEQ_K, lo, fail, pass);
        break;
      case 'SCMP_CMP_MASKED_EQ': {
        // runc/libseccomp: value is the mask, valueTwo the datum compared after masking.
        if (a.valueTwo === undefined) throw new SeccompCompileError(`${f}.valueTwo`, 'SCMP_CMP_MASKED_EQ needs valueTwo (the masked value); value is the mask');
        const [mhi, mlo] = split64(a.value);
        e.ld(argHi(a.index));
        e.and(mhi);
        e.jmp(JEQ_K, hi, 0, fail);
        e.ld(argLo(a.index));
        e.and(mlo);
        e.jmp(JEQ_K, lo, pass, fail);
        break;
      }
      case 'SCMP_CMP_GT':
      case 'SCMP_CMP_GE':
        e.ld(argHi(a.index));
        e.jmp(JGT_K, hi, pass, 0);
        e.jmp(JEQ_K, hi, 0, fail);
        e.ld(argLo(a.index));
        e.jmp(a.op === 'SCMP_CMP_GT' ? JGT_K : JGE_K, lo, pass, fail);
        break;
      case 'SCMP_CMP_LT':
      case 'SCMP_CMP_LE':
        e.ld(argHi(a.index));
        e.jmp(JGT_K, hi, fail, 0);
        e.jmp(JEQ_K, hi, 0, pass);
        e.ld(argLo(a.index));
        e.jmp(a.op === 'SCMP_CMP_LT' ? JGE_K : JGT_K, lo, fail, pass);
        break;
    }
    e.label(pass);
  });
}

function emitRules(e: Emitter, s: Seccomp, table: Readonly<Record<string, number>>): void {
  e.ld(OFF_NR);
  (s.syscalls ?? []).forEach((rule, i) => {
    const field = `linux.seccomp.syscalls[${i}]`;
    const ret = actionValue(rule.action, rule.errnoRet, `${field}.action`);
    // Names this arch lacks are skipped, as libseccomp does (a profile lists several arches' names).
    for (const name of rule.names) {
      const nr = table[name];
      if (nr === undefined) continue;
      const next = e.fresh('next');
      e.jmp(JEQ_K, nr, 0, next);
      if (rule.args?.length) {
        emitArgs(e, rule, next, field);
        e.ret(ret);
        e.label(next);
        e.ld(OFF_NR); // argument checks clobbered the accumulator
      } else {
        e.ret(ret);
        e.label(next);
      }
    }
  });
  e.ret(actionValue(s.defaultAction, s.defaultErrnoRet, 'linux.seccomp.defaultAction'));
}

export interface CompiledSeccomp {
  /** struct sock_filter[] in host byte order */
  program: Buffer;
  /** SECCOMP_FILTER_FLAG_* for seccomp(SECCOMP_SET_MODE_FILTER) */
  flags: number;
}

export function compileSeccomp(s: Seccomp): CompiledSeccomp {
  const arches = s.architectures?.length ? s.architectures : ['SCMP_ARCH_X86_64'];
  arches.forEach((a, i) => {
    if (!KNOWN_ARCHES.has(a)) throw new SeccompCompileError(`linux.seccomp.architectures[${i}]`, `unknown architecture ${JSON.stringify(a)} (e.g. SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32)`);
  });
  // The native arch is always filtered, as libseccomp adds it to every filter.
  const x86_64 = true;
  const x32 = arches.includes('SCMP_ARCH_X32');
  const i386 = arches.includes('SCMP_ARCH_X86');

  const e = new Emitter();
  e.ld(OFF_ARCH);
  if (x86_64) {
    e.jmp(JEQ_K, AUDIT_ARCH_X86_64, 0, 1);
    e.ja('arch_x86_64');
  }
  if (i386) {
    e.jmp(JEQ_K, AUDIT_ARCH_I386, 0, 1);
    e.ja('arch_i386');
  }
  e.label('bad_arch');
  e.ret(RET.KILL_PROCESS);

  e.label('arch_x86_64');
  e.ld(OFF_NR);
  e.jmp(JGE_K, X32_SYSCALL_BIT, 0, 1);
  e.ja(x32 ? 'arch_x32' : 'bad_arch_2');
  emitRules(e, s, X86_64);
  if (x32) {
    e.label('arch_x32');
    emitRules(e, s, X32);
  } else {
    e.label('bad_arch_2');
    e.ret(RET.KILL_PROCESS);
  }
  if (i386) {
    e.label('arch_i386');
    emitRules(e, s, I386);
  }
  let flags = 0;
  for (const f of s.flags ?? []) flags |= SECCOMP_FLAGS[f];
  return { program: e.resolve(), flags };
}
