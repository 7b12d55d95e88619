// Device rules → a BPF_PROG_TYPE_CGROUP_DEVICE program for cgroup v2, which has no devices.allow file:
// the kernel runs the program on every open/mknod of a device node by a member of the group, and the
// access is refused unless it returns 1. Pure: this builds the instructions; runtime/native/tsdevbpf.c
// only loads and attaches them (Node cannot call bpf(2)).
//
// Shape (like runc's devicefilter): load the context into registers once, then one block per exception
// of the reduced rule set (see effectiveDevices), each falling through to the next on a mismatch and
// returning on a match, then the default.
import { ACC_ALL, ANY, effectiveDevices, type DeviceState } from './devices.js';
import type { DeviceRule } from './types.js';

/** One eBPF instruction (struct bpf_insn). */
export interface BpfInsn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

// Opcodes (linux/bpf_common.h, linux/bpf.h): class | op | source.
export const OP = {
  /** r_dst = *(u32 *)(r_src + off) */
  LDXW: 0x61, // BPF_LDX | BPF_MEM | BPF_W
  /** w_dst &= imm (32-bit ALU: zero-extends) */
  AND32_K: 0x54, // BPF_ALU | BPF_AND | BPF_K
  /** w_dst >>= imm */
  RSH32_K: 0x74, // BPF_ALU | BPF_RSH | BPF_K
  /** w_dst = w_src */
  MOV32_X: 0xbc, // BPF_ALU | BPF_MOV | BPF_X
  /** w_dst = imm */
  MOV32_K: 0xb4, // BPF_ALU | BPF_MOV | BPF_K
  /** if r_dst != imm goto pc+1+off */
  JNE_K: 0x55, // BPF_JMP | BPF_JNE | BPF_K
  /** if r_dst != r_src goto pc+1+off */
  JNE_X: 0x5d, // BPF_JMP | BPF_JNE | BPF_X
  /** if r_dst == imm goto pc+1+off */
  JEQ_K: 0x15, // BPF_JMP | BPF_JEQ | BPF_K
  EXIT: 0x95, // BPF_JMP | BPF_EXIT
} as const;

/** BPF_DEVCG_DEV_* */
export const DEV_TYPE = { b: 1, c: 2 } as const;

// struct bpf_cgroup_dev_ctx { u32 access_type /* access << 16 | type */; u32 major; u32 minor; }
const CTX_ACCESS_TYPE = 0;
const CTX_MAJOR = 4;
const CTX_MINOR = 8;

// Registers: r1 = context on entry (free once read), r2 = type, r3 = access, r4 = major, r5 = minor,
// r0 = return value.
const R0 = 0;
const R1 = 1;
const R2 = 2;
const R3 = 3;
const R4 = 4;
const R5 = 5;

const insn = (code: number, dst: number, src: number, off: number, imm: number): BpfInsn => ({ code, dst, src, off, imm });

/** The program for a rule list (OCI semantics, from "deny all"). */
export function deviceProgram(rules: readonly DeviceRule[]): BpfInsn[] {
  return programFor(effectiveDevices(rules));
}

export function programFor(state: DeviceState): BpfInsn[] {
  const out: BpfInsn[] = [
    insn(OP.LDXW, R2, R1, CTX_ACCESS_TYPE, 0),
    insn(OP.AND32_K, R2, 0, 0, 0xffff),
    insn(OP.LDXW, R3, R1, CTX_ACCESS_TYPE, 0),
    insn(OP.RSH32_K, R3, 0, 0, 16),
    insn(OP.LDXW, R4, R1, CTX_MAJOR, 0),
    insn(OP.LDXW, R5, R1, CTX_MINOR, 0),
  ];
  // An exception grants access when the default denies, and refuses it when the default allows.
  const verdict = state.defaultAllow ? 0 : 1;
  for (const e of state.exceptions) {
    // Jumps are built with off = -1 and pointed at the block's end once its length is known.
    const block: BpfInsn[] = [insn(OP.JNE_K, R2, 0, -1, DEV_TYPE[e.type])];
    if (e.access !== ACC_ALL) {
      block.push(insn(OP.MOV32_X, R1, R3, 0, 0), insn(OP.AND32_K, R1, 0, 0, e.access));
      // As the kernel decides for v1: an allow exception must cover every requested access
      // ((req & granted) == req); a deny exception applies when any requested access is in it.
      block.push(state.defaultAllow ? insn(OP.JEQ_K, R1, 0, -1, 0) : insn(OP.JNE_X, R1, R3, -1, 0));
    }
    if (e.major !== ANY) block.push(insn(OP.JNE_K, R4, 0, -1, e.major));
    if (e.minor !== ANY) block.push(insn(OP.JNE_K, R5, 0, -1, e.minor));
    block.push(insn(OP.MOV32_K, R0, 0, 0, verdict), insn(OP.EXIT, 0, 0, 0, 0));
    block.forEach((b, i) => {
      if (b.off === -1) b.off = block.length - 1 - i;
    });
    out.push(...block);
  }
  out.push(insn(OP.MOV32_K, R0, 0, 0, state.defaultAllow ? 1 : 0), insn(OP.EXIT, 0, 0, 0, 0));
  return out;
}

/** struct bpf_insn bytes, little-endian (x86-64, arm64): code, dst:4|src:4, s16 off, s32 imm. */
export function encodeProgram(insns: readonly BpfInsn[]): Buffer {
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach((x, i) => {
    buf.writeUInt8(x.code, i * 8);
    buf.writeUInt8(((x.src & 0xf) << 4) | (x.dst & 0xf), i * 8 + 1);
    buf.writeInt16LE(x.off, i * 8 + 2);
    buf.writeInt32LE(x.imm, i * 8 + 4);
  });
  return buf;
}
