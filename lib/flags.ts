// Docker-style flag parsing: `--name value`, `--name=value`, `-n value`, grouped short booleans (`-it`),
// repeatable list flags (`-e A -e B`), and `--` to end flags. Commands such as `run IMAGE CMD…` stop at
// the first positional so that the container's own flags pass through untouched.

export type FlagType = 'bool' | 'string' | 'list' | 'int';

export interface FlagSpec {
  name: string;
  short?: string;
  type: FlagType;
  description?: string;
}

export type FlagValue = boolean | string | string[] | number | undefined;

export interface Parsed {
  flags: Record<string, FlagValue>;
  args: string[];
}

export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

export interface ParseOptions {
  /** Stop parsing flags at the first positional argument (for `run IMAGE CMD…`, `exec ID CMD…`). */
  stopAtPositional?: boolean;
  /** How many positionals to take before stopping (e.g. 1 for `exec CONTAINER CMD…`). */
  positionalsBeforeStop?: number;
}

export function parseFlags(argv: string[], specs: FlagSpec[], opts: ParseOptions = {}): Parsed {
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]));
  const flags: Record<string, FlagValue> = {};
  for (const s of specs) if (s.type === 'list') flags[s.name] = [];
  const args: string[] = [];
  const stopAfter = opts.stopAtPositional ? (opts.positionalsBeforeStop ?? 1) : Infinity;

  const set = (spec: FlagSpec, raw: string | undefined, shown: string): void => {
    switch (spec.type) {
      case 'bool':
        if (raw === undefined || raw === 'true') flags[spec.name] = true;
        else if (raw === 'false') flags[spec.name] = false;
        else throw new FlagError(`invalid argument "${raw}" for "${shown}" flag: expected true or false`);
        return;
      case 'string':
        flags[spec.name] = raw as string;
        return;
      case 'list':
        (flags[spec.name] as string[]).push(raw as string);
        return;
      case 'int': {
        const n = Number(raw);
        if (!/^-?\d+$/.test(raw as string) || !Number.isSafeInteger(n)) {
          throw new FlagError(`invalid argument "${raw}" for "${shown}" flag: expected an integer`);
        }
        flags[spec.name] = n;
        return;
      }
    }
  };

  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      i++;
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const spec = byLong.get(name);
      if (!spec) throw new FlagError(`unknown flag: --${name}`);
      let raw: string | undefined = eq >= 0 ? a.slice(eq + 1) : undefined;
      if (raw === undefined && spec.type !== 'bool') {
        if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: --${name}`);
        raw = argv[++i];
      }
      set(spec, raw, `--${name}`);
      continue;
    }
    if (a.startsWith('-') && a.length > 1 && a !== '-') {
      // Grouped shorts: every letter but the last must be a boolean; the last may take a value.
      for (let j = 1; j < a.length; j++) {
        const ch = a[j];
        const spec = byShort.get(ch);
        if (!spec) throw new FlagError(`unknown shorthand flag: '${ch}' in ${a}`);
        if (spec.type === 'bool') {
          set(spec, undefined, `-${ch}`);
          continue;
        }
        let raw = a.slice(j + 1);
        if (raw.startsWith('=')) raw = raw.slice(1);
        if (raw === '') {
          if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: '${ch}' in -${ch}`);
          raw = argv[++i];
        }
        set(spec, raw, `-${ch}`);
        break;
      }
      continue;
    }
    args.push(a);
    if (args.length >= stopAfter) {
      i++;
      break;
    }
  }
  args.push(...argv.slice(i));
  return { flags, args };
}

export function helpText(usage: string, specs: FlagSpec[]): string {
  const lines = specs.map((s) => {
    const names = s.short ? `-${s.short}, --${s.name}` : `    --${s.name}`;
    const arg = s.type === 'bool' ? '' : s.type === 'int' ? ' int' : ' string';
    return `  ${(names + arg).padEnd(30)} ${s.description ?? ''}`.trimEnd();
  });
  return `Usage:  ${usage}\n\nOptions:\n${lines.join('\n')}\n`;
}
