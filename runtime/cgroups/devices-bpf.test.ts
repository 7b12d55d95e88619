import assert from 'node:assert/strict';
import { ACC, DEFAULT_DEVICE_RULES, deviceAllowed, effectiveDevices } from './devices.js';
import { deviceProgram, encodeProgram, OP, type BpfInsn } from './devices-bpf.js';
import type { DeviceRule } from './types.js';

/** Human-readable form of the instructions this generator uses. */
function show(p: BpfInsn[]): string[] {
  return p.map((x) => {
    switch (x.code) {
      case OP.LDXW: return `r${x.dst} = *(u32 *)(r${x.src} + ${x.off})`;
      case OP.AND32_K: return `w${x.dst} &= ${x.imm}`;
      case OP.RSH32_K: return `w${x.dst} >>= ${x.imm}`;
      case OP.MOV32_X: return `w${x.dst} = w${x.src}`;
      case OP.MOV32_K: return `w${x.dst} = ${x.imm}`;
      case OP.JNE_K: return `if r${x.dst} != ${x.imm} goto +${x.off}`;
      case OP.JNE_X: return `if r${x.dst} != r${x.src} goto +${x.off}`;
      case OP.JEQ_K: return `if r${x.dst} == ${x.imm} goto +${x.off}`;
      case OP.EXIT: return 'exit';
      default: throw new Error(`unexpected opcode ${x.code}`);
    }
  });
}

/** Runs a program over a device access the way the kernel would (only the opcodes we emit). */
function run(p: BpfInsn[], type: 'c' | 'b', major: number, minor: number, access: number): number {
  const ctx = [((access << 16) | (type === 'c' ? 2 : 1)) >>> 0, major, minor];
  const r = new Array<number>(11).fill(0);
  for (let pc = 0, steps = 0; pc < p.length && steps < 10_000; pc++, steps++) {
    const x = p[pc]!;
    switch (x.code) {
      case OP.LDXW: assert.equal(x.src, 1); r[x.dst] = ctx[x.off / 4]!; break;
      case OP.AND32_K: r[x.dst] = (r[x.dst]! & x.imm) >>> 0; break;
      case OP.RSH32_K: r[x.dst] = r[x.dst]! >>> x.imm; break;
      case OP.MOV32_X: r[x.dst] = r[x.src]!; break;
      case OP.MOV32_K: r[x.dst] = x.imm >>> 0; break;
      case OP.JNE_K: if (r[x.dst] !== x.imm) pc += x.off; break;
      case OP.JNE_X: if (r[x.dst] !== r[x.src]) pc += x.off; break;
      case OP.JEQ_K: if (r[x.dst] === x.imm) pc += x.off; break;
      case OP.EXIT: return r[0]!;
      default: throw new Error(`unexpected opcode ${x.code}`);
    }
  }
  throw new Error('fell off the end of the program');
}

const PROLOGUE = [
  'r2 = *(u32 *)(r1 + 0)',
  'w2 &= 65535',
  'r3 = *(u32 *)(r1 + 0)',
  'w3 >>= 16',
  'r4 = *(u32 *)(r1 + 4)',
  'r5 = *(u32 *)(r1 + 8)',
];

describe('cgroups/devices-bpf', () => {
  it('denies everything for "deny all"', () => {
    assert.deepEqual(show(deviceProgram([{ allow: false, access: 'rwm' }])), [...PROLOGUE, 'w0 = 0', 'exit']);
    assert.deepEqual(show(deviceProgram([])), [...PROLOGUE, 'w0 = 0', 'exit']);
  });

  it('allows everything for "allow all"', () => {
    assert.deepEqual(show(deviceProgram([{ allow: true }])), [...PROLOGUE, 'w0 = 1', 'exit']);
  });

  it('emits one block per exception, skipping checks for wildcards and full access', () => {
    const p = deviceProgram([
      { allow: false },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: true, type: 'b', access: 'm' },
      { allow: true, type: 'c', major: 136, access: 'rw' },
    ]);
    assert.deepEqual(show(p), [
      ...PROLOGUE,
      // c 1:3 rwm
      'if r2 != 2 goto +4',
      'if r4 != 1 goto +3',
      'if r5 != 3 goto +2',
      'w0 = 1',
      'exit',
      // b *:* m: every requested access must be in "m"
      'if r2 != 1 goto +5',
      'w1 = w3',
      'w1 &= 1',
      'if r1 != r3 goto +2',
      'w0 = 1',
      'exit',
      // c 136:* rw
      'if r2 != 2 goto +6',
      'w1 = w3',
      'w1 &= 6',
      'if r1 != r3 goto +3',
      'if r4 != 136 goto +2',
      'w0 = 1',
      'exit',
      'w0 = 0',
      'exit',
    ]);
  });

  it('refuses on any overlapping access when the default allows', () => {
    const p = deviceProgram([{ allow: true }, { allow: false, type: 'b', major: 8, access: 'r' }]);
    assert.deepEqual(show(p), [
      ...PROLOGUE,
      'if r2 != 1 goto +6',
      'w1 = w3',
      'w1 &= 2',
      'if r1 == 0 goto +3',
      'if r4 != 8 goto +2',
      'w0 = 0',
      'exit',
      'w0 = 1',
      'exit',
    ]);
  });

  it('decides every access as the v1 kernel would', () => {
    const lists: DeviceRule[][] = [
      [{ allow: false }, ...DEFAULT_DEVICE_RULES],
      [{ allow: true }, { allow: false, type: 'b', access: 'rw' }, { allow: false, type: 'c', major: 1, minor: 1, access: 'r' }],
      [{ allow: false }, { allow: true, type: 'c', major: 1, access: 'r' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'w' }],
    ];
    for (const rules of lists) {
      const prog = deviceProgram(rules);
      const state = effectiveDevices(rules);
      for (const type of ['c', 'b'] as const) {
        for (const [major, minor] of [[1, 1], [1, 3], [1, 9], [5, 2], [8, 0], [10, 200], [136, 4], [4095, 1048575]] as const) {
          for (let access = 1; access <= 7; access++) {
            const want = deviceAllowed(state, type, major, minor, access) ? 1 : 0;
            assert.equal(run(prog, type, major, minor, access), want, `${JSON.stringify(rules)}: ${type} ${major}:${minor} access ${access}`);
          }
        }
      }
    }
    assert.equal(deviceAllowed(effectiveDevices(lists[2]!), 'c', 1, 3, ACC.r | ACC.w), false, 'r and w from two exceptions do not add up');
  });

  it('encodes struct bpf_insn little-endian, dst in the low nibble', () => {
    const buf = encodeProgram([
      { code: OP.LDXW, dst: 4, src: 1, off: 4, imm: 0 },
      { code: OP.JNE_K, dst: 5, src: 0, off: 3, imm: 200 },
      { code: OP.MOV32_K, dst: 0, src: 0, off: -2, imm: -1 },
    ]);
    assert.equal(buf.toString('hex'), '6114040000000000' + '55050300c8000000' + 'b400feffffffffff');
  });
});
