// Argument parsing shared by tscompose commands: repeatable options, `--opt=value` and `--opt value`.

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
 */
export function parseFlags(argv: string[], specs: Record<string, FlagSpec>, stopAtPositional: boolean): { parsed: Parsed; rest: string[] } {
  const values = new Map<string, string[]>();
  const positional: string[] = [];
  const byName = new Map<string, [string, FlagSpec]>();
  for (const [key, spec] of Object.entries(specs)) for (const n of spec.names) byName.set(n, [key, spec]);
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i]!;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      if (stopAtPositional) return { parsed: { values, positional }, rest: argv.slice(i) };
      positional.push(arg);
      i++;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq !== -1 ? arg.slice(0, eq) : arg;
    const entry = byName.get(name);
    if (!entry) throw new UsageError(`unknown flag: ${name}`);
    const [key, spec] = entry;
    let value = 'true';
    if (spec.value) {
      if (arg.startsWith('--') && eq !== -1) value = arg.slice(eq + 1);
      else {
        if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: ${name}`);
        value = argv[++i]!;
      }
    } else if (eq !== -1) throw new UsageError(`flag does not take a value: ${name}`);
    values.set(key, [...(values.get(key) ?? []), value]);
    i++;
  }
  return { parsed: { values, positional }, rest: [] };
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
