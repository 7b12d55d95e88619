// The OCI runtime-spec `linux.seccomp` section, validated at the boundary so the compiler sees plain data.
import { z } from 'zod';

export const SECCOMP_ACTIONS = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
] as const;

export const SECCOMP_OPS = [
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
] as const;

export const SECCOMP_FLAGS = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
} as const;

const u64 = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).or(z.bigint());

const action = z.enum(SECCOMP_ACTIONS);

export const seccompSchema = z.strictObject({
  defaultAction: action,
  defaultErrnoRet: z.number().int().min(0).max(4095).optional(),
  architectures: z.array(z.string()).optional(),
  flags: z.array(z.enum(Object.keys(SECCOMP_FLAGS) as [keyof typeof SECCOMP_FLAGS])).optional(),
  listenerPath: z.string().max(0, 'seccomp notify listeners are not supported').optional(),
  listenerMetadata: z.string().optional(),
  syscalls: z
    .array(
      z.strictObject({
        names: z.array(z.string().min(1)).min(1),
        action,
        errnoRet: z.number().int().min(0).max(4095).optional(),
        args: z
          .array(
            z.strictObject({
              index: z.number().int().min(0).max(5),
              value: u64,
              valueTwo: u64.optional(),
              op: z.enum(SECCOMP_OPS),
            }),
          )
          .optional(),
        // Docker's profile format carries these; they are resolved before the spec is written.
        comment: z.string().optional(),
      }),
    )
    .optional(),
});

export type Seccomp = z.infer<typeof seccompSchema>;
export type SeccompRule = NonNullable<Seccomp['syscalls']>[number];
export type SeccompAction = z.infer<typeof action>;
