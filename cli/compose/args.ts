// Argument parsing shared by tscompose commands: repeatable options, `--opt=value` and `--opt value`.

import { FlagError, parseFlags as parseLibFlags, type FlagSpec as LibFlagSpec } from '../../lib/flags.js';

export class UsageError extends Error {}

export interface GlobalOptions {
  files: string[];
  projectName?: string;
  projectDirectory?: string;
  envFiles: string[];
  profiles: string[];
  help: boolean;
}

export interface FlagSpec {
  /** Names with their dashes: ['-f', '--file']. */
  names: string[];
  /** Takes a value. */
  value: boolean;
}

export interface Parsed {
  values: Map<string, string[]>;
  positional: string[];
}

/**
 * Parses flags until the first positional argument when `stopAtPositional` (global options precede
 * the command), or through all arguments (a command's own options may follow its arguments).
 * lib/flags.ts does the parsing, with Compose's syntax: no grouped shorts, `=` only after a long
 * name, every option repeatable, booleans take no value.
 */
export function parseFlags(argv: string[], specs: Record<string, FlagSpec>, stopAtPositional: boolean): { parsed: Parsed; rest: string[] } {
  const keyOf = new Map<string, string>();
  const libSpecs: LibFlagSpec[] = Object.entries(specs).map(([key, spec]) => {
    const long = spec.names.find((n) => n.startsWith('--'));
    const short = spec.names.find((n) => !n.startsWith('--'));
    if (!long) throw new Error(`compose flag ${key}: needs a --long name`);
    keyOf.set(long.slice(2), key);
    return { name: long.slice(2), ...(short ? { short: short.slice(1) } : {}), type: spec.value ? 'list' : 'bool' };
  });
  let res: ReturnType<typeof parseLibFlags>;
  try {
    res = parseLibFlags(argv, libSpecs, {
      stopAtPositional,
      shorts: 'literal',
      boolValue: 'refuse',
      messages: {
        unknownLong: (name) => `unknown flag: --${name}`,
        unknownShort: (_ch, arg) => `unknown flag: ${arg}`,
        needsValue: (shown) => `flag needs an argument: ${shown}`,
      },
    });
  } catch (e) {
    if (e instanceof FlagError) throw new UsageError(e.message);
    throw e;
  }
  const values = new Map<string, string[]>();
  for (const [name, v] of Object.entries(res.flags)) {
    const key = keyOf.get(name)!;
    if (Array.isArray(v)) {
      if (v.length > 0) values.set(key, v);
    } else if (v === true) values.set(key, ['true']);
  }
  if (stopAtPositional && !res.dashDash) return { parsed: { values, positional: [] }, rest: res.args };
  return { parsed: { values, positional: res.args }, rest: [] };
}

const GLOBAL: Record<string, FlagSpec> = {
  file: { names: ['-f', '--file'], value: true },
  projectName: { names: ['-p', '--project-name'], value: true },
  projectDirectory: { names: ['--project-directory'], value: true },
  envFile: { names: ['--env-file'], value: true },
  profile: { names: ['--profile'], value: true },
  help: { names: ['-h', '--help'], value: false },
};

export function parseGlobalArgs(argv: string[]): { options: GlobalOptions; rest: string[] } {
  const { parsed, rest } = parseFlags(argv, GLOBAL, true);
  const last = (k: string) => parsed.values.get(k)?.at(-1);
  return {
    options: {
      files: parsed.values.get('file') ?? [],
      projectName: last('projectName'),
      projectDirectory: last('projectDirectory'),
      envFiles: parsed.values.get('envFile') ?? [],
      profiles: (parsed.values.get('profile') ?? []).flatMap((p) => p.split(',')).filter((p) => p !== ''),
      help: parsed.values.has('help'),
    },
    rest,
  };
}
